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

package dev.latchkey.test.contract;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.QueueingLockRepository.QueuedGrant;

import static dev.latchkey.test.contract.Contracts.LONG_TTL;
import static dev.latchkey.test.contract.Contracts.exclusive;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract of a backend that honours fair exclusive locks
 * ({@link QueueingLockRepository#isFair(LeaseMode)}): fair waiters of several instances
 * are granted one key strictly in the order they joined its queue, whatever unfair
 * callers do in between; a waiter that withdraws or whose instance dies leaves the queue,
 * and the next one still gets the key; a queued fair writer keeps new readers out, where
 * the backend has read/write locks; fencing tokens rise for every grant, fair or not.
 * Implemented by the test class of such a backend, beside {@link LockRepositoryContract}:
 *
 * <pre class="code">
 * class ZookeeperLockRepositoryTests extends LockRepositoryContract implements FairLockRepositoryContract {
 *
 *     &#64;Override
 *     public LockRepository createRepository() {
 *         return new ZookeeperLockRepository(curator);
 *     }
 *
 * }
 * </pre>
 * <p>
 * The tests queue requests one after the other and rely on that order: a backend whose
 * {@link LockRepository#waiters(String)} answers is waited for until it counts each
 * request; one that cannot tell must hold a request's place in its queue when
 * {@link QueueingLockRepository#acquireQueued} returns.
 *
 * @since 0.1.0
 */
public interface FairLockRepositoryContract extends LockRepositoryFixture {

	/**
	 * How many instances queue for one key in
	 * {@link #fairWaitersOfEightInstancesAreGrantedInOrder()}.
	 */
	int INSTANCES = 8;

	/**
	 * Another instance for the fair tests, which must be a
	 * {@link QueueingLockRepository}. By default, {@link #createPeerRepository()}; a
	 * backend whose peers are views of one repository answers that repository.
	 * @return a repository on the store of the repository under test
	 */
	default LockRepository createFairPeer() {
		return createPeerRepository();
	}

	/**
	 * Ends a peer's instance as a crash would, while its request waits in the queue: by
	 * default {@link #destroyRepository(LockRepository)} (its connection closes). A
	 * backend whose waiters leave with their session's expiry makes it expire now.
	 * @param peer the peer whose instance dies
	 * @param waiting the lease it waits for
	 * @throws Exception if the instance cannot be ended
	 */
	default void killWaiter(LockRepository peer, LeaseSpec waiting) throws Exception {
		destroyRepository(peer);
	}

	private QueueingLockRepository fair(LockRepository repository) {
		assertThat(repository).as("a repository of a fair backend").isInstanceOf(QueueingLockRepository.class);
		QueueingLockRepository queueing = (QueueingLockRepository) repository;
		assertThat(queueing.isFair(LeaseMode.EXCLUSIVE)).as("fair exclusive locks").isTrue();
		return queueing;
	}

	private static LeaseSpec fairLease(String key, String owner) {
		return exclusive(key, owner, LONG_TTL).withFair(true);
	}

	/**
	 * Waits until the backend counts the queued requests, where it can tell.
	 */
	private static void awaitQueued(LockRepository repository, String key, int queued) {
		OptionalInt counted = repository.waiters(key);
		if (counted.isPresent()) {
			Awaitility.await()
				.atMost(Duration.ofSeconds(10))
				.pollInterval(Duration.ofMillis(5))
				.untilAsserted(() -> assertThat(repository.waiters(key)).hasValue(queued));
		}
	}

	private static long granted(CompletableFuture<QueuedGrant> grant, String who) throws Exception {
		assertThat(grant).as(who).succeedsWithin(Duration.ofSeconds(10));
		return grant.get().fencingToken();
	}

	@Test
	@Timeout(value = 120, unit = TimeUnit.SECONDS)
	default void fairWaitersOfEightInstancesAreGrantedInOrder() throws Exception {
		QueueingLockRepository here = fair(repository());
		String key = key("fair-order");
		LeaseSpec holder = fairLease(key, "owner-holder");
		OptionalLong first = here.tryAcquire(holder);
		assertThat(first).as("the holder's grant").isPresent();
		long last = first.getAsLong();
		List<LockRepository> peers = new ArrayList<>();
		try {
			List<LeaseSpec> leases = new ArrayList<>();
			List<CompletableFuture<QueuedGrant>> grants = new ArrayList<>();
			for (int i = 0; i < INSTANCES; i++) {
				LockRepository peer = createFairPeer();
				peers.add(peer);
				LeaseSpec lease = fairLease(key, "owner-" + i);
				leases.add(lease);
				grants.add(fair(peer).acquireQueued(lease));
				awaitQueued(here, key, i + 1);
			}
			assertThat(grants).noneMatch(CompletableFuture::isDone);
			assertThat(here.release(holder)).isTrue();
			for (int i = 0; i < INSTANCES; i++) {
				long token = granted(grants.get(i), "waiter " + i + ", queued " + (i + 1) + ". of " + INSTANCES);
				assertThat(token).as("waiter %d's fencing token", i).isGreaterThan(last);
				for (int later = i + 1; later < INSTANCES; later++) {
					assertThat(grants.get(later)).as("waiter %d, while waiter %d holds the key", later, i).isNotDone();
				}
				int holding = i;
				assertThat(here.inspect(key)).hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
					.satisfies((held) -> assertThat(held.owner()).as("the holder").isEqualTo("owner-" + holding)));
				assertThat(peers.get(i).release(leases.get(i))).isTrue();
				last = token;
			}
			assertThat(here.inspect(key)).isEmpty();
		}
		finally {
			peers.forEach(this::destroyRepository);
		}
	}

	@Test
	@Timeout(value = 60, unit = TimeUnit.SECONDS)
	default void unfairCallersDoNotChangeTheOrderOfFairWaiters() throws Exception {
		QueueingLockRepository here = fair(repository());
		LockRepository peer = createFairPeer();
		LockRepository unfairPeer = createFairPeer();
		try {
			String key = key("fair-mixed");
			LeaseSpec holder = exclusive(key, "owner-unfair-holder", LONG_TTL);
			long last = here.tryAcquire(holder).orElseThrow();
			LeaseSpec a = fairLease(key, "owner-a");
			LeaseSpec b = fairLease(key, "owner-b");
			CompletableFuture<QueuedGrant> grantA = fair(peer).acquireQueued(a);
			awaitQueued(here, key, 1);
			CompletableFuture<QueuedGrant> grantB = fair(here).acquireQueued(b);
			awaitQueued(here, key, 2);
			assertThat(here.release(holder)).isTrue();
			// An unfair caller asks at once: it may take the key before the queue's first
			// (it does not queue), and must then hand it on to that first.
			LeaseSpec barging = exclusive(key, "owner-unfair", LONG_TTL);
			OptionalLong barged = unfairPeer.tryAcquire(barging);
			if (barged.isPresent()) {
				assertThat(barged.getAsLong()).isGreaterThan(last);
				last = barged.getAsLong();
				assertThat(unfairPeer.release(barging)).isTrue();
			}
			long tokenA = granted(grantA, "the first fair waiter");
			assertThat(tokenA).isGreaterThan(last);
			assertThat(grantB).as("the second fair waiter, while the first holds the key").isNotDone();
			assertThat(unfairPeer.tryAcquire(exclusive(key, "owner-unfair-2", LONG_TTL))).isEmpty();
			assertThat(peer.release(a)).isTrue();
			assertThat(granted(grantB, "the second fair waiter")).isGreaterThan(tokenA);
			assertThat(here.release(b)).isTrue();
		}
		finally {
			destroyRepository(peer);
			destroyRepository(unfairPeer);
		}
	}

	@Test
	@Timeout(value = 60, unit = TimeUnit.SECONDS)
	default void aForceReleasedFairHolderMakesWayForTheNextFairWaiter() throws Exception {
		QueueingLockRepository here = fair(repository());
		LockRepository peer = createFairPeer();
		LockRepository operator = createFairPeer();
		try {
			String key = key("fair-force-release");
			LeaseSpec holder = fairLease(key, "owner-holder");
			long evictedToken = here.tryAcquire(holder).orElseThrow();
			LeaseSpec waiter = fairLease(key, "owner-waiter");
			CompletableFuture<QueuedGrant> grant = fair(peer).acquireQueued(waiter);
			awaitQueued(here, key, 1);
			assertThat(grant).as("the waiter, while the fair holder holds the key").isNotDone();
			assertThat(operator.forceRelease(key)).isTrue();
			assertThat(granted(grant, "the waiter after the holder was force-released")).isGreaterThan(evictedToken);
			assertThat(here.renew(List.of(holder))).as("the evicted holder's renewal").containsExactly(holder.token());
			assertThat(here.release(holder)).isFalse();
			assertThat(peer.release(waiter)).isTrue();
		}
		finally {
			destroyRepository(peer);
			destroyRepository(operator);
		}
	}

	@Test
	@Timeout(value = 60, unit = TimeUnit.SECONDS)
	default void fairSingleAttemptIsGrantedOnceTheQueueIsEmpty() throws Exception {
		QueueingLockRepository here = fair(repository());
		LockRepository peer = createFairPeer();
		try {
			String key = key("fair-single");
			LeaseSpec holder = exclusive(key, "owner-holder", LONG_TTL);
			assertThat(here.tryAcquire(holder)).isPresent();
			LeaseSpec waiter = fairLease(key, "owner-waiter");
			CompletableFuture<QueuedGrant> grant = fair(peer).acquireQueued(waiter);
			awaitQueued(here, key, 1);
			assertThat(here.tryAcquire(fairLease(key, "owner-newcomer"))).isEmpty();
			assertThat(here.release(holder)).isTrue();
			long token = granted(grant, "the queued waiter");
			assertThat(here.tryAcquire(fairLease(key, "owner-newcomer"))).isEmpty();
			// Released: the waiter left the queue with its lease, so a fair single
			// attempt finds nobody to let pass.
			assertThat(peer.release(waiter)).isTrue();
			OptionalLong newcomer = here.tryAcquire(fairLease(key, "owner-newcomer-2"));
			assertThat(newcomer).as("a fair single attempt at a free key with nobody queued").isPresent();
			assertThat(newcomer.getAsLong()).isGreaterThan(token);
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	@Timeout(value = 60, unit = TimeUnit.SECONDS)
	default void queuedFairWriterKeepsNewSharedHoldersOut() throws Exception {
		QueueingLockRepository here = fair(repository());
		LockRepository peer = createFairPeer();
		try {
			String key = key("fair-writer");
			LeaseSpec reader = LeaseSpec.shared(key, "owner-reader", UUID.randomUUID().toString(), LONG_TTL);
			OptionalLong read;
			try {
				read = here.tryAcquireShared(reader);
			}
			catch (LockConfigurationException ex) {
				Assumptions.abort(ex.getMessage());
				return;
			}
			assertThat(read).as("the first reader").isPresent();
			LeaseSpec writer = fairLease(key, "owner-writer");
			CompletableFuture<QueuedGrant> grant = fair(peer).acquireQueued(writer);
			awaitQueued(here, key, 1);
			assertThat(grant).as("the fair writer, while a reader holds the key").isNotDone();
			LeaseSpec later = LeaseSpec.shared(key, "owner-later-reader", UUID.randomUUID().toString(), LONG_TTL);
			assertThat(peer.tryAcquireShared(later)).as("a new reader while a fair writer is queued").isEmpty();
			assertThat(here.release(reader)).isTrue();
			assertThat(granted(grant, "the fair writer once the reader left")).isGreaterThan(read.getAsLong());
			assertThat(peer.release(writer)).isTrue();
			assertThat(peer.tryAcquireShared(later)).as("a reader once the writer left").isPresent();
			assertThat(peer.release(later)).isTrue();
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	@Timeout(value = 60, unit = TimeUnit.SECONDS)
	default void withdrawnFairWaiterMakesWayForTheNext() throws Exception {
		QueueingLockRepository here = fair(repository());
		LockRepository first = createFairPeer();
		LockRepository second = createFairPeer();
		try {
			String key = key("fair-withdrawn");
			LeaseSpec holder = fairLease(key, "owner-holder");
			long held = here.tryAcquire(holder).orElseThrow();
			LeaseSpec a = fairLease(key, "owner-a");
			LeaseSpec b = fairLease(key, "owner-b");
			CompletableFuture<QueuedGrant> grantA = fair(first).acquireQueued(a);
			awaitQueued(here, key, 1);
			CompletableFuture<QueuedGrant> grantB = fair(second).acquireQueued(b);
			awaitQueued(here, key, 2);
			assertThat(fair(first).cancelQueued(a)).isTrue();
			assertThat(grantA).isCompletedExceptionally();
			assertThat(here.release(holder)).isTrue();
			assertThat(granted(grantB, "the waiter behind the withdrawn one")).isGreaterThan(held);
			assertThat(second.release(b)).isTrue();
		}
		finally {
			destroyRepository(first);
			destroyRepository(second);
		}
	}

	@Test
	@Timeout(value = 120, unit = TimeUnit.SECONDS)
	default void queuedFairWaiterWhoseInstanceDiesLeavesTheQueue() throws Exception {
		QueueingLockRepository here = fair(repository());
		LockRepository dying = createFairPeer();
		LockRepository next = createFairPeer();
		try {
			String key = key("fair-died");
			LeaseSpec holder = fairLease(key, "owner-holder");
			long held = here.tryAcquire(holder).orElseThrow();
			LeaseSpec a = fairLease(key, "owner-dying");
			LeaseSpec b = fairLease(key, "owner-next");
			CompletableFuture<QueuedGrant> grantA = fair(dying).acquireQueued(a);
			awaitQueued(here, key, 1);
			CompletableFuture<QueuedGrant> grantB = fair(next).acquireQueued(b);
			awaitQueued(here, key, 2);
			killWaiter(dying, a);
			assertThat(here.release(holder)).isTrue();
			assertThat(granted(grantB, "the waiter behind the dead one")).isGreaterThan(held);
			assertThat(grantA).as("the dead waiter")
				.satisfiesAnyOf((grant) -> assertThat(grant).isNotDone(),
						(grant) -> assertThat(grant).isCompletedExceptionally());
			assertThat(here.inspect(key)).hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
				.satisfies((holding) -> assertThat(holding.owner()).isEqualTo("owner-next")));
			assertThat(next.release(b)).isTrue();
		}
		finally {
			destroyRepository(dying);
			destroyRepository(next);
		}
	}

}
