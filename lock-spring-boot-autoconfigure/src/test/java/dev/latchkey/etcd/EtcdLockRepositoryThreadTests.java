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

package dev.latchkey.etcd;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadFactory;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

import dev.latchkey.LeaseSpec;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.test.LiveThreads;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The etcd backend's one thread, against the etcd node of
 * {@value TestServers#ETCD_ENDPOINTS}: it comes from the application's thread factory
 * when given one, and is gone after close. The backend contract on etcd is
 * {@code EtcdLockRepositoryTests}, in lock-spring-boot-test.
 */
class EtcdLockRepositoryThreadTests {

	@RegisterExtension
	static final EtcdNamespace etcd = new EtcdNamespace("latchkey-test-", TestServers::etcdEndpoints);

	@Test
	void threadsOfTheApplicationsFactoryAreGoneAfterClose() throws Exception {
		String prefix = "app-etcd-" + UUID.randomUUID() + "-";
		ThreadFactory threads = new CustomizableThreadFactory(prefix);
		EtcdLockRepository repository = new EtcdLockRepository(etcd.client(), etcd.name(), Duration.ofSeconds(5),
				threads);
		LeaseSpec lease = LeaseSpec.exclusive("threads", "test", "token-" + UUID.randomUUID(), Duration.ofSeconds(5));
		assertThat(repository.tryAcquire(lease)).isPresent();
		try (ReleaseSubscription subscription = repository.subscribe("threads", () -> {
		})) {
			assertThat(LiveThreads.named(prefix)).hasSize(1);
		}
		repository.close();
		// close() waits until the sweep's executor has terminated; its thread ends a
		// moment after that.
		Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> LiveThreads.named(prefix).isEmpty());
	}

	@Test
	void defaultThreadIsNamedAndGoneAfterClose() {
		// Other tests of this JVM may start or stop etcd repositories of their own: look
		// at this repository's thread only, the one that was not there before.
		Set<Thread> before = threads(EtcdLockRepository.DEFAULT_THREAD_NAME_PREFIX);
		EtcdLockRepository repository = new EtcdLockRepository(etcd.client(), etcd.name(), Duration.ofSeconds(5));
		Set<Thread> started = threads(EtcdLockRepository.DEFAULT_THREAD_NAME_PREFIX);
		started.removeAll(before);
		assertThat(started).hasSize(1);
		repository.close();
		Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> started.stream().noneMatch(Thread::isAlive));
	}

	private static Set<Thread> threads(String prefix) {
		Set<Thread> threads = new HashSet<>();
		for (Thread thread : Thread.getAllStackTraces().keySet()) {
			if (thread.isAlive() && thread.getName().startsWith(prefix)) {
				threads.add(thread);
			}
		}
		return threads;
	}

}
