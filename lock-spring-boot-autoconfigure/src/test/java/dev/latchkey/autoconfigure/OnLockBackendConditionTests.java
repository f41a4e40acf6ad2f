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

import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.condition.ConditionEvaluationReport;
import org.springframework.boot.autoconfigure.condition.ConditionEvaluationReport.ConditionAndOutcomes;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.ClassUtils;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.redis.RedisLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the choice of a backend ({@link ConditionalOnLockBackend},
 * {@link BackendChoice}, {@link BackendChoiceCheck}) as the application sees it: the
 * condition report, its own repository, and libraries that are not there at all.
 */
class OnLockBackendConditionTests {

	@TempDir
	Path temporary;

	private ApplicationContextRunner contextRunner() {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withPropertyValues("latchkey.socket.directory=" + this.temporary.resolve("locks"));
	}

	@Test
	void givenAConnectionFactoryThenTheConditionReportSaysWhyRedisAndNotTheOthers() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class).run((context) -> {
			Map<String, ConditionAndOutcomes> report = ConditionEvaluationReport.get(context.getBeanFactory())
				.getConditionAndOutcomesBySource();
			String why = "latchkey.backend is auto and selects redis: a RedisConnectionFactory bean is configured";
			ConditionAndOutcomes redis = report.get(LockRepositoryConfigurations.Redis.class.getName());
			assertThat(redis.isFullMatch()).isTrue();
			assertThat(redis)
				.anySatisfy((conditionAndOutcome) -> assertThat(conditionAndOutcome.getOutcome().getMessage())
					.isEqualTo("@ConditionalOnLockBackend (redis) " + why));
			ConditionAndOutcomes socket = report.get(LockRepositoryConfigurations.Socket.class.getName());
			assertThat(socket.isFullMatch()).isFalse();
			assertThat(socket)
				.anySatisfy((conditionAndOutcome) -> assertThat(conditionAndOutcome.getOutcome().getMessage())
					.isEqualTo("@ConditionalOnLockBackend (socket) " + why));
		});
	}

	@Test
	void givenANamedBackendThatCannotBeUsedThenTheConditionReportSaysWhy() {
		// The report of a context that failed to start is gone with its bean factory:
		// keep it from the beginning.
		AtomicReference<ConditionEvaluationReport> report = new AtomicReference<>();
		contextRunner()
			.withInitializer((started) -> report.set(ConditionEvaluationReport.get(started.getBeanFactory())))
			.withPropertyValues("latchkey.backend=redis")
			.run((context) -> {
				assertThat(context).hasFailed();
				ConditionAndOutcomes redis = report.get()
					.getConditionAndOutcomesBySource()
					.get(LockRepositoryConfigurations.Redis.class.getName());
				assertThat(redis).anySatisfy((conditionAndOutcome) -> assertThat(
						conditionAndOutcome.getOutcome().getMessage())
					.isEqualTo("@ConditionalOnLockBackend (redis) latchkey.backend is redis, but the application has no"
							+ " RedisConnectionFactory bean"));
			});
	}

	@Test
	void givenItsOwnRepositoryThenAnAmbiguousAutoDoesNotStopTheStart() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withBean("myRepository", LockRepository.class, MemoryLockRepository::new)
			.withPropertyValues("latchkey.etcd.endpoints=http://127.0.0.1:1")
			.run((context) -> assertThat(context.getBean(LockTemplate.class).repository())
				.isSameAs(context.getBean("myRepository")));
	}

	@Test
	void givenItsOwnRepositoryThenANamedBackendThatCannotBeUsedDoesNotStopTheStart() {
		contextRunner().withBean("myRepository", LockRepository.class, MemoryLockRepository::new)
			.withPropertyValues("latchkey.backend=redis")
			.run((context) -> assertThat(context).hasSingleBean(LockRepository.class)
				.doesNotHaveBean(RedisLockRepository.class));
	}

	@Test
	void givenNoBackendLibraryOnTheClassPathThenAutoUsesTheSocketBackendAndANamedOneExplainsWhatToAdd()
			throws Exception {
		// Absent, not filtered: the auto-configuration is registered as a class, which
		// makes Spring read its configurations reflectively unless they are imported by
		// name.
		try (URLClassLoader loader = BackendStartup.classLoaderWithout("jetcd-", "spring-data-redis",
				"spring-boot-data-redis", "lettuce-core", "spring-jdbc", "spring-boot-jdbc")) {
			assertThat(ClassUtils.isPresent("io.etcd.jetcd.Client", loader)).isFalse();
			assertThat(ClassUtils.isPresent("org.springframework.data.redis.connection.RedisConnectionFactory", loader))
				.isFalse();
			assertThat(ClassUtils.isPresent("org.springframework.jdbc.core.JdbcTemplate", loader)).isFalse();
			Class<?> start = loader.loadClass(WithoutBackendLibraries.class.getName());
			String directory = this.temporary.resolve("locks").toString();
			assertThat(start.getMethod("start", String.class, String.class).invoke(null, "auto", directory))
				.isEqualTo("socket");
			assertThat(start.getMethod("start", String.class, String.class).invoke(null, "etcd", directory))
				.isEqualTo("latchkey.backend is etcd, but jetcd is not on the class path / Add the dependency"
						+ " io.etcd:jetcd-core, or set latchkey.backend to another backend");
			assertThat(start.getMethod("start", String.class, String.class).invoke(null, "jdbc", directory)).asString()
				.startsWith(
						"latchkey.backend is jdbc, but spring-jdbc or Spring Boot's JDBC support is not on the class"
								+ " path");
		}
	}

	/**
	 * Starts a context of its own; loaded by a class loader without the backends'
	 * libraries.
	 */
	public static final class WithoutBackendLibraries {

		private WithoutBackendLibraries() {
		}

		/**
		 * Starts Latchkey with the given backend.
		 * @param backend the value of latchkey.backend
		 * @param directory the socket backend's lock directory
		 * @return the backend used, or the failure's description and action
		 */
		public static String start(String backend, String directory) {
			Map<String, Object> properties = new HashMap<>();
			properties.put("latchkey.backend", backend);
			properties.put("latchkey.socket.directory", directory);
			try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext()) {
				context.setClassLoader(WithoutBackendLibraries.class.getClassLoader());
				context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("test", properties));
				context.register(LatchkeyAutoConfiguration.class);
				context.refresh();
				return context.getBean(LockTemplate.class).repository().backend();
			}
			catch (LockConfigurationException ex) {
				return ex.getMessage() + " / " + ex.getAction();
			}
		}

	}

}
