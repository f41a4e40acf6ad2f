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
import java.time.Duration;
import java.util.stream.Collectors;

import io.etcd.jetcd.Client;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.latchkey.LockBackendException;
import dev.latchkey.LockTemplate;
import dev.latchkey.etcd.EtcdLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.socket.SocketLockRepository;
import dev.latchkey.test.LiveThreads;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for the choice of the etcd backend by {@link LatchkeyAutoConfiguration}.
 */
class EtcdBackendAutoConfigurationTests {

	// Nothing listens there; a jetcd client connects only when used, and these tests
	// mostly look at beans.
	private static final String UNUSED_ENDPOINT = "http://127.0.0.1:1";

	@TempDir
	Path temporary;

	private ApplicationContextRunner contextRunner() {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withPropertyValues("latchkey.socket.directory=" + this.temporary.resolve("locks"));
	}

	@Test
	void autoChoosesEtcdWhenEndpointsAreSet() {
		contextRunner().withPropertyValues("latchkey.etcd.endpoints=" + UNUSED_ENDPOINT).run((context) -> {
			assertThat(context).hasSingleBean(EtcdLockRepository.class)
				.hasSingleBean(Client.class)
				.doesNotHaveBean(SocketLockRepository.class);
			EtcdLockRepository repository = context.getBean(EtcdLockRepository.class);
			assertThat(repository.getNamespace()).isEqualTo("latchkey/");
			assertThat(context.getBean(LockTemplate.class).repository()).isSameAs(repository);
		});
	}

	@Test
	void sweepRunsOnAPlatformThreadNamedForTheBackendAndStopsWithTheContext() {
		String prefix = EtcdLockRepository.DEFAULT_THREAD_NAME_PREFIX;
		int before = LiveThreads.named(prefix).size();
		contextRunner().withPropertyValues("latchkey.etcd.endpoints=" + UNUSED_ENDPOINT)
			.run((context) -> assertThat(LiveThreads.named(prefix)).hasSize(before + 1));
		// Closing waits for the sweep's executor to terminate; its thread is gone a
		// moment
		// later (as EtcdLockRepositoryThreadTests awaits too). Asserted at once, this
		// failed on a machine at load 10.
		Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> LiveThreads.named(prefix).size() == before);
	}

	@Test
	@EnabledForJreRange(min = JRE.JAVA_21)
	void sweepRunsOnAVirtualThreadWhenTheApplicationEnablesThem() {
		// Virtual threads are not among the platform threads a thread dump lists by name.
		String prefix = EtcdLockRepository.DEFAULT_THREAD_NAME_PREFIX;
		int before = LiveThreads.named(prefix).size();
		contextRunner()
			.withPropertyValues("latchkey.etcd.endpoints=" + UNUSED_ENDPOINT, "spring.threads.virtual.enabled=true")
			.run((context) -> {
				assertThat(context).hasSingleBean(EtcdLockRepository.class);
				assertThat(LiveThreads.named(prefix)).hasSize(before);
			});
	}

	@Test
	void namespaceCanBeConfigured() {
		contextRunner()
			.withPropertyValues("latchkey.etcd.endpoints=" + UNUSED_ENDPOINT, "latchkey.etcd.namespace=billing/locks/")
			.run((context) -> assertThat(context.getBean(EtcdLockRepository.class).getNamespace())
				.isEqualTo("billing/locks/"));
	}

	@Test
	void autoWithoutEndpointsKeepsTheEmbeddedDefault() {
		contextRunner().run((context) -> assertThat(context).hasSingleBean(SocketLockRepository.class)
			.doesNotHaveBean(EtcdLockRepository.class)
			.doesNotHaveBean(Client.class));
	}

	@Test
	void applicationsOwnClientWins() {
		Client own = Client.builder().endpoints(UNUSED_ENDPOINT).build();
		try {
			contextRunner()
				.withBean("ownClient", Client.class, () -> own, (definition) -> definition.setDestroyMethodName(""))
				.withPropertyValues("latchkey.backend=etcd")
				.run((context) -> {
					assertThat(context).hasSingleBean(Client.class).hasSingleBean(EtcdLockRepository.class);
					assertThat(context.getBean(Client.class)).isSameAs(own);
				});
		}
		finally {
			own.close();
		}
	}

	@Test
	void etcdBackendWithoutEndpointsFailsTheStartWithWhatToSet() {
		contextRunner().withPropertyValues("latchkey.backend=etcd").run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
			assertThat(analysis.getDescription()).contains("latchkey.etcd.endpoints is not set");
			assertThat(analysis.getAction()).contains("latchkey.etcd.endpoints");
		});
	}

	@Test
	void etcdBackendWithoutJetcdFailsTheStartWithWhatToAdd() {
		contextRunner().withClassLoader(new FilteredClassLoader("io.etcd.jetcd"))
			.withPropertyValues("latchkey.backend=etcd", "latchkey.etcd.endpoints=" + UNUSED_ENDPOINT)
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).contains("jetcd is not on the class path");
				assertThat(analysis.getAction()).contains("io.etcd:jetcd-core");
			});
	}

	@Test
	void invalidEndpointFailsTheStartNamingTheProperty() {
		contextRunner().withPropertyValues("latchkey.etcd.endpoints=localhost:2379").run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
			assertThat(analysis.getDescription()).contains("latchkey.etcd.endpoints", "localhost:2379");
			assertThat(analysis.getAction()).contains("http://host:port");
		});
	}

	@Test
	void missingSslBundleFailsTheStartNamingIt() {
		contextRunner()
			.withPropertyValues("latchkey.etcd.endpoints=https://127.0.0.1:1", "latchkey.etcd.ssl.bundle=etcd-client")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).contains("latchkey.etcd.ssl.bundle");
			});
	}

	@Test
	void autoWithEtcdEndpointsAndARedisConnectionFactoryAsksForTheBackend() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.etcd.endpoints=" + UNUSED_ENDPOINT)
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).isEqualTo("latchkey.backend is auto, and the application has more"
						+ " than one backend configured: redis (a RedisConnectionFactory bean), etcd (latchkey.etcd.endpoints)");
				assertThat(analysis.getAction()).contains("latchkey.backend");
			});
	}

	@Test
	void backendNamedExplicitlyWinsWhenBothAreConfigured() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.etcd.endpoints=" + UNUSED_ENDPOINT, "latchkey.backend=redis")
			.run((context) -> assertThat(context).hasSingleBean(RedisLockRepository.class)
				.doesNotHaveBean(EtcdLockRepository.class));
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.etcd.endpoints=" + UNUSED_ENDPOINT, "latchkey.backend=etcd")
			.run((context) -> assertThat(context).hasSingleBean(EtcdLockRepository.class)
				.doesNotHaveBean(RedisLockRepository.class));
	}

	@Test
	void unreachableEndpointsLetTheApplicationStartAndFailEachLockCallClearly() {
		contextRunner()
			.withPropertyValues("latchkey.etcd.endpoints=" + UNUSED_ENDPOINT, "latchkey.etcd.request-timeout=1s")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				LockTemplate locks = context.getBean(LockTemplate.class);
				assertThatExceptionOfType(LockBackendException.class)
					.isThrownBy(() -> locks.exclusive("unreachable").run(() -> {
						throw new AssertionError("Ran without the lock");
					}))
					.withMessageStartingWith(
							"Lock 'unreachable': Granting a lease of 30 s at the etcd backend failed: no answer within 1000 ms");
			});
	}

	@Test
	void autoConfiguredBackendLocksOnTheEtcdNode() {
		String endpoints = TestServers.etcdEndpoints().stream().map(Object::toString).collect(Collectors.joining(","));
		contextRunner()
			.withPropertyValues("latchkey.etcd.endpoints=" + endpoints,
					"latchkey.etcd.namespace=latchkey-autoconfigure-test/")
			.run((context) -> {
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
