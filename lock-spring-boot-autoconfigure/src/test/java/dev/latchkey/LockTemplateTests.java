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
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

import dev.latchkey.annotation.LostPolicy;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockAcquireFailedEvent;
import dev.latchkey.event.LockAcquiredEvent;
import dev.latchkey.event.LockEvent;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.event.LockNotAcquiredEvent;
import dev.latchkey.event.LockReleasedEvent;
import dev.latchkey.event.LockRenewedEvent;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.test.ForwardingLockRepository;
import dev.latchkey.test.LiveThreads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Tests for {@link LockTemplate}: the core's behaviour, on the memory backend.
 */
@Timeout(30)
class LockTemplateTests {

	private static final Duration SHORT_TTL = Duration.ofMillis(600);

	private static final String OWNER = "test-owner";

	private final LockSettings settings = LockSettings.defaults()
		.withOwner(OWNER)
		.withPollIntervals(Duration.ofMillis(10), Duration.ofMillis(100));

	private final List<Object> events = new CopyOnWriteArrayList<>();

	private final MemoryLockRepository repository = new MemoryLockRepository();

	private final List<LockTemplate> templates = new ArrayList<>();

	private final LockTemplate template = template(this.repository, this.settings, this.events::add);

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@AfterEach
	void close() throws InterruptedException {
		this.executor.shutdownNow();
		this.executor.awaitTermination(10, TimeUnit.SECONDS);
		this.templates.forEach(LockTemplate::close);
	}

	// What operations tools see of held leases

	@Test
	void aHeldLeaseCountsItsRenewalsAndKnowsWhenTheBackendWouldExpireIt() {
		LockTemplate renewing = template(this.repository,
				this.settings.withTtl(Duration.ofSeconds(3)).withRenewInterval(Duration.ofMillis(50)), null);
		try (LockHandle handle = renewing.semaphore("reports", 4).acquire()) {
			Lease lease = handle.lease();
			assertThat(lease.permits()).isEqualTo(4);
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> lease.renewals() >= 3);
			assertThat(renewing.heldLeases()).singleElement()
				.satisfies((held) -> assertThat(held.renewals()).isGreaterThanOrEqualTo(3));
			// Renewed every 50 ms with a TTL of 3 s: the backend would expire it between
			// 2.5 s and 3 s from now.
			assertThat(lease.remainingTtl()).isBetween(Duration.ofMillis(2500), Duration.ofSeconds(3));
		}
	}

	@Test
	void waiterCountTellsHowManyCallersOfThisProcessWaitForAKey() throws Exception {
		try (LockHandle handle = this.template.exclusive("order:1").acquire()) {
			assertThat(handle.lease().renewals()).isZero();
			List<Future<Boolean>> waiters = new ArrayList<>();
			for (int i = 0; i < 2; i++) {
				waiters.add(this.executor
					.submit(() -> this.template.exclusive("order:1").waitTime(Duration.ofSeconds(10)).tryRun(() -> {
					})));
			}
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> this.template.waiterCount("order:1") == 2);
			assertThat(this.template.waiterCount("order:2")).isZero();
			handle.close();
			for (Future<Boolean> waiter : waiters) {
				assertThat(waiter.get(10, TimeUnit.SECONDS)).isTrue();
			}
		}
		assertThat(this.template.waiterCount("order:1")).isZero();
	}

	@Test
	void callersOfOneProcessAreServedInOrderOnceTheyWaitSoNoneStarves() throws Exception {
		// Each thread takes the key, works, and asks again at once. A caller that tried
		// first even when others waited (barging) would win nearly every race against
		// the head it had just woken, and the line behind would starve. Counted in grants
		// rather than time, so a slow machine cannot fail it: while a caller waits, each
		// other thread gets the key about once.
		int threads = 16;
		AtomicLong grants = new AtomicLong();
		AtomicLong mostGrantsWhileOneWaited = new AtomicLong();
		long measureFrom = System.nanoTime() + Duration.ofMillis(500).toNanos();
		long end = measureFrom + Duration.ofMillis(1500).toNanos();
		List<Future<?>> callers = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			callers.add(this.executor.submit(() -> {
				while (System.nanoTime() < end) {
					long asked = grants.get();
					boolean measured = System.nanoTime() > measureFrom;
					this.template.exclusive("order:1").waitTime(Duration.ofSeconds(20)).run(() -> {
						long others = grants.incrementAndGet() - 1 - asked;
						if (measured) {
							mostGrantsWhileOneWaited.accumulateAndGet(others, Math::max);
						}
						spin(Duration.ofMillis(200).dividedBy(1000));
					});
				}
			}));
		}
		for (Future<?> caller : callers) {
			caller.get(30, TimeUnit.SECONDS);
		}
		assertThat(grants.get()).isGreaterThan(threads);
		assertThat(mostGrantsWhileOneWaited.get()).isLessThanOrEqualTo(4L * threads);
	}

	private static void spin(Duration duration) {
		long until = System.nanoTime() + duration.toNanos();
		while (System.nanoTime() < until) {
			Thread.onSpinWait();
		}
	}

	// Events

	@Test
	void acquireAndReleasePublishEvents() {
		long fencingToken;
		try (LockHandle handle = this.template.exclusive("order:1").named("order").acquire()) {
			fencingToken = handle.fencingToken();
			sleep(50);
		}
		LockAcquiredEvent acquired = single(LockAcquiredEvent.class);
		assertEvent(acquired, "order:1", "order", fencingToken);
		assertThat(acquired.getHoldDuration()).isZero();
		LockReleasedEvent released = single(LockReleasedEvent.class);
		assertEvent(released, "order:1", "order", fencingToken);
		assertThat(released.getHoldDuration()).isGreaterThanOrEqualTo(Duration.ofMillis(50));
		assertThat(this.events).containsExactly(acquired, released);
	}

	@Test
	void contendedAcquirePublishesNotAcquiredEvent() {
		try (LockHandle handle = this.template.exclusive("order:1").acquire()) {
			assertThat(this.template.exclusive("order:1").named("order").tryAcquire()).isEmpty();
		}
		LockNotAcquiredEvent notAcquired = single(LockNotAcquiredEvent.class);
		assertEvent(notAcquired, "order:1", "order", 0);
	}

	@Test
	void renewalPublishesRenewedEvents() {
		try (LockHandle handle = this.template.exclusive("order:1").named("order").ttl(SHORT_TTL).acquire()) {
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> events(LockRenewedEvent.class).size() >= 3);
			LockRenewedEvent renewed = events(LockRenewedEvent.class).get(0);
			assertEvent(renewed, "order:1", "order", handle.fencingToken());
			assertThat(renewed.getHoldDuration()).isPositive();
			// Three renewals every third of the TTL: the lease has outlived its first
			// TTL, and is still ours.
			assertThat(handle.lease().heldFor()).isGreaterThanOrEqualTo(SHORT_TTL);
			assertThat(handle.lease().isValid()).isTrue();
			assertThat(this.repository.inspect("order:1")).isPresent();
		}
		assertThat(events(LockLostEvent.class)).isEmpty();
	}

	@Test
	void throwingEventListenerNeverBreaksLocking() {
		ApplicationEventPublisher failing = (event) -> {
			throw new IllegalStateException("Listener failed");
		};
		LockTemplate template = template(this.repository, this.settings, failing);
		assertThat(template.exclusive("order:1").call(() -> "done")).isEqualTo("done");
		try (LockHandle handle = template.exclusive("order:1").acquire()) {
			assertThat(this.repository.inspect("order:1")).isPresent();
			assertThat(template.exclusive("order:1").tryAcquire()).isEmpty();
		}
		assertThat(this.repository.inspect("order:1")).isEmpty();
		assertThat(template.exclusive("order:1").tryRun(() -> {
		})).isTrue();
	}

	// Reentrancy and context

	@Test
	void nestedCallOnTheSameKeyReenters() {
		String result = this.template.exclusive("order:1").call(() -> {
			long outer = LockContext.fencingToken();
			try (LockHandle inner = this.template.exclusive("order:1").acquire()) {
				assertThat(inner.isReentrant()).isTrue();
				assertThat(inner.fencingToken()).isEqualTo(outer);
			}
			assertThat(this.repository.inspect("order:1")).isPresent();
			String nested = this.template.exclusive("order:1").call(() -> "inner:" + LockContext.fencingToken());
			assertThat(this.repository.inspect("order:1")).isPresent();
			assertThat(LockContext.fencingToken()).isEqualTo(outer);
			return nested + ",outer:" + outer;
		});
		long fencingToken = single(LockAcquiredEvent.class).getFencingToken();
		assertThat(result).isEqualTo("inner:" + fencingToken + ",outer:" + fencingToken);
		assertThat(this.repository.inspect("order:1")).isEmpty();
		assertThat(events(LockReleasedEvent.class)).hasSize(1);
	}

	@Test
	void sharedCallInsideTheExclusiveLockOfTheSameKeyReentersIt() {
		this.template.exclusive("doc:1").run(() -> {
			long outer = LockContext.fencingToken();
			try (LockHandle inner = this.template.shared("doc:1").acquire()) {
				assertThat(inner.isReentrant()).isTrue();
				assertThat(inner.fencingToken()).isEqualTo(outer);
				assertThat(inner.lease().mode()).isEqualTo(LeaseMode.EXCLUSIVE);
			}
			assertThat(this.repository.inspect("doc:1"))
				.hasValueSatisfying((info) -> assertThat(info.mode()).isEqualTo(LeaseMode.EXCLUSIVE));
		});
		assertThat(this.repository.inspect("doc:1")).isEmpty();
	}

	@Test
	void sharedLocksOfOneKeyAreHeldTogetherAndPublishTheirMode() {
		try (LockHandle first = this.template.shared("doc:1").named("doc").acquire();
				LockHandle second = this.template.shared("doc:1").named("doc").acquire()) {
			assertThat(first.isReentrant()).isFalse();
			assertThat(second.isReentrant()).isFalse();
			assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
			assertThat(first.lease().mode()).isEqualTo(LeaseMode.SHARED);
			assertThat(this.template.exclusive("doc:1").tryAcquire()).isEmpty();
		}
		assertThat(events(LockAcquiredEvent.class)).hasSize(2).allSatisfy((event) -> {
			assertThat(event.getName()).isEqualTo("doc");
			assertThat(event.getMode()).isEqualTo(LeaseMode.SHARED);
		});
		assertThat(events(LockReleasedEvent.class)).hasSize(2)
			.allSatisfy((event) -> assertThat(event.getMode()).isEqualTo(LeaseMode.SHARED));
		assertThat(this.template.exclusive("doc:1").tryAcquire()).hasValueSatisfying(LockHandle::close);
	}

	@Test
	void lockContextGivesTheLeaseInsideACall() {
		AtomicReference<Lease> inside = new AtomicReference<>();
		long fencingToken = this.template.exclusive("order:1").named("order").call(() -> {
			inside.set(LockContext.lease());
			assertThat(LockContext.current()).containsSame(inside.get());
			LockContext.assertHeld();
			return LockContext.fencingToken();
		});
		assertThat(inside.get().key()).isEqualTo("order:1");
		assertThat(inside.get().name()).isEqualTo("order");
		assertThat(inside.get().mode()).isEqualTo(LeaseMode.EXCLUSIVE);
		assertThat(inside.get().owner()).isEqualTo(OWNER);
		assertThat(inside.get().fencingToken()).isEqualTo(fencingToken)
			.isEqualTo(single(LockAcquiredEvent.class).getFencingToken());
		assertThat(inside.get().isValid()).isFalse();
	}

	@Test
	void lockContextThrowsOutsideACall() {
		assertThat(LockContext.current()).isEmpty();
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(LockContext::lease);
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(LockContext::fencingToken);
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(LockContext::assertHeld);
		try (LockHandle handle = this.template.exclusive("order:1").acquire()) {
			// A handle is not guarded code: nothing is bound to the thread.
			assertThat(LockContext.current()).isEmpty();
		}
	}

	// Contention

	@Test
	void callOnAHeldKeyWithoutWaitingThrows() {
		try (LockHandle handle = this.template.exclusive("order:1").acquire()) {
			assertThatExceptionOfType(LockNotAcquiredException.class)
				.isThrownBy(() -> this.template.exclusive("order:1").call(() -> "ran"))
				.satisfies((ex) -> {
					assertThat(ex.getKey()).isEqualTo("order:1");
					assertThat(ex.getWaitTime()).isZero();
				});
		}
	}

	@Test
	void tryRunOnAHeldKeyReturnsFalseWithoutRunning() {
		AtomicBoolean ran = new AtomicBoolean();
		try (LockHandle handle = this.template.exclusive("order:1").acquire()) {
			assertThat(this.template.exclusive("order:1").tryRun(() -> ran.set(true))).isFalse();
		}
		assertThat(ran).isFalse();
		assertThat(this.template.exclusive("order:1").tryRun(() -> ran.set(true))).isTrue();
		assertThat(ran).isTrue();
	}

	@Test
	void callWithFallbackOnAHeldKeyReturnsTheFallback() {
		try (LockHandle handle = this.template.exclusive("order:1").acquire()) {
			assertThat(this.template.exclusive("order:1").call(() -> "ran", () -> "fallback")).isEqualTo("fallback");
		}
		assertThat(this.template.exclusive("order:1").call(() -> "ran", () -> "fallback")).isEqualTo("ran");
	}

	@Test
	void semaphoreGrantsItsPermits() {
		try (LockHandle first = this.template.semaphore("reports", 2).acquire();
				LockHandle second = this.template.semaphore("reports", 2).acquire()) {
			assertThat(first.lease().mode()).isEqualTo(LeaseMode.SEMAPHORE);
			assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
			assertThat(this.template.semaphore("reports", 2).tryAcquire()).isEmpty();
		}
		assertThat(this.template.semaphore("reports", 2).tryRun(() -> {
		})).isTrue();
	}

	// The lost-lock contract

	@Test
	void leaseReportedAsNotOursInterruptsTheCall() {
		FaultyLockRepository faulty = new FaultyLockRepository(new MemoryLockRepository());
		faulty.stealLeases();
		LockTemplate template = template(faulty, this.settings, this.events::add);
		AtomicReference<Lease> lease = new AtomicReference<>();
		AtomicReference<Throwable> assertHeld = new AtomicReference<>();
		AtomicBoolean interrupted = new AtomicBoolean();
		assertThatExceptionOfType(LockLostException.class)
			.isThrownBy(() -> template.exclusive("order:1").ttl(SHORT_TTL).call(() -> {
				lease.set(LockContext.lease());
				try {
					Thread.sleep(10_000);
					return "finished";
				}
				catch (InterruptedException ex) {
					interrupted.set(true);
					assertHeld.set(catchThrowable(LockContext::assertHeld));
					return "interrupted";
				}
			}))
			.satisfies((ex) -> {
				assertThat(ex.getReason()).isEqualTo(LossReason.NOT_OWNER);
				assertThat(ex.getKey()).isEqualTo("order:1");
			});
		assertThat(interrupted).isTrue();
		assertThat(assertHeld.get()).isInstanceOfSatisfying(LockLostException.class,
				(ex) -> assertThat(ex.getReason()).isEqualTo(LossReason.NOT_OWNER));
		// The interrupt was the template's, to stop the work: it does not leak to the
		// caller.
		assertThat(Thread.currentThread().isInterrupted()).isFalse();
		assertThat(lease.get().isValid()).isFalse();
		LockLostEvent lost = single(LockLostEvent.class);
		assertEvent(lost, "order:1", "order:1", lease.get().fencingToken());
		assertThat(lost.getReason()).isEqualTo(LossReason.NOT_OWNER);
		// The backend said the lease is not ours: it must not be released (it may be
		// someone else's now).
		assertThat(faulty.releases).isEmpty();
		assertThat(events(LockReleasedEvent.class)).isEmpty();
	}

	@Test
	void leaseReportedAsNotOursOnlyNotifiesWithNotifyPolicy() {
		FaultyLockRepository faulty = new FaultyLockRepository(new MemoryLockRepository());
		faulty.stealLeases();
		LockTemplate template = template(faulty, this.settings, this.events::add);
		AtomicReference<Lease> lease = new AtomicReference<>();
		String result = template.exclusive("order:1").ttl(SHORT_TTL).onLost(LostPolicy.NOTIFY).call(() -> {
			lease.set(LockContext.lease());
			// Sleeps in steps: an interrupt would end the task with an exception.
			sleepUntil(() -> !lease.get().isValid(), Duration.ofSeconds(10));
			assertThatExceptionOfType(LockLostException.class).isThrownBy(LockContext::assertHeld);
			return "done";
		});
		assertThat(result).isEqualTo("done");
		assertThat(lease.get().isValid()).isFalse();
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !events(LockLostEvent.class).isEmpty());
		assertThat(single(LockLostEvent.class).getReason()).isEqualTo(LossReason.NOT_OWNER);
	}

	@Test
	void failingRenewalLosesTheLeaseAtItsValidityDeadline() {
		FaultyLockRepository faulty = new FaultyLockRepository(new MemoryLockRepository());
		faulty.failRenewals(new LockBackendException("memory", "Backend unreachable", null));
		LockTemplate template = template(faulty, this.settings, this.events::add);
		Duration validity = SHORT_TTL.minus(this.settings.safetyMarginFor(SHORT_TTL));
		AtomicReference<Lease> lease = new AtomicReference<>();
		assertThatExceptionOfType(LockLostException.class)
			.isThrownBy(() -> template.exclusive("order:1").ttl(SHORT_TTL).call(() -> {
				lease.set(LockContext.lease());
				try {
					Thread.sleep(10_000);
				}
				catch (InterruptedException ex) {
					// Stopped by the loss.
				}
				return null;
			}))
			.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo(LossReason.RENEWAL_FAILED));
		LockLostEvent lost = single(LockLostEvent.class);
		assertThat(lost.getReason()).isEqualTo(LossReason.RENEWAL_FAILED);
		assertThat(lost.getFencingToken()).isEqualTo(lease.get().fencingToken());
		// Renewal was retried while the lease was still valid, and given up only at its
		// deadline.
		assertThat(faulty.renewCalls.get()).isGreaterThanOrEqualTo(2);
		assertThat(lost.getHoldDuration()).isGreaterThanOrEqualTo(validity);
		// A best-effort release, in case the backend is reachable again: made on the
		// keeper's thread after the work was told, so it may come a moment after the call
		// returned.
		Awaitility.await()
			.atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(faulty.releases).extracting(LeaseSpec::key).containsExactly("order:1"));
		assertThat(lease.get().isValid()).isFalse();
	}

	@Test
	void acquireThatFailsAfterTheBackendGrantedItGivesTheLeaseBackOnceTheBackendAnswersAgain() {
		java.util.concurrent.atomic.AtomicInteger releaseFailures = new java.util.concurrent.atomic.AtomicInteger(2);
		List<String> releasedTokens = new CopyOnWriteArrayList<>();
		LockRepository answerLost = new dev.latchkey.test.ForwardingLockRepository(this.repository) {

			@Override
			public java.util.OptionalLong tryAcquire(LeaseSpec lease) {
				// Granted at the backend; the answer is lost on its way back.
				super.tryAcquire(lease);
				throw new LockBackendException("memory", "Command timed out", null);
			}

			@Override
			public boolean release(LeaseSpec lease) {
				if (releaseFailures.getAndDecrement() > 0) {
					throw new LockBackendException("memory", "Still unreachable", null);
				}
				releasedTokens.add(lease.token());
				return super.release(lease);
			}

		};
		LockTemplate template = template(answerLost, this.settings, this.events::add);
		assertThatExceptionOfType(LockBackendException.class)
			.isThrownBy(() -> template.exclusive("answer-lost").ttl(Duration.ofSeconds(60)).acquire());
		assertThat(this.repository.inspect("answer-lost")).isPresent();
		// Retried past the failures, and far sooner than the 60 s TTL.
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> this.repository.inspect("answer-lost").isEmpty());
		assertThat(releasedTokens).hasSize(1);
		assertThat(this.template.exclusive("answer-lost").tryRun(() -> {
		})).isTrue();
	}

	@Test
	void threadsOfTheApplicationsFactoryRenewAndReleaseAndAreGoneAfterClose() {
		List<String> renewedOn = new CopyOnWriteArrayList<>();
		List<String> releasedOn = new CopyOnWriteArrayList<>();
		LockRepository answerLost = new dev.latchkey.test.ForwardingLockRepository(this.repository) {

			@Override
			public java.util.OptionalLong tryAcquire(LeaseSpec lease) {
				if (lease.key().equals("answer-lost")) {
					super.tryAcquire(lease);
					throw new LockBackendException("memory", "Command timed out", null);
				}
				return super.tryAcquire(lease);
			}

			@Override
			public java.util.Set<String> renew(java.util.Collection<LeaseSpec> leases) {
				renewedOn.add(Thread.currentThread().getName());
				return super.renew(leases);
			}

			@Override
			public boolean release(LeaseSpec lease) {
				releasedOn.add(Thread.currentThread().getName());
				return super.release(lease);
			}

		};
		CustomizableThreadFactory threads = new CustomizableThreadFactory("app-locks-");
		threads.setDaemon(true);
		LockTemplate template = new LockTemplate(answerLost, this.settings, null, null, threads);
		try (LockHandle held = template.exclusive("order:1").ttl(SHORT_TTL).acquire()) {
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> template.exclusive("answer-lost").ttl(Duration.ofSeconds(60)).acquire());
			Awaitility.await()
				.atMost(Duration.ofSeconds(5))
				.until(() -> this.repository.inspect("answer-lost").isEmpty());
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> held.lease().renewals() > 0);
		}
		assertThat(renewedOn).isNotEmpty().allMatch((name) -> name.startsWith("app-locks-"));
		assertThat(releasedOn).as("the release of the lost answer, then the handle's on this thread")
			.hasSize(2)
			.first()
			.matches((name) -> name.startsWith("app-locks-"));
		assertThat(LiveThreads.named("app-locks-")).hasSize(3);
		template.close();
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> LiveThreads.named("app-locks-").isEmpty());
	}

	// Minimum hold time

	@Test
	void minimumHoldKeepsTheKeyHeldAfterTheWorkEnds() {
		Duration minHold = Duration.ofMillis(500);
		long start = System.nanoTime();
		assertThat(this.template.exclusive("order:1").named("order").minHold(minHold).call(() -> "quick"))
			.isEqualTo("quick");
		assertThat(this.template.exclusive("order:1").tryAcquire()).isEmpty();
		Awaitility.await()
			.atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(10))
			.until(() -> this.repository.inspect("order:1").isEmpty());
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(minHold);
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !events(LockReleasedEvent.class).isEmpty());
		LockReleasedEvent released = single(LockReleasedEvent.class);
		assertEvent(released, "order:1", "order", single(LockAcquiredEvent.class).getFencingToken());
		assertThat(released.getHoldDuration()).isGreaterThanOrEqualTo(minHold);
		assertThat(events(LockLostEvent.class)).isEmpty();
	}

	@Test
	void waiterElsewhereAcquiresSoonAfterTheMinimumHoldEnds() throws Exception {
		// Another process: its own template, polling too slowly to get the key in time
		// without a notification.
		Duration poll = Duration.ofSeconds(20);
		LockTemplate elsewhere = template(this.repository,
				this.settings.withOwner("elsewhere").withPollIntervals(poll, poll), null);
		Duration minHold = Duration.ofMillis(500);
		long start = System.nanoTime();
		this.template.exclusive("order:1").minHold(minHold).run(() -> {
		});
		Future<Long> waiter = this.executor
			.submit(() -> elsewhere.exclusive("order:1").waitTime(Duration.ofSeconds(10)).call(System::nanoTime));
		long acquiredAt = waiter.get(15, TimeUnit.SECONDS);
		assertThat(Duration.ofNanos(acquiredAt - start)).isGreaterThanOrEqualTo(minHold)
			.isLessThan(Duration.ofSeconds(3));
	}

	// Keys

	// Maximum hold time

	@Test
	void workThatOverrunsItsMaximumHoldTimeIsInterruptedAndTheKeyIsGivenBack() {
		AtomicReference<Lease> lease = new AtomicReference<>();
		AtomicBoolean interrupted = new AtomicBoolean();
		long start = System.nanoTime();
		assertThatExceptionOfType(LockLostException.class)
			.isThrownBy(() -> this.template.exclusive("import").maxHold(Duration.ofMillis(400)).run(() -> {
				lease.set(LockContext.lease());
				try {
					Thread.sleep(10_000);
				}
				catch (InterruptedException ex) {
					interrupted.set(true);
				}
			}))
			.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo(LossReason.MAX_HOLD_EXCEEDED));
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(400),
				Duration.ofSeconds(2));
		assertThat(interrupted).isTrue();
		assertThat(lease.get().maxHold()).contains(Duration.ofMillis(400));
		assertThat(lease.get().isValid()).isFalse();
		assertThat(single(LockLostEvent.class).getReason()).isEqualTo(LossReason.MAX_HOLD_EXCEEDED);
		// Given back at the backend right after the work is told (on the keeper's
		// thread), not left to expire after its 30 s TTL.
		Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> this.repository.inspect("import").isEmpty());
		assertThat(this.template.lostLeaseCount()).isOne();
	}

	@Test
	void aHolderThatStopsJustBeforeItsMaximumHoldTimeKeepsTheKeyOnlyUntilThenNotForAnotherTtl() {
		LockTemplate stopping = template(this.repository,
				this.settings.withTtl(Duration.ofSeconds(5)).withRenewInterval(Duration.ofMillis(200)), null);
		long start = System.nanoTime();
		LockHandle handle = stopping.exclusive("import").maxHold(Duration.ofSeconds(1)).acquire();
		// Renewed every 200 ms: the renewals from 0.6 s on ask the backend to keep the
		// lease only until the limit plus the safety margin.
		Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> handle.lease().renewals() >= 4);
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
		// The process stops (nothing is renewed or released any more), as if paused.
		stopping.close();
		Awaitility.await()
			.atMost(Duration.ofSeconds(3))
			.pollInterval(Duration.ofMillis(10))
			.until(() -> this.repository.inspect("import").isEmpty());
		Duration freedAfter = Duration.ofNanos(System.nanoTime() - start);
		assertThat(freedAfter).as("the backend frees the key at the limit, not a 5 s TTL after the last renewal")
			.isBetween(Duration.ofMillis(900), Duration.ofMillis(1500));
	}

	@Test
	void theDefaultMaximumHoldTimeAppliesUnlessALockSetsItsOwn() {
		LockTemplate limited = template(this.repository, this.settings.withMaxHold(Duration.ofMillis(300)), null);
		try (LockHandle handle = limited.exclusive("a").acquire()) {
			assertThat(handle.lease().maxHold()).contains(Duration.ofMillis(300));
			Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> !handle.lease().isValid());
			assertThatExceptionOfType(LockLostException.class).isThrownBy(handle.lease()::assertValid)
				.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo(LossReason.MAX_HOLD_EXCEEDED));
		}
		try (LockHandle handle = limited.exclusive("b").maxHold(Duration.ofMinutes(5)).acquire()) {
			assertThat(handle.lease().maxHold()).contains(Duration.ofMinutes(5));
			sleep(500);
			assertThat(handle.lease().isValid()).isTrue();
		}
		try (LockHandle handle = this.template.exclusive("c").acquire()) {
			assertThat(handle.lease().maxHold()).isEmpty();
		}
	}

	@Test
	void aMaximumHoldTimeShorterThanTheMinimumHoldTimeIsRefused() {
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(
					() -> this.template.exclusive("a").minHold(Duration.ofSeconds(2)).maxHold(Duration.ofSeconds(1)))
			.withMessage("Minimum hold time PT2S is longer than the maximum hold time PT1S (maxHold)");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(
					() -> this.template.exclusive("a").maxHold(Duration.ofSeconds(1)).minHold(Duration.ofSeconds(2)))
			.withMessage("Minimum hold time PT2S is longer than the maximum hold time PT1S (maxHold)");
		LockTemplate limited = template(this.repository, this.settings.withMaxHold(Duration.ofSeconds(1)), null);
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> limited.exclusive("a").minHold(Duration.ofSeconds(2)).run(() -> {
			}))
			.withMessage("Minimum hold time PT2S is longer than the maximum hold time PT1S (latchkey.max-hold)");
		assertThat(this.repository.inspect("a")).isEmpty();
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> this.template.exclusive("a").maxHold(Duration.ZERO))
			.withMessage("Maximum hold time must be positive, was PT0S");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> this.settings.withMaxHold(Duration.ofDays(400)))
			.withMessageContaining("Maximum hold time of PT9600H is longer than the longest allowed");
	}

	// Holder descriptions

	@Test
	void descriptionIsStoredWithEachLeaseOfTheCallAndShownByInspect() {
		this.template.exclusive("import").description("nightly import 2026-12-05").run(() -> {
			assertThat(this.template.inspect("import")).get()
				.satisfies((info) -> assertThat(info.holders()).singleElement()
					.satisfies((holder) -> assertThat(holder.description()).isEqualTo("nightly import 2026-12-05")));
			// A reentrant call keeps the lease it re-enters, description and all.
			this.template.exclusive("import")
				.description("something else")
				.run(() -> assertThat(this.repository.inspect("import")).get()
					.satisfies((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::description)
						.containsExactly("nightly import 2026-12-05")));
		});
		try (LockHandle both = this.template.exclusive("account:1", "account:2").description("transfer 77").acquire();
				LockHandle reader = this.template.shared("rates").description("").acquire();
				LockHandle permit = this.template.semaphore("reports", 2).description(null).acquire()) {
			assertThat(this.repository.list()).extracting(LockInfo::key, (info) -> info.holders().get(0).description())
				.containsExactly(tuple("account:1", "transfer 77"), tuple("account:2", "transfer 77"),
						tuple("rates", null), tuple("reports", null));
		}
	}

	@Test
	void descriptionThatIsTooLongOrHoldsAControlCharacterIsRefusedAtOnce() {
		String longest = "d".repeat(LeaseSpec.MAX_DESCRIPTION_LENGTH);
		assertThat(this.template.exclusive("a")
			.description(longest)
			.call(() -> this.repository.inspect("a").orElseThrow().holders().get(0).description())).isEqualTo(longest);
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> this.template.exclusive("a").description(longest + "d"))
			.withMessageStartingWith("Lock description of 201 characters is longer than the maximum of 200: 'ddd")
			.withMessageEndingWith("...'; shorten the description");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> this.template.exclusive("a").description("import\nday 2"))
			.withMessage("Lock description 'import\\u000Aday 2' contains the control character U+000A at index 6;"
					+ " write the description on one line, without control characters (U+0000 to U+001F,"
					+ " U+007F to U+009F) or unpaired surrogates");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> this.template.exclusive("a").description("next line \u0085"))
			.withMessageContaining("the control character U+0085 at index 10");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> this.template.exclusive("a").description("half \uD83D"))
			.withMessageContaining("the unpaired surrogate U+D83D at index 5");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> LeaseSpec.exclusive("a", "owner", "token", Duration.ofSeconds(1)).withDescription("\t"))
			.withMessageContaining("the control character U+0009");
		assertThat(LeaseSpec.exclusive("a", "owner", "token", Duration.ofSeconds(1)).withDescription("").description())
			.isNull();
		LeaseSpec described = LeaseSpec.semaphore("a", 2, "owner", "token", Duration.ofSeconds(1))
			.withDescription("kept");
		assertThat(described.withTtl(Duration.ofSeconds(5)).description()).isEqualTo("kept");
		assertThat(this.repository.inspect("a")).isEmpty();
	}

	// Looking at a key without taking it

	@Test
	void inspectAndFreePermitsShowTheBackendsViewWithoutTakingAnything() {
		LockTemplate elsewhere = template(this.repository, this.settings.withOwner("elsewhere"), null);
		assertThat(this.template.inspect("reports")).isEmpty();
		assertThat(this.template.freePermits("reports", 3)).isEqualTo(3);
		try (LockHandle first = elsewhere.semaphore("reports", 3).acquire();
				LockHandle second = elsewhere.semaphore("reports", 3).acquire()) {
			assertThat(this.template.freePermits("reports", 3)).isOne();
			assertThat(this.template.inspect("reports")).get().satisfies((info) -> {
				assertThat(info.mode()).isEqualTo(LeaseMode.SEMAPHORE);
				assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsOnly("elsewhere");
				assertThat(info.freePermits()).isOne();
			});
			assertThat(this.template.heldLeaseCount()).isZero();
		}
		try (LockHandle held = elsewhere.exclusive("reports").acquire()) {
			assertThat(this.template.freePermits("reports", 3)).isZero();
		}
		assertThat(this.template.waiters("reports")).as("the memory backend cannot tell").isEmpty();
	}

	@Test
	void emptyKeyIsRejected() {
		assertThatExceptionOfType(LockKeyException.class).isThrownBy(() -> this.template.exclusive("").acquire());
		assertThatExceptionOfType(LockKeyException.class).isThrownBy(() -> this.template.semaphore("", 2).run(() -> {
		}));
		assertThat(this.repository.list()).isEmpty();
	}

	@Test
	void keyLongerThanTheMaximumIsRejected() {
		LockTemplate template = template(this.repository, this.settings.withMaxKeyLength(16), null);
		assertThatExceptionOfType(LockKeyException.class).isThrownBy(() -> template.exclusive("x".repeat(17)).acquire())
			.withMessageContaining("latchkey.max-key-length");
		try (LockHandle handle = template.exclusive("x".repeat(16)).acquire()) {
			assertThat(this.repository.inspect("x".repeat(16))).isPresent();
		}
	}

	@Test
	void keyWithAControlCharacterOrAnUnpairedSurrogateIsRejectedBeforeTheBackendIsAsked() {
		assertThatExceptionOfType(LockKeyException.class)
			.isThrownBy(() -> this.template.exclusive("order\u0000 42").acquire())
			.withMessage("Lock key 'order\\u0000 42' contains the control character U+0000 at index 5; keys must not"
					+ " contain control characters (U+0000 to U+001F, U+007F to U+009F) or unpaired surrogates");
		assertThatExceptionOfType(LockKeyException.class)
			.isThrownBy(() -> this.template.semaphore("line\nbreak", 2).tryRun(() -> {
			}))
			.withMessageContaining("U+000A at index 4");
		assertThatExceptionOfType(LockKeyException.class)
			.isThrownBy(() -> this.template.exclusive("half-\uD83D").acquire())
			.withMessageContaining("the unpaired surrogate U+D83D at index 5");
		assertThat(this.repository.list()).isEmpty();
		// A character outside the BMP, a pair of surrogates, is a character like any
		// other.
		try (LockHandle handle = this.template.exclusive("order-\uD83D\uDE00").acquire()) {
			assertThat(this.repository.inspect("order-\uD83D\uDE00")).isPresent();
		}
	}

	@Test
	void keyInAMessageIsNeverCutBetweenTheHalvesOfASurrogatePair() {
		LockTemplate template = template(this.repository, this.settings.withMaxKeyLength(70), null);
		String key = "x".repeat(63) + "\uD83D\uDE00" + "y".repeat(10);
		assertThatExceptionOfType(LockKeyException.class).isThrownBy(() -> template.exclusive(key).acquire())
			.satisfies((ex) -> {
				assertThat(ex.getMessage()).contains("'" + "x".repeat(63) + "...'");
				assertThat(ex.getMessage().chars().filter((c) -> Character.isSurrogate((char) c)).count()).isZero();
			});
	}

	@Test
	void keyPrefixIsApplied() {
		LockTemplate template = template(this.repository, this.settings.withKeyPrefix("billing:").withMaxKeyLength(16),
				null);
		try (LockHandle handle = template.exclusive("order:1").acquire()) {
			assertThat(handle.lease().key()).isEqualTo("billing:order:1");
			assertThat(this.repository.inspect("billing:order:1")).isPresent();
			assertThat(this.repository.inspect("order:1")).isEmpty();
		}
		assertThat(this.repository.inspect("billing:order:1")).isEmpty();
		// The prefix counts towards the maximum length.
		assertThatExceptionOfType(LockKeyException.class).isThrownBy(() -> template.exclusive("order:123").acquire())
			.withMessageContaining("latchkey.max-key-length");
	}

	// Ownership and lifecycle

	@Test
	void leaseAcquiredOnOneThreadCanBeReleasedOnAnother() throws Exception {
		LockHandle handle = CompletableFuture
			.supplyAsync(() -> this.template.exclusive("order:1").acquire(), this.executor)
			.get(10, TimeUnit.SECONDS);
		assertThat(this.repository.inspect("order:1")).isPresent();
		handle.close();
		assertThat(this.repository.inspect("order:1")).isEmpty();
		LockHandle mine = this.template.exclusive("order:1").acquire();
		CompletableFuture.runAsync(mine::close, this.executor).get(10, TimeUnit.SECONDS);
		assertThat(this.repository.inspect("order:1")).isEmpty();
		assertThat(events(LockReleasedEvent.class)).hasSize(2);
	}

	@Test
	void closeStopsRenewing() {
		LockTemplate template = template(this.repository, this.settings, null);
		LockHandle handle = template.exclusive("order:1").ttl(SHORT_TTL).acquire();
		assertThat(template.heldLeaseCount()).isOne();
		assertThatNoException().isThrownBy(template::close);
		assertThat(template.heldLeaseCount()).isZero();
		// No longer renewed, the lease expires at the backend.
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> this.repository.inspect("order:1").isEmpty());
		assertThat(handle.lease().isValid()).isFalse();
		assertThatNoException().isThrownBy(template::close);
	}

	@Test
	void closingAHandleWithAMinimumHoldAfterTheTemplateClosedReleasesAtOnce() {
		LockTemplate template = template(this.repository, this.settings, null);
		LockHandle handle = template.exclusive("order:1").minHold(Duration.ofSeconds(30)).acquire();
		template.close();
		assertThatNoException().isThrownBy(handle::close);
		assertThat(this.repository.inspect("order:1")).isEmpty();
	}

	@Test
	void nestedCallThroughAnotherTemplateDoesNotReenter() {
		// Two templates stand for two independent clients: one must not re-enter the
		// other's lease.
		LockTemplate other = template(this.repository, this.settings, null);
		this.template.exclusive("order:1").run(() -> {
			assertThat(other.exclusive("order:1").tryAcquire()).isEmpty();
			assertThat(this.template.exclusive("order:1").acquire().isReentrant()).isTrue();
		});
	}

	// Several keys at once

	@Test
	void severalKeysAreTakenInCanonicalOrderWhateverTheOrderGivenAndDuplicatesCountOnce() {
		List<String> attempts = new CopyOnWriteArrayList<>();
		LockTemplate template = template(new ForwardingLockRepository(this.repository) {

			@Override
			public OptionalLong tryAcquire(LeaseSpec lease) {
				attempts.add(lease.key());
				return super.tryAcquire(lease);
			}

		}, this.settings.withKeyPrefix("bank:"), null);
		try (LockHandle handle = template.exclusive("account:2", "account:10", "account:1", "account:2").acquire()) {
			assertThat(attempts).containsExactly("bank:account:1", "bank:account:10", "bank:account:2");
			assertThat(handle.leases()).extracting(Lease::key)
				.containsExactly("bank:account:1", "bank:account:10", "bank:account:2");
			assertThat(handle.isReentrant()).isFalse();
			assertThat(this.repository.list()).hasSize(3);
		}
		assertThat(this.repository.list()).isEmpty();
	}

	@Test
	void severalFreeKeysAreAskedForInOneAttemptInCanonicalOrder() {
		List<List<String>> atOnce = new CopyOnWriteArrayList<>();
		LockTemplate template = template(new ForwardingLockRepository(this.repository) {

			@Override
			public List<Long> tryAcquireAll(List<LeaseSpec> leases) {
				atOnce.add(leases.stream().map(LeaseSpec::key).toList());
				return this.delegate().tryAcquireAll(leases);
			}

			@Override
			public OptionalLong tryAcquire(LeaseSpec lease) {
				throw new AssertionError("One attempt at every key, not " + lease.key() + " alone");
			}

		}, this.settings, this.events::add);
		try (LockHandle handle = template.exclusive("account:3", "account:1", "account:2")
			.waitTime(Duration.ofSeconds(1))
			.acquire()) {
			assertThat(atOnce).containsExactly(List.of("account:1", "account:2", "account:3"));
			for (String key : List.of("account:1", "account:2", "account:3")) {
				assertThat(this.repository.inspect(key))
					.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
						.extracting(LockInfo.Holder::fencingToken)
						.isEqualTo(handle.fencingToken(key)));
			}
		}
		assertThat(events(LockAcquiredEvent.class)).extracting(LockEvent::getKey)
			.containsExactly("account:1", "account:2", "account:3");
		assertThat(events(LockReleasedEvent.class)).hasSize(3);
		assertThat(this.repository.list()).isEmpty();
	}

	@Test
	void refusedAttemptAtOnceWaitsKeyByKeyAndEachKeyIsObservedOnce() throws Exception {
		LockTemplate other = template(this.repository, this.settings.withOwner("other"), null);
		LockHandle held = other.exclusive("account:2").acquire();
		// Refused at once, then one attempt per key tells which key is held.
		assertThat(this.template.exclusive("account:1", "account:2", "account:3").tryAcquire()).isEmpty();
		assertThat(events(LockNotAcquiredEvent.class)).extracting(LockEvent::getKey)
			.containsExactly("account:2", "account:3");
		assertThat(events(LockAcquiredEvent.class)).extracting(LockEvent::getKey).containsExactly("account:1");
		assertThat(events(LockReleasedEvent.class)).extracting(LockEvent::getKey).containsExactly("account:1");
		assertThatExceptionOfType(LockNotAcquiredException.class)
			.isThrownBy(() -> this.template.exclusive("account:1", "account:2").acquire())
			.satisfies((ex) -> assertThat(ex.getKey()).isEqualTo("account:2"));
		assertThat(this.repository.inspect("account:1")).isEmpty();
		this.events.clear();
		Future<Boolean> waiting = this.executor
			.submit(() -> this.template.exclusive("account:3", "account:2", "account:1")
				.waitTime(Duration.ofSeconds(10))
				.tryRun(() -> {
				}));
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> this.template.waiterCount("account:2") == 1);
		held.close();
		assertThat(waiting.get(10, TimeUnit.SECONDS)).isTrue();
		assertThat(events(LockNotAcquiredEvent.class)).isEmpty();
		assertThat(events(LockAcquiredEvent.class)).extracting(LockEvent::getKey)
			.containsExactly("account:1", "account:2", "account:3");
		assertThat(this.repository.list()).isEmpty();
	}

	@Test
	void attemptAtOnceWhoseAnswerIsLostReleasesEveryTokenItSent() {
		List<LeaseSpec> sent = new CopyOnWriteArrayList<>();
		LockTemplate template = template(new ForwardingLockRepository(this.repository) {

			@Override
			public List<Long> tryAcquireAll(List<LeaseSpec> leases) {
				sent.addAll(leases);
				// Granted at the backend, but the answer never arrives.
				this.delegate().tryAcquireAll(leases);
				throw new LockBackendException("test", "Timed out", null);
			}

		}, this.settings, this.events::add);
		assertThatExceptionOfType(LockBackendException.class)
			.isThrownBy(() -> template.exclusive("account:1", "account:2").acquire());
		assertThat(sent).extracting(LeaseSpec::key).containsExactly("account:1", "account:2");
		assertThat(template.heldLeaseCount()).isZero();
		assertThat(events(LockAcquireFailedEvent.class)).hasSize(2);
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> this.repository.list().isEmpty());
	}

	@Test
	void severalKeysAreTakenAllOrNone() {
		try (LockHandle held = this.template.exclusive("account:2").acquire()) {
			assertThat(this.template.exclusive("account:3", "account:2", "account:1").tryAcquire()).isEmpty();
			assertThatExceptionOfType(LockNotAcquiredException.class)
				.isThrownBy(() -> this.template.exclusive("account:1", "account:2").acquire())
				.satisfies((ex) -> assertThat(ex.getMessage()).contains("account:2"));
			assertThat(this.repository.inspect("account:1")).isEmpty();
			assertThat(this.repository.inspect("account:3")).isEmpty();
			assertThat(this.template.heldLeases()).singleElement().extracting(Lease::key).isEqualTo("account:2");
		}
	}

	@Test
	void severalKeysWaitForAKeyHeldElsewhereWithinTheOneWaitTime() throws Exception {
		LockHandle held = this.template.exclusive("account:2").acquire();
		Future<Long> transfer = this.executor.submit(() -> this.template.exclusive("account:1", "account:2")
			.waitTime(Duration.ofSeconds(10))
			.call(() -> LockContext.fencingToken("account:2")));
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> this.template.waiterCount("account:2") == 1);
		// The first key is held while the second is awaited.
		assertThat(this.repository.inspect("account:1")).isPresent();
		long heldToken = held.fencingToken();
		held.close();
		assertThat(transfer.get(10, TimeUnit.SECONDS)).isGreaterThan(heldToken);
		assertThat(this.repository.list()).isEmpty();
	}

	@Test
	void eachKeyHasItsOwnFencingTokenInTheHandleAndTheContext() {
		LockTemplate template = template(this.repository, this.settings.withKeyPrefix("bank:"), null);
		try (LockHandle handle = template.exclusive("account:b", "account:a").acquire()) {
			long a = handle.fencingToken("account:a");
			long b = handle.fencingToken("account:b");
			assertThat(this.repository.inspect("bank:account:a"))
				.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
					.extracting(LockInfo.Holder::fencingToken)
					.isEqualTo(a));
			assertThat(this.repository.inspect("bank:account:b"))
				.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
					.extracting(LockInfo.Holder::fencingToken)
					.isEqualTo(b));
			assertThatExceptionOfType(IllegalStateException.class).isThrownBy(handle::fencingToken)
				.withMessageContaining("fencingToken(key)");
			assertThatExceptionOfType(IllegalStateException.class).isThrownBy(handle::lease);
			assertThatExceptionOfType(IllegalArgumentException.class)
				.isThrownBy(() -> handle.fencingToken("account:c"));
		}
		long[] tokens = template.exclusive("account:a", "account:b")
			.call(() -> new long[] { LockContext.fencingToken("account:a"), LockContext.fencingToken("account:b"),
					LockContext.fencingToken() });
		assertThat(tokens[0]).isPositive();
		assertThat(tokens[1]).isPositive();
		// The innermost lease is the last key in canonical order.
		assertThat(tokens[2]).isEqualTo(tokens[1]);
		assertThatExceptionOfType(IllegalStateException.class)
			.isThrownBy(() -> template.exclusive("account:a").run(() -> LockContext.fencingToken("account:b")));
	}

	@Test
	void aLockOfSeveralKeysReentersTheKeysTheCallChainHoldsAndReleasesOnlyTheOthers() {
		this.template.exclusive("account:2").run(() -> {
			long outer = LockContext.fencingToken("account:2");
			try (LockHandle inner = this.template.exclusive("account:1", "account:2").acquire()) {
				assertThat(inner.isReentrant()).isFalse();
				assertThat(inner.fencingToken("account:2")).isEqualTo(outer);
				assertThat(this.repository.inspect("account:1")).isPresent();
			}
			assertThat(this.repository.inspect("account:1")).isEmpty();
			assertThat(this.repository.inspect("account:2")).isPresent();
			this.template.exclusive("account:1", "account:2").run(() -> {
				try (LockHandle innermost = this.template.exclusive("account:2", "account:1").acquire()) {
					assertThat(innermost.isReentrant()).isTrue();
				}
				assertThat(this.repository.inspect("account:1")).isPresent();
			});
		});
		assertThat(this.repository.list()).isEmpty();
	}

	@Test
	void losingOneKeyLosesTheLockOnceAndGivesUpTheOtherKeys() {
		FaultyLockRepository faulty = new FaultyLockRepository(this.repository);
		LockTemplate template = template(faulty, this.settings, this.events::add);
		AtomicInteger actions = new AtomicInteger();
		AtomicBoolean interrupted = new AtomicBoolean();
		assertThatExceptionOfType(LockLostException.class)
			.isThrownBy(() -> template.exclusive("account:1", "account:2").ttl(SHORT_TTL).call(() -> {
				this.repository.forceRelease("account:1");
				try {
					Thread.sleep(10_000);
					return "finished";
				}
				catch (InterruptedException ex) {
					interrupted.set(true);
					return "interrupted";
				}
			}));
		assertThat(interrupted).isTrue();
		// The work is told first; the other key is given back right after.
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> this.repository.list().isEmpty());
		assertThat(template.lostLeaseCount()).isEqualTo(2);
		assertThat(template.heldLeaseCount()).isZero();
		assertThat(events(LockLostEvent.class)).hasSize(2);
		try (LockHandle handle = template.exclusive("account:1", "account:2").ttl(SHORT_TTL).acquire()) {
			handle.onLost((lost) -> actions.incrementAndGet());
			this.repository.forceRelease("account:2");
			Awaitility.await()
				.atMost(Duration.ofSeconds(5))
				.until(() -> template.lostLeaseCount() == 4 && this.repository.list().isEmpty());
		}
		assertThat(actions).hasValue(1);
	}

	@Test
	void aFailedAttemptOnALaterKeyReleasesTheEarlierOnes() {
		LockTemplate template = template(new ForwardingLockRepository(this.repository) {

			@Override
			public OptionalLong tryAcquire(LeaseSpec lease) {
				if (lease.key().equals("account:2")) {
					throw new LockBackendException("test", "Backend down", null);
				}
				return super.tryAcquire(lease);
			}

		}, this.settings, null);
		assertThatExceptionOfType(LockBackendException.class)
			.isThrownBy(() -> template.exclusive("account:2", "account:1").acquire());
		assertThat(this.repository.inspect("account:1")).isEmpty();
		assertThat(template.heldLeaseCount()).isZero();
	}

	@Test
	void opposingOrdersNeverDeadlockNorOverlap() throws Exception {
		LockTemplate other = template(this.repository, this.settings.withOwner("other"), null);
		int rounds = 2_000;
		AtomicInteger done = new AtomicInteger();
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger overlaps = new AtomicInteger();
		int[] counter = { 0 };
		List<Future<?>> workers = new ArrayList<>();
		String[][] orders = { { "a", "b" }, { "b", "a" } };
		for (LockTemplate locks : List.of(this.template, other)) {
			for (String[] order : orders) {
				workers.add(this.executor.submit(() -> {
					while (done.get() < rounds) {
						locks.exclusive(order[0], order[1]).waitTime(Duration.ofSeconds(10)).run(() -> {
							if (inside.incrementAndGet() > 1) {
								overlaps.incrementAndGet();
							}
							int read = counter[0];
							Thread.yield();
							counter[0] = read + 1;
							done.incrementAndGet();
							inside.decrementAndGet();
						});
					}
					return null;
				}));
			}
		}
		for (Future<?> worker : workers) {
			worker.get(25, TimeUnit.SECONDS);
		}
		assertThat(overlaps).hasValue(0);
		assertThat(counter[0]).isEqualTo(done.get()).isGreaterThanOrEqualTo(rounds);
		assertThat(this.repository.list()).isEmpty();
	}

	// Helpers

	private LockTemplate template(LockRepository repository, LockSettings settings,
			@Nullable ApplicationEventPublisher publisher) {
		LockTemplate template = new LockTemplate(repository, settings,
				(publisher != null) ? new EventPublishingLockObserver(publisher) : null);
		this.templates.add(template);
		return template;
	}

	private <E> List<E> events(Class<E> type) {
		return this.events.stream().filter(type::isInstance).map(type::cast).toList();
	}

	private <E> E single(Class<E> type) {
		List<E> matching = events(type);
		assertThat(matching).as("%s events", type.getSimpleName()).hasSize(1);
		return matching.get(0);
	}

	private static void assertEvent(LockEvent event, String key, String name, long fencingToken) {
		assertThat(event.getKey()).isEqualTo(key);
		assertThat(event.getName()).isEqualTo(name);
		assertThat(event.getBackend()).isEqualTo("memory");
		assertThat(event.getOwner()).isEqualTo(OWNER);
		assertThat(event.getFencingToken()).isEqualTo(fencingToken);
	}

	private static Throwable catchThrowable(Runnable action) {
		try {
			action.run();
			return null;
		}
		catch (Throwable ex) {
			return ex;
		}
	}

	private static void sleepUntil(BooleanSupplier condition, Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (!condition.getAsBoolean() && System.nanoTime() - deadline < 0) {
			sleep(10);
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
	}

}
