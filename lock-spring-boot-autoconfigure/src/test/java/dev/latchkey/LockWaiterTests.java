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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.test.ForwardingLockRepository;
import dev.latchkey.test.HandOffs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link LockWaiter}, mostly on a backend that cannot announce releases, so
 * that only polling and this process's own wake-ups remain.
 */
@Timeout(30)
class LockWaiterTests {

	private static final Duration POLL = Duration.ofMillis(20);

	private static final Duration LONG_TTL = Duration.ofSeconds(30);

	private final MemoryLockRepository memory = new MemoryLockRepository();

	private final SilentLockRepository repository = new SilentLockRepository(this.memory);

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@AfterEach
	void shutdown() throws InterruptedException {
		this.executor.shutdownNow();
		this.executor.awaitTermination(10, TimeUnit.SECONDS);
	}

	@Test
	void waiterAcquiresByPollingOnceTheHoldersLeaseExpires() throws InterruptedException {
		LockWaiter waiter = new LockWaiter(POLL, Duration.ofMillis(200));
		Duration holderTtl = Duration.ofMillis(300);
		long start = System.nanoTime();
		long holderToken = this.memory.tryAcquire(exclusive("order:1", "holder", holderTtl)).getAsLong();
		LockWaiter.Grant grant = waiter.acquire(this.repository, exclusive("order:1", "waiter", LONG_TTL),
				this.repository::tryAcquire, Duration.ofSeconds(10));
		assertThat(grant).isNotNull();
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(holderTtl);
		assertThat(grant.fencingToken()).isGreaterThan(holderToken);
		assertThat(this.repository.attempts.get()).isGreaterThan(1);
		assertThat(this.memory.inspect("order:1")).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("waiter"));
		assertThat(waiter.waitingKeys()).isZero();
	}

	@Test
	void waiterAcquiresByPollingAfterAReleaseItWasNotToldOf() throws Exception {
		LockWaiter waiter = new LockWaiter(POLL, Duration.ofMillis(200));
		LeaseSpec holder = exclusive("order:1", "holder", LONG_TTL);
		assertThat(this.memory.tryAcquire(holder)).isPresent();
		Future<LockWaiter.Grant> waiting = this.executor.submit(() -> waiter.acquire(this.repository,
				exclusive("order:1", "waiter", LONG_TTL), this.repository::tryAcquire, Duration.ofSeconds(10)));
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> this.repository.attempts.get() >= 2);
		assertThat(waiting).isNotDone();
		assertThat(this.memory.release(holder)).isTrue();
		assertThat(waiting.get(10, TimeUnit.SECONDS)).isNotNull();
		assertThat(this.memory.inspect("order:1")).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("waiter"));
	}

	@Test
	void waiterFallsBackToPollingWhenTheBackendCannotSubscribe() throws Exception {
		LockWaiter waiter = new LockWaiter(POLL, Duration.ofMillis(200));
		this.repository.failSubscriptions = true;
		LeaseSpec holder = exclusive("order:1", "holder", LONG_TTL);
		assertThat(this.memory.tryAcquire(holder)).isPresent();
		Future<LockWaiter.Grant> waiting = this.executor.submit(() -> waiter.acquire(this.repository,
				exclusive("order:1", "waiter", LONG_TTL), this.repository::tryAcquire, Duration.ofSeconds(10)));
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> this.repository.attempts.get() >= 2);
		assertThat(this.memory.release(holder)).isTrue();
		assertThat(waiting.get(10, TimeUnit.SECONDS)).isNotNull();
		assertThat(waiter.waitingKeys()).isZero();
	}

	@Test
	void waiterGivesUpAtTheEndOfItsWaitTime() throws InterruptedException {
		LockWaiter waiter = new LockWaiter(POLL, Duration.ofMillis(200));
		assertThat(this.memory.tryAcquire(exclusive("order:1", "holder", LONG_TTL))).isPresent();
		long start = System.nanoTime();
		assertThat(waiter.acquire(this.repository, exclusive("order:1", "waiter", LONG_TTL),
				this.repository::tryAcquire, Duration.ofMillis(200)))
			.isNull();
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
		assertThat(waiter.waitingKeys()).isZero();
	}

	@Test
	void onlyTheHeadOfTheWaitLineAsksTheBackend() throws Exception {
		int threads = 20;
		// A fixed poll interval: twenty threads polling independently would make
		// thousands of attempts.
		LockWaiter waiter = new LockWaiter(POLL, POLL);
		LeaseSpec holder = exclusive("order:1", "holder", LONG_TTL);
		assertThat(this.memory.tryAcquire(holder)).isPresent();
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger maxInside = new AtomicInteger();
		List<Future<LockWaiter.Grant>> waiters = new ArrayList<>();
		long start = System.nanoTime();
		for (int i = 0; i < threads; i++) {
			String owner = "waiter-" + i;
			waiters.add(this.executor.submit(() -> {
				LeaseSpec lease = exclusive("order:1", owner, LONG_TTL);
				LockWaiter.Grant grant = waiter.acquire(this.repository, lease, this.repository::tryAcquire,
						Duration.ofSeconds(20));
				if (grant != null) {
					maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
					Thread.sleep(2);
					inside.decrementAndGet();
					this.repository.release(lease);
					// As LockTemplate does after a release made in this process.
					waiter.released(lease.key());
				}
				return grant;
			}));
		}
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> this.repository.attempts.get() >= threads);
		Thread.sleep(600);
		int attempts = this.repository.attempts.get();
		Duration waited = Duration.ofNanos(System.nanoTime() - start);
		assertThat(this.memory.release(holder)).isTrue();
		// One first attempt per thread; then only the head polls, at most once per half
		// poll interval (jitter).
		long headPolls = waited.toNanos() / POLL.dividedBy(2).toNanos() + 1;
		assertThat(attempts).isGreaterThan(threads + 3).isLessThanOrEqualTo((int) (threads + headPolls));
		List<Long> fencingTokens = new ArrayList<>();
		for (Future<LockWaiter.Grant> future : waiters) {
			LockWaiter.Grant grant = future.get(20, TimeUnit.SECONDS);
			assertThat(grant).isNotNull();
			fencingTokens.add(grant.fencingToken());
		}
		assertThat(fencingTokens).doesNotHaveDuplicates();
		assertThat(maxInside.get()).isOne();
		assertThat(waiter.waitingKeys()).isZero();
	}

	@Test
	void aCallerOnAKeyFoundContendedListensBeforeItsFirstAttemptAndAttemptsOncePerRelease() throws Exception {
		// Polls far apart: every wake-up here comes from a release the memory backend
		// announces.
		LockWaiter waiter = new LockWaiter(Duration.ofSeconds(20), Duration.ofSeconds(20));
		LeaseSpec holder = heldAndFoundContended(waiter);
		AtomicInteger attempts = new AtomicInteger();
		Future<LockWaiter.Grant> waiting = this.executor
			.submit(() -> waiter.acquire(this.memory, exclusive("order:1", "second", LONG_TTL), (lease) -> {
				attempts.incrementAndGet();
				return this.memory.tryAcquire(lease);
			}, Duration.ofSeconds(10)));
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> waiter.waiting("order:1") == 1);
		// Listening since before its refused attempt, it waits for the release rather
		// than trying again first.
		Thread.sleep(100);
		assertThat(attempts).hasValue(1);
		assertThat(this.memory.release(holder)).isTrue();
		assertThat(waiting.get(10, TimeUnit.SECONDS)).isNotNull();
		assertThat(attempts).hasValue(2);
		assertThat(waiter.waitingKeys()).isZero();
	}

	@Test
	void aReleaseDuringTheFirstAttemptOnAKeyFoundContendedIsNotMissed() throws Exception {
		LockWaiter waiter = new LockWaiter(Duration.ofSeconds(20), Duration.ofSeconds(20));
		LeaseSpec holder = heldAndFoundContended(waiter);
		AtomicInteger attempts = new AtomicInteger();
		long start = System.nanoTime();
		// The holder lets go just after the caller's first attempt was refused, before
		// the caller waits.
		LockWaiter.Grant grant = waiter.acquire(this.memory, exclusive("order:1", "second", LONG_TTL), (lease) -> {
			OptionalLong granted = this.memory.tryAcquire(lease);
			if (attempts.incrementAndGet() == 1) {
				assertThat(this.memory.release(holder)).isTrue();
			}
			return granted;
		}, Duration.ofSeconds(10));
		assertThat(grant).isNotNull();
		assertThat(attempts).hasValue(2);
		// Woken by that release, not by a poll 10 to 20 seconds later.
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
		assertThat(waiter.waitingKeys()).isZero();
	}

	@Test
	void aPermitsConflictFoundWhileQueuedReachesTheCallerAtOnce() {
		// The socket backend answers a queued request whose limit conflicts with the
		// key's holders (changed between the first attempt and the queueing) with a
		// failed future. That is the caller's error, not a lost queue to join again.
		AtomicInteger queued = new AtomicInteger();
		LockPermitsConflictException conflict = new LockPermitsConflictException("reports", 3, 2);
		class ConflictingQueue extends ForwardingLockRepository implements QueueingLockRepository {

			ConflictingQueue(LockRepository delegate) {
				super(delegate);
			}

			@Override
			public CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease) {
				queued.incrementAndGet();
				return CompletableFuture.failedFuture(conflict);
			}

			@Override
			public boolean cancelQueued(LeaseSpec lease) {
				return true;
			}

		}
		ConflictingQueue queueing = new ConflictingQueue(this.memory);
		assertThat(this.memory
			.tryAcquirePermit(LeaseSpec.semaphore("reports", 2, "holder", UUID.randomUUID().toString(), LONG_TTL)))
			.isPresent();
		assertThat(this.memory
			.tryAcquirePermit(LeaseSpec.semaphore("reports", 2, "holder", UUID.randomUUID().toString(), LONG_TTL)))
			.isPresent();
		LeaseSpec lease = LeaseSpec.semaphore("reports", 2, "waiter", UUID.randomUUID().toString(), LONG_TTL);
		LockWaiter waiter = new LockWaiter(POLL, POLL);
		assertThatExceptionOfType(LockPermitsConflictException.class)
			.isThrownBy(() -> waiter.acquire(queueing, lease, "'reports'", queueing::tryAcquirePermit,
					Duration.ofSeconds(2), Duration.ofSeconds(25)))
			.isSameAs(conflict);
		assertThat(queued).hasValue(1);
	}

	@Test
	void aQueuedGrantThatIsStaleWhenReadIsGivenBackAndTheWaitGoesOn() throws InterruptedException {
		LockWaiter waiter = new LockWaiter(POLL, POLL);
		StaleFirstGrantRepository queueing = new StaleFirstGrantRepository(this.memory);
		assertThat(this.memory.tryAcquire(exclusive("order:9", "holder", LONG_TTL))).isPresent();
		LeaseSpec lease = exclusive("order:9", "waiter", Duration.ofSeconds(1));
		LockWaiter.Grant grant = waiter.acquire(queueing, lease, "'order'", queueing::tryAcquire, Duration.ofSeconds(5),
				Duration.ofMillis(800));
		// The first grant was made 2 s before it was read, past the 800 ms validity:
		// never used, given back.
		assertThat(grant).isNotNull();
		assertThat(grant.fencingToken()).isEqualTo(StaleFirstGrantRepository.FRESH_TOKEN);
		assertThat(queueing.released).containsExactly(lease.token());
	}

	@Test
	void aGrantTheBackendSaysItMadeButNeverDeliversEndsTheWaitAndIsGivenBackWhenItComes() throws Exception {
		// Seen once in the sample app on the socket backend: the request could not be
		// withdrawn, as granted, but its grant never reached the waiter, which then
		// waited for ever.
		LockWaiter waiter = new LockWaiter(POLL, POLL);
		LostGrantRepository queueing = new LostGrantRepository(this.memory);
		assertThat(this.memory.tryAcquire(exclusive("order:10", "holder", LONG_TTL))).isPresent();
		LeaseSpec lease = exclusive("order:10", "waiter", LONG_TTL);
		long start = System.nanoTime();
		LockWaiter.Grant grant = waiter.acquire(queueing, lease, "'order'", queueing::tryAcquire,
				Duration.ofMillis(200), LONG_TTL);
		assertThat(grant).as("not acquired").isNull();
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
		assertThat(queueing.released).isEmpty();
		queueing.granted.complete(new QueueingLockRepository.QueuedGrant(7, System.nanoTime()));
		assertThat(queueing.released).as("the late grant is given back").containsExactly(lease.token());
	}

	/**
	 * Has a holder take {@code order:1} on the memory backend, and a caller of the waiter
	 * give up waiting for it, so that the waiter found the key contended.
	 */
	private LeaseSpec heldAndFoundContended(LockWaiter waiter) throws InterruptedException {
		LeaseSpec holder = exclusive("order:1", "holder", LONG_TTL);
		assertThat(this.memory.tryAcquire(holder)).isPresent();
		assertThat(waiter.acquire(this.memory, exclusive("order:1", "first", LONG_TTL), this.memory::tryAcquire,
				Duration.ofMillis(50)))
			.isNull();
		return holder;
	}

	@Test
	void theNextHeadWaitsForTheReleaseOfACallerGrantedFromItsLineWhereTheBackendKeepsItInLine() throws Exception {
		// Polls far apart: every wake-up comes from a release made in this process.
		LockSettings settings = LockSettings.defaults()
			.withWaitTime(Duration.ofSeconds(20))
			.withPollIntervals(Duration.ofSeconds(20), Duration.ofSeconds(20));
		KeepingInLineRepository keeping = new KeepingInLineRepository(this.memory, true);
		int granted = handOffs(keeping, settings);
		// One attempt per grant, and one more for each thread's first: the head waits for
		// the holder's release, which names it, instead of asking while the key is held.
		assertThat(keeping.attempts.get()).isLessThanOrEqualTo(granted * 21 / 20 + 8);
		assertThat(keeping.releasesNamingAWaiter.get()).isGreaterThan(granted / 2);
		// A backend that does not keep the line: the head asks as soon as its turn comes,
		// refused while the caller before it holds the key.
		KeepingInLineRepository asking = new KeepingInLineRepository(this.memory, false);
		int askedFor = handOffs(asking, settings);
		assertThat(asking.attempts.get()).isGreaterThan(askedFor * 3 / 2);
		assertThat(asking.releasesNamingAWaiter).hasValue(0);
	}

	/**
	 * Makes 400 grants of one key to eight threads of one template, and returns the
	 * grants made.
	 */
	private static int handOffs(LockRepository repository, LockSettings settings) throws InterruptedException {
		try (LockTemplate template = new LockTemplate(repository, settings)) {
			return HandOffs.take(List.of(template), 8, "order:1", 400);
		}
	}

	private static LeaseSpec exclusive(String key, String owner, Duration ttl) {
		return LeaseSpec.exclusive(key, owner, UUID.randomUUID().toString(), ttl);
	}

	/**
	 * A backend that cannot announce releases, and counts acquisition attempts.
	 */
	private static class SilentLockRepository extends ForwardingLockRepository {

		final AtomicInteger attempts = new AtomicInteger();

		volatile boolean failSubscriptions;

		SilentLockRepository(LockRepository delegate) {
			super(delegate);
		}

		@Override
		public OptionalLong tryAcquire(LeaseSpec lease) {
			this.attempts.incrementAndGet();
			return delegate().tryAcquire(lease);
		}

		@Override
		public OptionalLong tryAcquirePermit(LeaseSpec lease) {
			this.attempts.incrementAndGet();
			return delegate().tryAcquirePermit(lease);
		}

		@Override
		public ReleaseSubscription subscribe(String key, Runnable onRelease) {
			if (this.failSubscriptions) {
				throw new IllegalStateException("Subscriptions are down");
			}
			return ReleaseSubscription.NONE;
		}

	}

	/**
	 * A silent backend that keeps this process in line for the next waiter of a release,
	 * or says it does not, and whose release takes a millisecond; counts the waiting
	 * attempts too, and the releases that name a waiter.
	 */
	private static final class KeepingInLineRepository extends SilentLockRepository {

		final AtomicInteger releasesNamingAWaiter = new AtomicInteger();

		private final boolean keepsWaitersInLine;

		KeepingInLineRepository(LockRepository delegate, boolean keepsWaitersInLine) {
			super(delegate);
			this.keepsWaitersInLine = keepsWaitersInLine;
		}

		@Override
		public OptionalLong tryAcquireWaiting(LeaseSpec lease) {
			this.attempts.incrementAndGet();
			return delegate().tryAcquireWaiting(lease);
		}

		@Override
		public boolean release(LeaseSpec lease, LeaseSpec waiter) {
			assertThat(waiter.key()).isEqualTo(lease.key());
			assertThat(waiter.token()).isNotEqualTo(lease.token());
			this.releasesNamingAWaiter.incrementAndGet();
			return release(lease);
		}

		@Override
		public boolean release(LeaseSpec lease) {
			// A release takes a round trip, as at a backend over the network: the key is
			// held until it returns.
			try {
				Thread.sleep(1);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			return delegate().release(lease);
		}

		@Override
		public boolean keepsWaitersInLine() {
			return this.keepsWaitersInLine;
		}

	}

	/**
	 * A backend with its own queue whose first grant reaches the waiter long after it was
	 * made, as when the waiter's process was paused while the grant was in flight.
	 */
	private static final class StaleFirstGrantRepository extends ForwardingLockRepository
			implements QueueingLockRepository {

		static final long FRESH_TOKEN = 42;

		final List<String> released = new ArrayList<>();

		private final AtomicInteger queued = new AtomicInteger();

		StaleFirstGrantRepository(LockRepository delegate) {
			super(delegate);
		}

		@Override
		public CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease) {
			long now = System.nanoTime();
			return CompletableFuture.completedFuture((this.queued.incrementAndGet() == 1)
					? new QueuedGrant(41, now - TimeUnit.SECONDS.toNanos(2)) : new QueuedGrant(FRESH_TOKEN, now));
		}

		@Override
		public boolean cancelQueued(LeaseSpec lease) {
			return false;
		}

		@Override
		public boolean release(LeaseSpec lease) {
			this.released.add(lease.token());
			return true;
		}

	}

	/**
	 * A backend with its own queue that answers a withdrawal "already granted" but does
	 * not deliver the grant until the test does.
	 */
	private static final class LostGrantRepository extends ForwardingLockRepository implements QueueingLockRepository {

		final CompletableFuture<QueuedGrant> granted = new CompletableFuture<>();

		final List<String> released = new CopyOnWriteArrayList<>();

		LostGrantRepository(LockRepository delegate) {
			super(delegate);
		}

		@Override
		public CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease) {
			return this.granted;
		}

		@Override
		public boolean cancelQueued(LeaseSpec lease) {
			return false;
		}

		@Override
		public boolean release(LeaseSpec lease) {
			this.released.add(lease.token());
			return true;
		}

	}

}
