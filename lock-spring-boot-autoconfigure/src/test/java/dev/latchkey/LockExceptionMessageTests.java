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

package dev.latchkey;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.annotation.Exclusive;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.interceptor.LockAnnotationBeanPostProcessor;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.test.ForwardingLockRepository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests that the messages of the exceptions a caller meets, and the log lines above
 * DEBUG, name the lock, not its key: an annotation's key is made of method arguments and
 * may be personal data, and messages end up in logs. The key stays available through
 * {@code getKey()}.
 */
@ExtendWith(OutputCaptureExtension.class)
class LockExceptionMessageTests {

	private static final Pattern LOG_LEVEL = Pattern.compile("^\\S.*?\\b(TRACE|DEBUG|INFO|WARN|ERROR)\\b");

	private static final LockSettings FAST_RENEWALS = LockSettings.defaults()
		.withTtl(Duration.ofSeconds(2))
		.withRenewInterval(Duration.ofMillis(50));

	@Test
	void notAcquiredAndLostNameTheLock() {
		LockNotAcquiredException notAcquired = new LockNotAcquiredException("customer:alice@example.com",
				"customer:#email", Duration.ZERO, null);
		assertThat(notAcquired).hasMessage("Lock 'customer:#email' is held elsewhere");
		assertThat(notAcquired.getKey()).isEqualTo("customer:alice@example.com");
		assertThat(new LockNotAcquiredException("customer:alice@example.com", "customer:#email", Duration.ofSeconds(2),
				null))
			.hasMessage("Lock 'customer:#email' stayed held elsewhere for the whole wait time of PT2S");
		assertThat(new LockNotAcquiredException("customer:alice@example.com", "customer:#email", Duration.ZERO,
				new InterruptedException()))
			.hasMessage("Interrupted while waiting for lock 'customer:#email'");
		LockLostException lost = new LockLostException("customer:alice@example.com", "customer:#email",
				LossReason.NOT_OWNER, null);
		assertThat(lost).hasMessage("Lock 'customer:#email' was lost: the backend no longer holds this lease");
		assertThat(lost.getKey()).isEqualTo("customer:alice@example.com");
	}

	@Test
	void anAnnotatedMethodHeldElsewhereFailsWithoutItsArgumentsInTheMessage() {
		try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext(
				AnnotatedConfiguration.class)) {
			LockTemplate locks = context.getBean(LockTemplate.class);
			Customers customers = context.getBean(Customers.class);
			// Held by another thread: the same thread would re-enter it.
			locks.exclusive("customer:alice@example.com").run(() -> {
				CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
					try {
						customers.update("alice@example.com");
						return null;
					}
					catch (LockNotAcquiredException ex) {
						return ex;
					}
				});
				assertThat(other.join()).isInstanceOfSatisfying(LockNotAcquiredException.class, (ex) -> {
					assertThat(ex).hasMessage("Lock 'customer:#email' is held elsewhere");
					assertThat(ex.getKey()).isEqualTo("customer:alice@example.com");
				});
			});
		}
	}

	@Test
	void aBackendFailureNamesTheLockAndKeepsTheKey() {
		LockRepository failing = new ForwardingLockRepository(new MemoryLockRepository()) {

			@Override
			public OptionalLong tryAcquire(LeaseSpec lease) {
				throw new IllegalStateException("Connection reset");
			}

			@Override
			public OptionalLong tryAcquirePermit(LeaseSpec lease) {
				throw new LockBackendException(backend(), lease.key(),
						"Acquiring a permit of the semaphore at the memory backend failed: Connection reset", null);
			}

		};
		try (LockTemplate locks = new LockTemplate(failing, LockSettings.defaults())) {
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> locks.exclusive("customer:alice@example.com").named("customer").acquire())
				.satisfies((ex) -> {
					assertThat(ex)
						.hasMessage("Lock 'customer': Acquiring at the memory backend failed: Connection reset");
					assertThat(ex.getKey()).isEqualTo("customer:alice@example.com");
					assertThat(ex.getName()).isEqualTo("customer");
					assertThat(ex.getBackend()).isEqualTo("memory");
				});
			// A backend's own exception gets the name the backend could not know.
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> locks.semaphore("report:alice@example.com", 2).named("report").acquire())
				.satisfies((ex) -> {
					assertThat(ex).hasMessage("Lock 'report': Acquiring a permit of the semaphore at the memory backend"
							+ " failed: Connection reset");
					assertThat(ex.getKey()).isEqualTo("report:alice@example.com");
					assertThat(ex.getName()).isEqualTo("report");
				});
		}
	}

	@Test
	void aPermitsConflictNamesTheSemaphoreAndKeepsTheKey() {
		try (LockTemplate locks = new LockTemplate(new MemoryLockRepository(), LockSettings.defaults())) {
			locks.semaphore("report:alice@example.com", 2).named("report").run(() -> {
				// Another thread: this one would re-enter the permit it holds.
				CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
					try {
						locks.semaphore("report:alice@example.com", 3).named("report").run(() -> {
						});
						return null;
					}
					catch (LockPermitsConflictException ex) {
						return ex;
					}
				});
				assertThat(other.join()).isInstanceOfSatisfying(LockPermitsConflictException.class, (ex) -> {
					assertThat(ex).hasMessage("Semaphore 'report' was asked for a permit of 3 permits, but its holders"
							+ " use 2; use one permits value per key (the first holder fixes it while the key is held)");
					assertThat(ex.getKey()).isEqualTo("report:alice@example.com");
					assertThat(ex.getName()).isEqualTo("report");
				});
			});
		}
	}

	@Test
	void aLostLeaseIsLoggedByName(CapturedOutput output) {
		FaultyLockRepository repository = new FaultyLockRepository(new MemoryLockRepository());
		try (LockTemplate locks = new LockTemplate(repository, FAST_RENEWALS)) {
			LockHandle handle = locks.exclusive("customer:bob@example.com").named("customer").acquire();
			repository.stealLeases();
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !handle.lease().isValid());
			handle.close();
		}
		assertThat(output).contains("Lost lock 'customer' (fencing token");
		assertKeyOnlyAtDebug(output, "bob@example.com");
	}

	@Test
	void aLockOfManyKeysIsLoggedOnceWhenLostAndItsNameIsCutShort(CapturedOutput output) {
		MemoryLockRepository repository = new MemoryLockRepository();
		String[] keys = IntStream.range(0, 300).mapToObj((i) -> "parcel:%06d".formatted(i)).toArray(String[]::new);
		try (LockTemplate locks = new LockTemplate(repository, FAST_RENEWALS)) {
			// Named by default by its 300 keys joined: 4,499 characters.
			LockHandle handle = locks.exclusive(keys[0], Arrays.copyOfRange(keys, 1, keys.length)).acquire();
			repository.forceRelease(keys[150]);
			Awaitility.await()
				.atMost(Duration.ofSeconds(5))
				.until(() -> locks.lostLeaseCount() == keys.length && repository.list().isEmpty());
			handle.close();
		}
		List<String> warnings = output.getAll().lines().filter((line) -> line.contains(" WARN ")).toList();
		assertThat(warnings).filteredOn((line) -> line.contains("Lost lock")).singleElement().satisfies((line) -> {
			assertThat(line).contains("Lost lock 'parcel:000000,parcel:000001,").contains(" (truncated)...'");
			assertThat(line).hasSizeLessThan(600);
		});
		assertThat(warnings).filteredOn((line) -> line.contains("Giving back the 299 other key(s) lost with it"))
			.hasSize(1);
		// Before: a line and a stack trace for each key, each naming all 300 keys three
		// times (the line, the exception, and the loss it was lost with), about 4 MB.
		assertThat(output.getAll()).hasSizeLessThan(100_000);
	}

	@Test
	void aFailedRenewalAndAFailedReleaseAreLoggedByName(CapturedOutput output) {
		FaultyLockRepository repository = new FaultyLockRepository(new MemoryLockRepository());
		try (LockTemplate locks = new LockTemplate(repository, LockSettings.defaults())) {
			LockHandle held = locks.exclusive("customer:carol@example.com")
				.named("customer")
				.minHold(Duration.ofSeconds(5))
				.acquire();
			// Keeping a lease for its minimum hold time renews it: that renewal fails.
			repository.failRenewals(new LockBackendException("memory", "customer:carol@example.com",
					"Renewing the lock at the memory backend failed: Connection reset", null));
			repository.failReleases(new LockBackendException("memory", "customer:carol@example.com",
					"Releasing the lock at the memory backend failed: Connection reset", null));
			held.close();
		}
		assertThat(output).contains("Could not keep lock 'customer' for its minimum hold time; releasing now",
				"Releasing lock 'customer' failed; it expires at the memory backend within PT30S");
		assertKeyOnlyAtDebug(output, "carol@example.com");
	}

	@Test
	void anOrphanedLeaseReleaseIsLoggedByName(CapturedOutput output) {
		AtomicBoolean loseAnswer = new AtomicBoolean(true);
		LockRepository answerLost = new ForwardingLockRepository(new MemoryLockRepository()) {

			@Override
			public OptionalLong tryAcquire(LeaseSpec lease) {
				OptionalLong granted = super.tryAcquire(lease);
				if (loseAnswer.getAndSet(false)) {
					throw new LockBackendException(backend(), lease.key(),
							"Acquiring the lock at the memory backend failed: no answer", null);
				}
				return granted;
			}

		};
		try (LockTemplate locks = new LockTemplate(answerLost, LockSettings.defaults())) {
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> locks.exclusive("customer:dave@example.com").named("customer").acquire());
			Awaitility.await()
				.atMost(Duration.ofSeconds(5))
				.until(() -> output.getAll().contains("An acquire of lock 'customer' whose answer was lost"));
		}
		assertKeyOnlyAtDebug(output, "dave@example.com");
	}

	@Test
	void aFailingEventListenerIsLoggedByName(CapturedOutput output) {
		EventPublishingLockObserver observer = new EventPublishingLockObserver((event) -> {
			throw new IllegalStateException("Listener failed");
		});
		try (LockTemplate locks = new LockTemplate(new MemoryLockRepository(), LockSettings.defaults(), observer)) {
			locks.exclusive("customer:frank@example.com").named("customer").run(() -> {
			});
		}
		assertThat(output).contains("Listener of LockAcquiredEvent of lock 'customer' failed");
		assertKeyOnlyAtDebug(output, "frank@example.com");
	}

	@Test
	void keysAreShownBesideNamesWhenAskedFor(CapturedOutput output) {
		FaultyLockRepository repository = new FaultyLockRepository(new MemoryLockRepository());
		try (LockTemplate locks = new LockTemplate(repository, FAST_RENEWALS.withShowKeysInMessages(true))) {
			LockHandle handle = locks.exclusive("customer:erin@example.com").named("customer").acquire();
			CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
				try {
					locks.exclusive("customer:erin@example.com").named("customer").acquire();
					return null;
				}
				catch (LockNotAcquiredException ex) {
					return ex;
				}
			});
			assertThat(other.join()).isInstanceOf(LockNotAcquiredException.class)
				.hasMessage("Lock 'customer' (key 'customer:erin@example.com') is held elsewhere");
			repository.stealLeases();
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !handle.lease().isValid());
			handle.close();
			// A lock named by its key is not named twice.
			LockHandle unnamed = locks.exclusive("report:42").acquire();
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !unnamed.lease().isValid());
			unnamed.close();
		}
		assertThat(output).contains("Lost lock 'customer' (key 'customer:erin@example.com') (fencing token",
				"Lost lock 'report:42' (fencing token");
	}

	/**
	 * Asserts that the key appears in no log record above DEBUG, stack traces included
	 * (DEBUG and TRACE records may name keys).
	 */
	private static void assertKeyOnlyAtDebug(CapturedOutput output, String key) {
		String level = "";
		for (String line : output.getAll().split("\\R")) {
			Matcher header = LOG_LEVEL.matcher(line);
			if (header.find()) {
				level = header.group(1);
			}
			if (line.contains(key)) {
				assertThat(level).as(line).isIn("DEBUG", "TRACE");
			}
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class AnnotatedConfiguration {

		@Bean(destroyMethod = "close")
		LockTemplate lockTemplate() {
			return new LockTemplate(new MemoryLockRepository(), LockSettings.defaults());
		}

		@Bean
		static LockAnnotationBeanPostProcessor lockAnnotationBeanPostProcessor(
				ObjectProvider<LockTemplate> lockTemplate) {
			return new LockAnnotationBeanPostProcessor(lockTemplate::getObject);
		}

		@Bean
		Customers customers() {
			return new Customers();
		}

	}

	static class Customers {

		@Exclusive(key = "customer:#email")
		public void update(String email) {
		}

	}

}
