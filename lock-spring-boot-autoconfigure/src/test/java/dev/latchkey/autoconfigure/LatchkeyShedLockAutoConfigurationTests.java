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

import java.util.Optional;

import net.javacrumbs.shedlock.core.LockProvider;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockTemplate;
import dev.latchkey.shedlock.LatchkeyLockProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LatchkeyShedLockAutoConfiguration}: when ShedLock gets a provider on
 * Latchkey. What the provider does is tested in {@code dev.latchkey.shedlock}.
 */
class LatchkeyShedLockAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyShedLockAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory");

	@Test
	void withShedLockOnTheClassPathTheLockProviderIsLatchkeys() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(LockProvider.class);
			assertThat(context.getBean(LockProvider.class)).isInstanceOf(LatchkeyLockProvider.class);
			assertThat(context.getBean(LockTemplate.class).repository().backend()).isEqualTo("memory");
		});
	}

	@Test
	void theApplicationsOwnLockProviderWins() {
		this.contextRunner.withUserConfiguration(OwnLockProvider.class).run((context) -> {
			assertThat(context).hasSingleBean(LockProvider.class);
			assertThat(context.getBean(LockProvider.class)).isSameAs(context.getBean(OwnLockProvider.class).provider);
		});
	}

	@Test
	void withoutShedLockThereIsNoLockProvider() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(LockProvider.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LatchkeyLockProvider.class));
	}

	@Test
	void withoutLatchkeysTemplateThereIsNoLockProvider() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyShedLockAutoConfiguration.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LockProvider.class));
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnLockProvider {

		final LockProvider provider = (configuration) -> Optional.empty();

		@Bean
		LockProvider ownLockProvider() {
			return this.provider;
		}

	}

}
