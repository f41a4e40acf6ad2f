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

import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;

import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.LocksEndpoint;

/**
 * Auto-configuration of the {@code locks} Actuator endpoint ({@link LocksEndpoint}): when
 * Actuator is on the class path and the endpoint is available (exposed, for example with
 * {@code management.endpoints.web.exposure.include=health,locks}, and not switched off).
 * Owner names, holder descriptions and keys are shown as
 * {@code management.endpoint.locks.show-values} and {@code roles} say
 * ({@link LocksEndpointProperties}).
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class)
@ConditionalOnClass(Endpoint.class)
@ConditionalOnBean(LockTemplate.class)
@ConditionalOnAvailableEndpoint(LocksEndpoint.class)
@EnableConfigurationProperties(LocksEndpointProperties.class)
public final class LocksEndpointAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	LocksEndpoint locksEndpoint(LockTemplate lockTemplate, LocksEndpointProperties endpointProperties,
			ApplicationEventPublisher eventPublisher) {
		return new LocksEndpoint(lockTemplate, endpointProperties.getShowValues(), endpointProperties.getRoles(),
				eventPublisher);
	}

}
