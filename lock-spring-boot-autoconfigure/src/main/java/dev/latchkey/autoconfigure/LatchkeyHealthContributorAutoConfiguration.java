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

package dev.latchkey.autoconfigure;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.LatchkeyHealthIndicator;

/**
 * Auto-configuration of the {@code latchkey} health indicator
 * ({@link LatchkeyHealthIndicator}): when Spring Boot's health support is on the class
 * path, unless {@code management.health.latchkey.enabled=false}.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(LockTemplate.class)
@ConditionalOnEnabledHealthIndicator("latchkey")
public final class LatchkeyHealthContributorAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(name = "latchkeyHealthIndicator")
	LatchkeyHealthIndicator latchkeyHealthIndicator(LockTemplate lockTemplate, LatchkeyProperties properties) {
		return new LatchkeyHealthIndicator(lockTemplate, properties.getHealth().getTimeout());
	}

}
