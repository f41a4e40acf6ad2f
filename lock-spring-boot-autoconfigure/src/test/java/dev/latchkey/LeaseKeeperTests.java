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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.List;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link LeaseKeeper}.
 */
class LeaseKeeperTests {

	private final CountDownLatch unblock = new CountDownLatch(1);

	private final HangingRepository repository = new HangingRepository(this.unblock);

	private final LeaseKeeper keeper = new LeaseKeeper(this.repository, null);

	@AfterEach
	void close() {
		this.unblock.countDown();
		this.keeper.close();
	}

	@Test
	void leaseIsLostAtItsDeadlineWhileItsRenewalHangs() throws Exception {
		LeaseSpec spec = LeaseSpec.exclusive("order:1", "test", UUID.randomUUID().toString(), Duration.ofMillis(900));
		TestLease lease = new TestLease(spec, Duration.ofMillis(100),
				System.nanoTime() + Duration.ofMillis(600).toNanos());
		this.keeper.keep(lease);
		// The first renewal hangs (a paused server); the lease must still be lost at its
		// local deadline.
		LossReason reason = lease.lost.get(5, TimeUnit.SECONDS);
		long lostAt = System.nanoTime();
		assertThat(reason).isEqualTo(LossReason.RENEWAL_FAILED);
		assertThat(this.repository.renewing.getCount()).as("renewal still hanging").isZero();
		assertThat(this.unblock.getCount()).isOne();
		assertThat(lostAt - lease.validUntilNanos()).isLessThan(Duration.ofMillis(300).toNanos());
		assertThat(this.keeper.size()).isZero();
	}

	@Test
	void aLeaseIsRenewedUntilItsMaximumHoldTimeThenLost() throws Exception {
		MemoryLockRepository memory = new MemoryLockRepository();
		LeaseSpec spec = LeaseSpec.exclusive("order:3", "test", UUID.randomUUID().toString(), Duration.ofMillis(300));
		assertThat(memory.tryAcquire(spec)).isPresent();
		try (LeaseKeeper keeper = new LeaseKeeper(memory, null)) {
			TestLease lease = new TestLease(spec, Duration.ofMillis(100),
					System.nanoTime() + Duration.ofMillis(250).toNanos(), Duration.ofMillis(700));
			keeper.keep(lease);
			assertThat(lease.lost.get(5, TimeUnit.SECONDS)).isEqualTo(LossReason.MAX_HOLD_EXCEEDED);
			long lostAfter = System.nanoTime() - lease.acquiredAtNanos();
			assertThat(lostAfter).isBetween(Duration.ofMillis(700).toNanos(), Duration.ofMillis(1000).toNanos());
			assertThat(lease.renewals.get()).as("renewed until the limit").isGreaterThanOrEqualTo(4);
			int renewalsAtLoss = lease.renewals.get();
			assertThat(keeper.size()).isZero();
			Awaitility.await()
				.during(Duration.ofMillis(300))
				.atMost(Duration.ofSeconds(1))
				.until(() -> lease.renewals.get() == renewalsAtLoss);
		}
	}

	@Test
	void aLeaseIsLostAtItsMaximumHoldTimeWhileItsRenewalHangs() throws Exception {
		LeaseSpec spec = LeaseSpec.exclusive("order:4", "test", UUID.randomUUID().toString(), Duration.ofSeconds(9));
		TestLease lease = new TestLease(spec, Duration.ofMillis(100),
				System.nanoTime() + Duration.ofSeconds(8).toNanos(), Duration.ofMillis(500));
		this.keeper.keep(lease);
		assertThat(lease.lost.get(5, TimeUnit.SECONDS)).isEqualTo(LossReason.MAX_HOLD_EXCEEDED);
		assertThat(System.nanoTime() - lease.acquiredAtNanos()).isLessThan(Duration.ofMillis(800).toNanos());
		assertThat(this.unblock.getCount()).as("renewal still hanging").isOne();
	}

	@Test
	void onTheApplicationsSchedulerALeaseIsStillLostAtItsDeadlineWhileItsRenewalHangs() throws Exception {
		try (SimpleAsyncTaskScheduler scheduler = new SimpleAsyncTaskScheduler()) {
			LeaseKeeper keeper = new LeaseKeeper(this.repository, scheduler);
			try {
				LeaseSpec spec = LeaseSpec.exclusive("order:2", "test", UUID.randomUUID().toString(),
						Duration.ofMillis(900));
				TestLease lease = new TestLease(spec, Duration.ofMillis(100),
						System.nanoTime() + Duration.ofMillis(600).toNanos());
				keeper.keep(lease);
				assertThat(lease.lost.get(5, TimeUnit.SECONDS)).isEqualTo(LossReason.RENEWAL_FAILED);
				assertThat(System.nanoTime() - lease.validUntilNanos()).isLessThan(Duration.ofMillis(300).toNanos());
				assertThat(this.unblock.getCount()).as("renewal still hanging").isOne();
			}
			finally {
				keeper.close();
			}
		}
	}

	@Test
	void closingCancelsWhatTheKeeperScheduledAndLeavesTheApplicationsSchedulerRunning() {
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		scheduler.setPoolSize(2);
		scheduler.initialize();
		try {
			LeaseKeeper keeper = new LeaseKeeper(this.repository, scheduler);
			AtomicBoolean deferredRan = new AtomicBoolean();
			keeper.schedule(() -> deferredRan.set(true), Duration.ofMillis(200));
			keeper.close();
			Awaitility.await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(2)).untilFalse(deferredRan);
			AtomicBoolean applicationTaskRan = new AtomicBoolean();
			scheduler.schedule(() -> applicationTaskRan.set(true), scheduler.getClock().instant());
			Awaitility.await().atMost(Duration.ofSeconds(2)).untilTrue(applicationTaskRan);
		}
		finally {
			scheduler.shutdown();
		}
	}

	@Test
	void aSchedulerOfOneThreadIsRefused() {
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		assertThatIllegalArgumentException().isThrownBy(() -> new LeaseKeeper(this.repository, scheduler))
			.withMessageContaining("two tasks at once");
	}

	@Test
	void aBackendThatAsksForSmallerRenewalCallsGetsThemEachLeaseTimedFromItsOwnCall() throws Exception {
		List<Integer> callSizes = new CopyOnWriteArrayList<>();
		MemoryLockRepository slow = new MemoryLockRepository() {

			@Override
			public int renewalBatchSize() {
				return 10;
			}

			@Override
			public Set<String> renew(Collection<LeaseSpec> leases) {
				callSizes.add(leases.size());
				try {
					// A backend whose renewal work grows with the leases it names.
					Thread.sleep(50);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				return super.renew(leases);
			}

		};
		List<TestLease> leases = new ArrayList<>();
		for (int i = 0; i < 35; i++) {
			LeaseSpec spec = LeaseSpec.exclusive("batch:" + i, "test", UUID.randomUUID().toString(),
					Duration.ofSeconds(30));
			assertThat(slow.tryAcquire(spec)).isPresent();
			leases
				.add(new TestLease(spec, Duration.ofMillis(300), System.nanoTime() + Duration.ofSeconds(25).toNanos()));
		}
		try (LeaseKeeper keeper = new LeaseKeeper(slow, null)) {
			leases.forEach(keeper::keep);
			Awaitility.await()
				.atMost(Duration.ofSeconds(5))
				.until(() -> leases.stream().allMatch((lease) -> lease.renewals.get() >= 1));
			assertThat(callSizes.subList(0, 4)).containsExactly(10, 10, 10, 5);
			long earliest = leases.stream().mapToLong((lease) -> lease.firstRenewalRequestedAt).min().getAsLong();
			long latest = leases.stream().mapToLong((lease) -> lease.firstRenewalRequestedAt).max().getAsLong();
			assertThat(Duration.ofNanos(latest - earliest)).as("the last call's leases timed from their own call")
				.isGreaterThanOrEqualTo(Duration.ofMillis(150));
			assertThat(leases).allSatisfy((lease) -> assertThat(lease.lost).isNotDone());
		}
	}

	/**
	 * A memory backend whose renewals hang until released.
	 */
	static final class HangingRepository extends MemoryLockRepository {

		final CountDownLatch renewing = new CountDownLatch(1);

		private final CountDownLatch unblock;

		HangingRepository(CountDownLatch unblock) {
			this.unblock = unblock;
		}

		@Override
		public Set<String> renew(Collection<LeaseSpec> leases) {
			this.renewing.countDown();
			try {
				this.unblock.await(30, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			return super.renew(leases);
		}

	}

	static final class TestLease implements LeaseKeeper.KeptLease {

		final CompletableFuture<LossReason> lost = new CompletableFuture<>();

		private final LeaseSpec spec;

		private final Duration renewInterval;

		private volatile long validUntilNanos;

		private final long acquiredAtNanos = System.nanoTime();

		private final @Nullable Duration maxHold;

		final AtomicInteger renewals = new AtomicInteger();

		volatile long firstRenewalRequestedAt;

		TestLease(LeaseSpec spec, Duration renewInterval, long validUntilNanos) {
			this(spec, renewInterval, validUntilNanos, null);
		}

		TestLease(LeaseSpec spec, Duration renewInterval, long validUntilNanos, @Nullable Duration maxHold) {
			this.spec = spec;
			this.renewInterval = renewInterval;
			this.validUntilNanos = validUntilNanos;
			this.maxHold = maxHold;
		}

		@Override
		public long acquiredAtNanos() {
			return this.acquiredAtNanos;
		}

		@Override
		public @Nullable Duration holdLimit() {
			return this.maxHold;
		}

		@Override
		public Duration safetyMargin() {
			return Duration.ofMillis(50);
		}

		@Override
		public LeaseSpec spec() {
			return this.spec;
		}

		@Override
		public Duration renewInterval() {
			return this.renewInterval;
		}

		@Override
		public long validUntilNanos() {
			return this.validUntilNanos;
		}

		@Override
		public void renewed(long requestedAtNanos) {
			if (this.renewals.incrementAndGet() == 1) {
				this.firstRenewalRequestedAt = requestedAtNanos;
			}
			this.validUntilNanos = requestedAtNanos + this.spec.ttl().toNanos();
		}

		@Override
		public void lost(LossReason reason, @Nullable Throwable cause) {
			this.lost.complete(reason);
		}

	}

}
