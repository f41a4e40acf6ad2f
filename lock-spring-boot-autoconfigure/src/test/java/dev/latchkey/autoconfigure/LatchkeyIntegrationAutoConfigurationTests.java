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

import java.util.concurrent.locks.Lock;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.integration.support.locks.DefaultLockRegistry;
import org.springframework.integration.support.locks.LockRegistry;

import dev.latchkey.integration.LatchkeyLockRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LatchkeyIntegrationAutoConfiguration}: when Spring Integration gets a
 * lock registry on Latchkey. What the registry does is tested in
 * {@code dev.latchkey.integration}.
 */
class LatchkeyIntegrationAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyIntegrationAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory");

	@Test
	void withSpringIntegrationOnTheClassPathTheLockRegistryIsLatchkeys() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(LockRegistry.class);
			assertThat(context.getBean(LockRegistry.class)).isInstanceOf(LatchkeyLockRegistry.class);
			Lock lock = context.getBean(LockRegistry.class).obtain("invoice:1");
			assertThat(lock.tryLock()).isTrue();
			lock.unlock();
		});
	}

	@Test
	void theApplicationsOwnLockRegistryWins() {
		this.contextRunner.withUserConfiguration(OwnLockRegistry.class).run((context) -> {
			assertThat(context).hasSingleBean(LockRegistry.class);
			assertThat(context.getBean(LockRegistry.class)).isInstanceOf(DefaultLockRegistry.class);
		});
	}

	@Test
	void withoutSpringIntegrationThereIsNoLockRegistry() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(LockRegistry.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LatchkeyLockRegistry.class));
	}

	@Test
	void withoutLatchkeysTemplateThereIsNoLockRegistry() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(LatchkeyIntegrationAutoConfiguration.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LockRegistry.class));
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnLockRegistry {

		@Bean
		LockRegistry<?> ownLockRegistry() {
			return new DefaultLockRegistry();
		}

	}

}
