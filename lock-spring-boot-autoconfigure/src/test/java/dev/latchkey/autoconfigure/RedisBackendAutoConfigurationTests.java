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

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.latchkey.LockTemplate;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.socket.SocketLockRepository;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the choice of the Redis backend by {@link LatchkeyAutoConfiguration}.
 */
class RedisBackendAutoConfigurationTests {

	@TempDir
	Path temporary;

	private ApplicationContextRunner contextRunner() {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withPropertyValues("latchkey.socket.directory=" + this.temporary.resolve("locks"));
	}

	@Test
	void redisBackendUsesTheApplicationsConnectionFactory() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.backend=redis")
			.run((context) -> {
				assertThat(context).hasSingleBean(RedisLockRepository.class)
					.doesNotHaveBean(SocketLockRepository.class);
				RedisLockRepository repository = context.getBean(RedisLockRepository.class);
				assertThat(repository.getNamespace()).isEqualTo("latchkey");
				assertThat(context.getBean(LockTemplate.class).repository()).isSameAs(repository);
			});
	}

	@Test
	void namespaceCanBeConfigured() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.backend=redis", "latchkey.redis.namespace=billing-locks")
			.run((context) -> assertThat(context.getBean(RedisLockRepository.class).getNamespace())
				.isEqualTo("billing-locks"));
	}

	@Test
	void autoChoosesRedisWhenTheApplicationHasAConnectionFactory() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.run((context) -> assertThat(context).hasSingleBean(RedisLockRepository.class)
				.doesNotHaveBean(SocketLockRepository.class));
	}

	@Test
	void autoChoosesTheSocketBackendWithoutAConnectionFactory() {
		contextRunner().run((context) -> assertThat(context).hasSingleBean(SocketLockRepository.class)
			.doesNotHaveBean(RedisLockRepository.class));
	}

	@Test
	void otherBackendsAskedForByNameWinOverAConnectionFactory() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.backend=memory")
			.run((context) -> assertThat(context).hasSingleBean(MemoryLockRepository.class)
				.doesNotHaveBean(RedisLockRepository.class));
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.backend=socket")
			.run((context) -> assertThat(context).hasSingleBean(SocketLockRepository.class)
				.doesNotHaveBean(RedisLockRepository.class));
	}

	@Test
	void autoChoosesTheSocketBackendWithoutSpringDataRedis() {
		contextRunner().withClassLoader(new FilteredClassLoader("org.springframework.data.redis"))
			.run((context) -> assertThat(context).hasSingleBean(SocketLockRepository.class)
				.doesNotHaveBean(RedisLockRepository.class));
	}

	@Test
	void redisBackendWithoutAConnectionFactoryFailsTheStartWithWhatToConfigure() {
		contextRunner().withPropertyValues("latchkey.backend=redis").run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
			assertThat(analysis.getDescription())
				.isEqualTo("latchkey.backend is redis, but the application has no RedisConnectionFactory bean");
			assertThat(analysis.getAction()).contains("spring-boot-starter-data-redis", "spring.data.redis.");
		});
	}

	@Test
	void redisBackendWithoutSpringDataRedisFailsTheStartWithWhatToAdd() {
		contextRunner().withClassLoader(new FilteredClassLoader("org.springframework.data.redis"))
			.withPropertyValues("latchkey.backend=redis")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).contains("spring-data-redis is not on the class path");
				assertThat(analysis.getAction()).contains("spring-boot-starter-data-redis");
			});
	}

	@Test
	void usesTheConnectionFactoryOfSpringBootsRedisAutoConfiguration() {
		// Listed before Spring Boot's: the order comes from @AutoConfiguration(afterName
		// = ...), not from this list.
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class, DataRedisAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.url=" + TestServers.redisUrl(), "spring.data.redis.timeout=2s",
					"latchkey.redis.namespace=latchkey-autoconfigure-test")
			.run((context) -> {
				assertThat(context).hasSingleBean(RedisLockRepository.class);
				LockTemplate locks = context.getBean(LockTemplate.class);
				assertThat(locks.exclusive("auto-configured")
					.call(() -> locks.repository()
						.inspect("auto-configured")
						.map((info) -> info.holders().get(0).fencingToken())
						.orElseThrow()))
					.isPositive();
				assertThat(locks.repository().inspect("auto-configured")).isEmpty();
			});
	}

}
