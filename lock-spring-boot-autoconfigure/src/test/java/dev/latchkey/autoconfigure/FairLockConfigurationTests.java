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
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LeaseMode;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Fair locks: refused where the backend keeps no queue (here JDBC on H2), at startup for
 * {@code @Exclusive(fair = true)} and {@code latchkey.fair=true}, at the call for
 * {@code LockOperation.fair(true)}; honoured in order through the template where it does
 * (the memory backend).
 */
class FairLockConfigurationTests {

	@TempDir
	Path temporary;

	private ApplicationContextRunner jdbc() {
		return new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(LatchkeyAutoConfiguration.class, DataSourceAutoConfiguration.class))
			.withPropertyValues("latchkey.socket.directory=" + this.temporary.resolve("locks"),
					"spring.datasource.url=jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
	}

	private ApplicationContextRunner memory() {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withPropertyValues("latchkey.backend=memory");
	}

	@Test
	void fairAnnotationOnABackendWithoutAQueueFailsTheStart() {
		jdbc().withUserConfiguration(FairMethodConfiguration.class).run((context) -> {
			LockConfigurationException failure = configurationFailure(context.getStartupFailure());
			assertThat(failure.getMessage()).contains("@Exclusive(fair = true) on FairMethod.post()", "jdbc backend");
			assertThat(failure.getAction()).contains("socket backend", "etcd and Redis backends", "memory backend");
		});
	}

	@Test
	void fairPropertyOnABackendWithoutAQueueFailsTheStart() {
		jdbc().withPropertyValues("latchkey.fair=true").run((context) -> {
			LockConfigurationException failure = configurationFailure(context.getStartupFailure());
			assertThat(failure.getMessage()).contains("latchkey.fair=true", "jdbc backend");
			assertThat(failure.getAction()).contains("socket backend", "etcd and Redis backends");
		});
	}

	@Test
	void fairOperationOnABackendWithoutAQueueFailsAtTheCall() {
		jdbc().run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			assertThat(locks.isFair(LeaseMode.EXCLUSIVE)).isFalse();
			assertThatExceptionOfType(LockConfigurationException.class)
				.isThrownBy(() -> locks.exclusive("fair").fair(true).run(() -> {
				}))
				.withMessageContaining("LockOperation.fair(true)")
				.withMessageContaining("jdbc backend");
			// Unfair locks work as before.
			assertThat(locks.exclusive("fair").tryRun(() -> {
			})).isTrue();
		});
	}

	@Test
	void fairLockOfAModeTheBackendDoesNotServeFairlyFailsAtTheCall() {
		memory().run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			assertThat(locks.isFair(LeaseMode.EXCLUSIVE)).isTrue();
			assertThat(locks.isFair(LeaseMode.SEMAPHORE)).isFalse();
			assertThatExceptionOfType(LockConfigurationException.class)
				.isThrownBy(() -> locks.semaphore("reports", 2).fair(true).run(() -> {
				}))
				.withMessageContaining("fair semaphore lock")
				.withMessageContaining("memory backend");
		});
	}

	@Test
	void fairPropertyAndAnnotationStartWhereTheBackendQueues() {
		memory().withPropertyValues("latchkey.fair=true")
			.withUserConfiguration(FairMethodConfiguration.class)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(LockTemplate.class).settings().fair()).isTrue();
				context.getBean(FairMethod.class).post();
			});
	}

	@Test
	void fairWaitersOfTwoTemplatesAreServedInTheOrderTheyAsked() throws Exception {
		// Two instances on one backend: each template's own wait line is FIFO, but only
		// the backend's queue orders the callers of both.
		assertThat(servedInOrder(true)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
	}

	private static List<Integer> servedInOrder(boolean fair) throws Exception {
		MemoryLockRepository repository = new MemoryLockRepository();
		LockSettings settings = LockSettings.defaults().withFair(fair);
		try (LockTemplate first = new LockTemplate(repository, settings.withOwner("instance-1"));
				LockTemplate second = new LockTemplate(repository, settings.withOwner("instance-2"))) {
			List<LockTemplate> instances = List.of(first, second);
			List<Integer> served = new CopyOnWriteArrayList<>();
			CountDownLatch done = new CountDownLatch(8);
			LockHandle holder = first.exclusive("ledger").acquire();
			try {
				for (int i = 0; i < 8; i++) {
					int index = i;
					LockTemplate locks = instances.get(i % 2);
					Thread waiter = new Thread(() -> {
						try {
							locks.exclusive("ledger").waitTime(Duration.ofSeconds(30)).run(() -> served.add(index));
						}
						finally {
							done.countDown();
						}
					}, "waiter-" + i);
					waiter.setDaemon(true);
					waiter.start();
					int waiting = i + 1;
					Awaitility.await()
						.atMost(Duration.ofSeconds(10))
						.until(() -> first.waiterCount("ledger") + second.waiterCount("ledger") == waiting);
					// Counted just before it queues: let it reach the queue.
					Thread.sleep(100);
				}
			}
			finally {
				holder.close();
			}
			assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
			return served;
		}
	}

	private static LockConfigurationException configurationFailure(Throwable failure) {
		Throwable cause = failure;
		while (cause != null && !(cause instanceof LockConfigurationException)) {
			cause = cause.getCause();
		}
		assertThat(cause).as("LockConfigurationException in the cause chain of %s", failure).isNotNull();
		return (LockConfigurationException) cause;
	}

	@Configuration(proxyBeanMethods = false)
	static class FairMethodConfiguration {

		@Bean
		FairMethod fairMethod() {
			return new FairMethod();
		}

	}

	static class FairMethod {

		@Exclusive(value = "ledger", fair = true, waitTimeString = "5s")
		public void post() {
		}

	}

}
