/*
 * Copyright 2026-present the original author or authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *      https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

package dev.latchkey.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * A small web application that shows what Latchkey offers, on the embedded default
 * backend: no lock server to run.
 *
 * <pre class="code">
 * curl -X POST localhost:8080/orders/42/pay      # @Exclusive, fencing token
 * curl -X POST localhost:8080/reports/2025-01    # @Semaphore with two permits
 * curl -X POST localhost:8080/inventory/apple/restock?quantity=5   # LockTemplate
 * curl localhost:8080/locks                      # held locks
 * </pre>
 * <p>
 * A scheduled cleanup job guarded by {@code @Exclusive} runs or skips every few seconds,
 * and every lock event is logged.
 */
@SpringBootApplication
@EnableScheduling
@EnableConfigurationProperties(SampleProperties.class)
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
