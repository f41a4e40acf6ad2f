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
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.util.ClassUtils;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;

import dev.latchkey.LockHandle;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.interceptor.LockAnnotationBeanPostProcessor;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.socket.SocketLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LatchkeyAutoConfiguration}.
 */
class LatchkeyAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class));

	@TempDir
	Path temporary;

	@Test
	void defaultsToTheSocketBackendWithDefaultSettings() {
		this.contextRunner.withPropertyValues("spring.application.name=billing").run((context) -> {
			assertThat(context).hasSingleBean(LockTemplate.class)
				.hasSingleBean(SocketLockRepository.class)
				.hasSingleBean(LockAnnotationBeanPostProcessor.class);
			assertThat(context.getBean(SocketLockRepository.class).getDirectory())
				.isEqualTo(SocketLockRepository.defaultDirectory().toAbsolutePath());
			LockSettings settings = context.getBean(LockSettings.class);
			assertThat(settings.ttl()).isEqualTo(Duration.ofSeconds(30));
			assertThat(settings.waitTime()).isZero();
			assertThat(settings.renewInterval()).isNull();
			assertThat(settings.renewIntervalFor(settings.ttl())).isEqualTo(Duration.ofSeconds(10));
			assertThat(settings.keyPrefix()).isEqualTo("billing:");
			assertThat(settings.maxKeyLength()).isEqualTo(512);
			assertThat(settings.owner()).startsWith("billing@").contains(":" + ProcessHandle.current().pid());
			assertThat(context.getBean(LockTemplate.class).repository().backend()).isEqualTo("socket");
		});
	}

	@Test
	void socketBackendUsesTheConfiguredDirectory() {
		Path directory = this.temporary.resolve("locks");
		this.contextRunner
			.withPropertyValues("latchkey.backend=socket", "latchkey.socket.directory=" + directory,
					"latchkey.socket.request-timeout=2s")
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				assertThat(locks.exclusive("job").call(() -> locks.repository().inspect("job").isPresent())).isTrue();
				assertThat(directory.resolve("arbiter.sock")).exists();
				assertThat(Files.getPosixFilePermissions(directory))
					.isEqualTo(PosixFilePermissions.fromString("rwx------"));
			});
	}

	@Test
	void memoryBackendOnlyWhenAskedFor() {
		this.contextRunner.withPropertyValues("latchkey.backend=memory").run((context) -> {
			assertThat(context).hasSingleBean(MemoryLockRepository.class).doesNotHaveBean(SocketLockRepository.class);
		});
	}

	@Test
	void propertiesOverrideTheDefaults() {
		this.contextRunner.withPropertyValues("latchkey.backend=memory", "latchkey.ttl=10s", "latchkey.wait-time=2s",
				"latchkey.renew-interval=2s", "latchkey.safety-margin=50ms", "latchkey.key-prefix=billing:",
				"latchkey.max-key-length=100", "latchkey.owner=node-1", "latchkey.waiting.initial-poll-interval=20ms",
				"latchkey.waiting.max-poll-interval=400ms", "latchkey.show-keys-in-messages=true")
			.run((context) -> {
				LockSettings settings = context.getBean(LockSettings.class);
				assertThat(settings).isEqualTo(new LockSettings(Duration.ofSeconds(10), Duration.ofSeconds(2),
						Duration.ofSeconds(2), Duration.ofMillis(50), "billing:", 100, "node-1", Duration.ofMillis(20),
						Duration.ofMillis(400), null, true));
				LockTemplate locks = context.getBean(LockTemplate.class);
				locks.exclusive("order:1")
					.run(() -> assertThat(locks.repository().inspect("billing:order:1"))
						.hasValueSatisfying((info) -> assertThat(info.holders().get(0).owner()).isEqualTo("node-1")));
			});
	}

	@Test
	void keyPrefixIsEmptyWithoutAnApplicationName() {
		this.contextRunner.withPropertyValues("latchkey.backend=memory")
			.run((context) -> assertThat(context.getBean(LockSettings.class).keyPrefix()).isEmpty());
	}

	@Test
	void defaultKeyPrefixKeepsApplicationsApartAndAnExplicitOneLetsThemShare() {
		Path directory = this.temporary.resolve("shared-locks");
		ApplicationContextRunner shared = this.contextRunner.withPropertyValues("latchkey.backend=socket",
				"latchkey.socket.directory=" + directory);
		ApplicationContextRunner billing = shared.withPropertyValues("spring.application.name=billing");
		ApplicationContextRunner shipping = shared.withPropertyValues("spring.application.name=shipping");
		billing.run((first) -> shipping.run((second) -> {
			LockTemplate billingLocks = first.getBean(LockTemplate.class);
			LockTemplate shippingLocks = second.getBean(LockTemplate.class);
			billingLocks.exclusive("nightly-report").run(() -> {
				assertThat(billingLocks.repository().inspect("billing:nightly-report")).isPresent();
				assertThat(shippingLocks.exclusive("nightly-report").call(() -> true)).isTrue();
			});
		}));
		billing.withPropertyValues("latchkey.key-prefix=")
			.run((first) -> shipping.withPropertyValues("latchkey.key-prefix=").run((second) -> {
				LockTemplate billingLocks = first.getBean(LockTemplate.class);
				LockTemplate shippingLocks = second.getBean(LockTemplate.class);
				assertThat(first.getBean(LockSettings.class).keyPrefix()).isEmpty();
				billingLocks.exclusive("nightly-report").run(() -> {
					assertThat(billingLocks.repository().inspect("nightly-report")).isPresent();
					assertThat(shippingLocks.exclusive("nightly-report").call(() -> true, () -> false)).isFalse();
				});
			}));
	}

	@Test
	void userRepositoryWins() {
		this.contextRunner.withUserConfiguration(UserRepositoryConfiguration.class).run((context) -> {
			assertThat(context).hasSingleBean(LockRepository.class);
			assertThat(context.getBean(LockTemplate.class).repository()).isSameAs(context.getBean("myRepository"));
		});
	}

	@Test
	void userTemplateWins() {
		this.contextRunner.withUserConfiguration(UserTemplateConfiguration.class).run((context) -> {
			assertThat(context).hasSingleBean(LockTemplate.class);
			assertThat(context.getBean(LockTemplate.class)).isSameAs(context.getBean("myTemplate"));
		});
	}

	@Test
	void autoConfigurationBacksOffWithoutReactorOnTheClassLoader() {
		this.contextRunner.withClassLoader(new FilteredClassLoader("reactor.core"))
			.withPropertyValues("latchkey.backend=memory")
			.withUserConfiguration(GuardedConfiguration.class)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(Guarded.class).work()).isEqualTo("held true");
			});
	}

	@Test
	void locksWorkWhenReactorIsNotOnTheClasspathAtAll() throws Exception {
		// A FilteredClassLoader cannot hide Reactor from Latchkey's own classes: load
		// everything again without it.
		try (URLClassLoader loader = BackendStartup.classLoaderWithout("reactor-core", "reactive-streams")) {
			assertThat(ClassUtils.isPresent("reactor.core.publisher.Mono", loader)).isFalse();
			Class<?> check = loader.loadClass(WithoutReactor.class.getName());
			assertThat(check.getMethod("run").invoke(null)).isEqualTo("held true");
		}
	}

	/**
	 * Runs a locked method in a context of its own; loaded by a class loader without
	 * Reactor.
	 */
	public static final class WithoutReactor {

		private WithoutReactor() {
		}

		public static String run() {
			try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext()) {
				context.setClassLoader(WithoutReactor.class.getClassLoader());
				context.getEnvironment()
					.getPropertySources()
					.addFirst(new MapPropertySource("test", Map.of("latchkey.backend", "memory")));
				context.register(LatchkeyAutoConfiguration.class, GuardedConfiguration.class);
				context.refresh();
				return context.getBean(Guarded.class).work();
			}
		}

	}

	@Test
	void unknownBackendFailsTheStartNamingTheProperty() {
		this.contextRunner.withPropertyValues("latchkey.backend=zookeeper")
			.run((context) -> assertThat(context).getFailure().hasStackTraceContaining("latchkey.backend"));
	}

	@Test
	void renewIntervalNotShorterThanTheTtlFailsTheStart() {
		this.contextRunner.withPropertyValues("latchkey.ttl=3s", "latchkey.renew-interval=5s")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining("Invalid latchkey.* configuration: Renew interval PT5S must be shorter"));
	}

	@Test
	void durationPropertiesBeyondTheirRangeFailTheStartNamingThePropertyAndTheRange() {
		for (String property : List.of("latchkey.ttl", "latchkey.wait-time", "latchkey.safety-margin",
				"latchkey.renew-interval", "latchkey.max-hold", "latchkey.waiting.max-poll-interval",
				"latchkey.etcd.request-timeout")) {
			this.contextRunner.withPropertyValues(property + "=3650000d").run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription())
					.startsWith(property + " is PT87600000H, outside its allowed range")
					.contains("at most 365 days");
				assertThat(analysis.getAction()).contains(property);
			});
		}
		this.contextRunner.withPropertyValues("latchkey.health.timeout=-1s")
			.run((context) -> assertThat(BackendStartup.analyze(context.getStartupFailure()).getDescription())
				.startsWith("latchkey.health.timeout is PT-1S, outside its allowed range: longer than 0"));
		this.contextRunner.withPropertyValues("latchkey.max-hold=0")
			.run((context) -> assertThat(BackendStartup.analyze(context.getStartupFailure()).getDescription())
				.startsWith("latchkey.max-hold is PT0S, outside its allowed range: longer than 0"));
	}

	@Test
	void maxHoldPropertyIsTheDefaultMaximumHoldTime() {
		this.contextRunner.withPropertyValues("latchkey.backend=memory", "latchkey.max-hold=2h").run((context) -> {
			assertThat(context.getBean(LockSettings.class).maxHold()).isEqualTo(Duration.ofHours(2));
			LockTemplate locks = context.getBean(LockTemplate.class);
			try (LockHandle handle = locks.exclusive("order:1").acquire()) {
				assertThat(handle.lease().maxHold()).contains(Duration.ofHours(2));
			}
		});
		this.contextRunner.withPropertyValues("latchkey.backend=memory")
			.run((context) -> assertThat(context.getBean(LockSettings.class).maxHold()).isNull());
	}

	@Test
	void maxKeyLengthNotLongerThanThePrefixFailsTheStart() {
		this.contextRunner.withPropertyValues("latchkey.key-prefix=abcdef", "latchkey.max-key-length=4")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining("Maximum key length must be longer than the key prefix"));
	}

	@Configuration(proxyBeanMethods = false)
	static class UserRepositoryConfiguration {

		@Bean
		LockRepository myRepository() {
			return new MemoryLockRepository();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserTemplateConfiguration {

		@Bean
		LockTemplate myTemplate() {
			return new LockTemplate(new MemoryLockRepository(), LockSettings.defaults(), null);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class GuardedConfiguration {

		@Bean
		Guarded guarded(LockRepository repository) {
			return new Guarded(repository);
		}

	}

	/**
	 * Public, so that a proxy class defined by the filtered class loader can extend it.
	 */
	public static class Guarded {

		private final LockRepository repository;

		Guarded(LockRepository repository) {
			this.repository = repository;
		}

		@Exclusive("guarded")
		public String work() {
			return "held " + this.repository.inspect("guarded").isPresent();
		}

	}

}
