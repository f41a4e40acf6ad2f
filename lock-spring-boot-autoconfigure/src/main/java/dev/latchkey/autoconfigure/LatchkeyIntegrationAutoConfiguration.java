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
import org.springframework.context.annotation.Bean;
import org.springframework.integration.support.locks.LockRegistry;

import dev.latchkey.LockTemplate;
import dev.latchkey.integration.LatchkeyLockRegistry;

/**
 * Auto-configuration that gives Spring Integration a {@link LockRegistry} on Latchkey: a
 * {@link LatchkeyLockRegistry} when Spring Integration is on the class path and the
 * application has no {@link LockRegistry} of its own.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class)
@ConditionalOnClass(LockRegistry.class)
@ConditionalOnBean(LockTemplate.class)
public final class LatchkeyIntegrationAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(LockRegistry.class)
	LatchkeyLockRegistry latchkeyLockRegistry(LockTemplate lockTemplate) {
		return new LatchkeyLockRegistry(lockTemplate);
	}

}
