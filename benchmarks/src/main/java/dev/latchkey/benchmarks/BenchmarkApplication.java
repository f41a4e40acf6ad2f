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

package dev.latchkey.benchmarks;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;

/**
 * The smallest Spring Boot application that uses Latchkey the way an application does:
 * its auto-configuration, the memory backend, and an {@link Orders} bean proxied by
 * {@code LockAnnotationBeanPostProcessor}.
 */
@Configuration(proxyBeanMethods = false)
@ImportAutoConfiguration(LatchkeyAutoConfiguration.class)
public class BenchmarkApplication {

	@Bean
	Orders orders() {
		return new Orders();
	}

	/**
	 * Starts the application, without a web server and quietly.
	 * @return the started context, to close when done
	 */
	public static ConfigurableApplicationContext start() {
		return new SpringApplicationBuilder(BenchmarkApplication.class).web(WebApplicationType.NONE)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties("latchkey.backend=memory", "logging.level.root=warn")
			.run();
	}

}
