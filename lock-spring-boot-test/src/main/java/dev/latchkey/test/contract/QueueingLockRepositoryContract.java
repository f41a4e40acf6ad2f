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
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.latchkey.LeaseSpec;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.QueueingLockRepository.QueuedGrant;

import static dev.latchkey.test.contract.Contracts.LONG_TTL;
import static dev.latchkey.test.contract.Contracts.exclusive;
import static dev.latchkey.test.contract.Contracts.semaphore;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract of a {@link QueueingLockRepository}: its own queue of waiters per key,
 * first come first served, withdrawn on request, fair to single attempts, and served
 * however the key frees (release or expiry). Implemented by the test class of a backend
 * whose {@link #createRepository()} makes a {@code QueueingLockRepository}, beside
 * {@link LockRepositoryContract}:
 *
 * <pre class="code">
 * class QueueingBackendTests extends LockRepositoryContract implements QueueingLockRepositoryContract {
 *
 *     &#64;Override
 *     public LockRepository createRepository() {
 *         return new MyQueueingLockRepository(server);
 *     }
 *
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public interface QueueingLockRepositoryContract extends LockRepositoryFixture {

	/**
	 * The repository under test, as the queueing repository it must be.
	 * @return the repository under test
	 */
	default QueueingLockRepository queueingRepository() {
		assertThat(repository()).as("the repository under test").isInstanceOf(QueueingLockRepository.class);
		return (QueueingLockRepository) repository();
	}

	@Test
	default void releasedKeyGoesToTheFirstQueuedWaiter() {
		QueueingLockRepository repository = queueingRepository();
		String key = key("queue-order");
		LeaseSpec holder = exclusive(key, "owner-holder", LONG_TTL);
		LeaseSpec first = exclusive(key, "owner-first", LONG_TTL);
		LeaseSpec second = exclusive(key, "owner-second", LONG_TTL);
		assertThat(repository.tryAcquire(holder)).isPresent();
		CompletableFuture<QueuedGrant> firstGrant = repository.acquireQueued(first);
		CompletableFuture<QueuedGrant> secondGrant = repository.acquireQueued(second);
		assertThat(firstGrant).isNotDone();
		assertThat(repository.release(holder)).isTrue();
		assertThat(firstGrant).succeedsWithin(Duration.ofSeconds(5));
		assertThat(secondGrant).isNotDone();
		assertThat(repository.inspect(key)).hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
			.satisfies((held) -> assertThat(held.fencingToken()).isEqualTo(firstGrant.join().fencingToken())));
		assertThat(repository.release(first)).isTrue();
		assertThat(secondGrant).succeedsWithin(Duration.ofSeconds(5));
		assertThat(secondGrant.join().fencingToken()).isGreaterThan(firstGrant.join().fencingToken());
		assertThat(repository.release(second)).isTrue();
	}

	@Test
	default void keyWithQueuedWaitersIsNotFreeForASingleAttempt() {
		QueueingLockRepository repository = queueingRepository();
		String key = key("queue-fair");
		LeaseSpec holder = exclusive(key, "owner-holder", LONG_TTL);
		LeaseSpec waiter = exclusive(key, "owner-waiter", LONG_TTL);
		assertThat(repository.tryAcquire(holder)).isPresent();
		CompletableFuture<QueuedGrant> grant = repository.acquireQueued(waiter);
		assertThat(repository.release(holder)).isTrue();
		assertThat(grant).succeedsWithin(Duration.ofSeconds(5));
		// The waiter got it, not a newcomer that asked at the same moment.
		assertThat(repository.tryAcquire(exclusive(key, "owner-newcomer", LONG_TTL))).isEmpty();
		assertThat(repository.release(waiter)).isTrue();
	}

	@Test
	default void withdrawnWaiterIsNotGrantedLater() {
		QueueingLockRepository repository = queueingRepository();
		String key = key("queue-withdrawn");
		LeaseSpec holder = exclusive(key, "owner-holder", LONG_TTL);
		LeaseSpec waiter = exclusive(key, "owner-waiter", LONG_TTL);
		assertThat(repository.tryAcquire(holder)).isPresent();
		CompletableFuture<QueuedGrant> grant = repository.acquireQueued(waiter);
		assertThat(repository.cancelQueued(waiter)).isTrue();
		assertThat(grant).isCompletedExceptionally();
		assertThat(repository.release(holder)).isTrue();
		assertThat(repository.inspect(key)).isEmpty();
		assertThat(repository.tryAcquire(exclusive(key, "owner-newcomer", LONG_TTL))).isPresent();
	}

	@Test
	default void cancelOfAGrantedRequestAnswersFalseAndTheLeaseIsHeld() {
		QueueingLockRepository repository = queueingRepository();
		String key = key("queue-cancel-granted");
		LeaseSpec waiter = exclusive(key, "owner-waiter", LONG_TTL);
		CompletableFuture<QueuedGrant> grant = repository.acquireQueued(waiter);
		assertThat(grant).succeedsWithin(Duration.ofSeconds(5));
		assertThat(repository.cancelQueued(waiter)).isFalse();
		assertThat(repository.inspect(key)).hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
			.satisfies((held) -> assertThat(held.fencingToken()).isEqualTo(grant.join().fencingToken())));
		assertThat(repository.release(waiter)).isTrue();
	}

	@Test
	default void expiredHolderMakesRoomForTheQueue() {
		QueueingLockRepository repository = queueingRepository();
		String key = key("queue-expiry");
		LeaseSpec holder = exclusive(key, "owner-holder", shortTtl());
		long expired = repository.tryAcquire(holder).getAsLong();
		CompletableFuture<QueuedGrant> grant = repository.acquireQueued(exclusive(key, "owner-waiter", LONG_TTL));
		// Nobody releases: the backend expires the holder and grants the waiter.
		assertThat(grant).succeedsWithin(shortTtl().multipliedBy(10).plusSeconds(5));
		assertThat(grant.join().fencingToken()).isGreaterThan(expired);
	}

	@Test
	default void semaphoreQueueGrantsAsManyAsFit() {
		QueueingLockRepository repository = queueingRepository();
		String key = key("queue-semaphore");
		LeaseSpec first = semaphore(key, 2, "owner-a", LONG_TTL);
		LeaseSpec second = semaphore(key, 2, "owner-b", LONG_TTL);
		assertThat(repository.tryAcquirePermit(first)).isPresent();
		assertThat(repository.tryAcquirePermit(second)).isPresent();
		CompletableFuture<QueuedGrant> third = repository.acquireQueued(semaphore(key, 2, "owner-c", LONG_TTL));
		assertThat(third).isNotDone();
		assertThat(repository.release(first)).isTrue();
		assertThat(third).succeedsWithin(Duration.ofSeconds(5));
		assertThat(repository.inspect(key)).hasValueSatisfying((info) -> assertThat(info.holders()).hasSize(2));
	}

}
