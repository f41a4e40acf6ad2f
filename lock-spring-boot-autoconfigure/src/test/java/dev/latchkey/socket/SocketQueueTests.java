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

package dev.latchkey.socket;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LeaseSpec;
import dev.latchkey.QueueingLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The arbiter's own queue: first come, first served, withdrawn on time-out, and fair to
 * single attempts.
 */
class SocketQueueTests {

	@TempDir
	static Path temporary;

	private final SocketLockRepository repository = new SocketLockRepository(temporary.resolve("locks"));

	@AfterEach
	void close() {
		this.repository.close();
	}

	@Test
	void releasedKeyGoesToTheFirstQueuedWaiter() {
		LeaseSpec holder = lease("k1");
		LeaseSpec first = lease("k1");
		LeaseSpec second = lease("k1");
		assertThat(this.repository.tryAcquire(holder)).isPresent();
		CompletableFuture<QueueingLockRepository.QueuedGrant> firstGrant = this.repository.acquireQueued(first);
		CompletableFuture<QueueingLockRepository.QueuedGrant> secondGrant = this.repository.acquireQueued(second);
		assertThat(firstGrant).isNotDone();
		assertThat(this.repository.release(holder)).isTrue();
		assertThat(firstGrant).succeedsWithin(Duration.ofSeconds(5));
		assertThat(secondGrant).isNotDone();
		assertThat(this.repository.inspect("k1"))
			.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
				.satisfies((h) -> assertThat(h.fencingToken()).isEqualTo(firstGrant.join().fencingToken())));
		assertThat(this.repository.release(first)).isTrue();
		assertThat(secondGrant).succeedsWithin(Duration.ofSeconds(5));
		assertThat(secondGrant.join().fencingToken()).isGreaterThan(firstGrant.join().fencingToken());
		assertThat(this.repository.release(second)).isTrue();
	}

	@Test
	void keyWithQueuedWaitersIsNotFreeForASingleAttempt() {
		LeaseSpec holder = lease("k2");
		LeaseSpec waiter = lease("k2");
		assertThat(this.repository.tryAcquire(holder)).isPresent();
		CompletableFuture<QueueingLockRepository.QueuedGrant> grant = this.repository.acquireQueued(waiter);
		assertThat(this.repository.release(holder)).isTrue();
		assertThat(grant).succeedsWithin(Duration.ofSeconds(5));
		// The waiter got it, not a newcomer that asked at the same moment.
		assertThat(this.repository.tryAcquire(lease("k2"))).isEmpty();
		assertThat(this.repository.release(waiter)).isTrue();
	}

	@Test
	void withdrawnWaiterIsNotGrantedLater() {
		LeaseSpec holder = lease("k3");
		LeaseSpec waiter = lease("k3");
		assertThat(this.repository.tryAcquire(holder)).isPresent();
		CompletableFuture<QueueingLockRepository.QueuedGrant> grant = this.repository.acquireQueued(waiter);
		assertThat(this.repository.cancelQueued(waiter)).isTrue();
		assertThat(grant).isCompletedExceptionally();
		assertThat(this.repository.release(holder)).isTrue();
		assertThat(this.repository.inspect("k3")).isEmpty();
		assertThat(this.repository.tryAcquire(lease("k3"))).isPresent();
	}

	@Test
	void expiredHolderMakesRoomForTheQueue() {
		LeaseSpec holder = LeaseSpec.exclusive("k4", "test", UUID.randomUUID().toString(), Duration.ofMillis(300));
		assertThat(this.repository.tryAcquire(holder)).isPresent();
		CompletableFuture<QueueingLockRepository.QueuedGrant> grant = this.repository.acquireQueued(lease("k4"));
		// Nobody releases: the arbiter's sweeper expires the holder and grants the
		// waiter.
		assertThat(grant).succeedsWithin(Duration.ofSeconds(5));
	}

	@Test
	void semaphoreQueueGrantsAsManyAsFit() {
		LeaseSpec a = LeaseSpec.semaphore("k5", 2, "test", UUID.randomUUID().toString(), Duration.ofSeconds(30));
		LeaseSpec b = LeaseSpec.semaphore("k5", 2, "test", UUID.randomUUID().toString(), Duration.ofSeconds(30));
		LeaseSpec c = LeaseSpec.semaphore("k5", 2, "test", UUID.randomUUID().toString(), Duration.ofSeconds(30));
		assertThat(this.repository.tryAcquirePermit(a)).isPresent();
		assertThat(this.repository.tryAcquirePermit(b)).isPresent();
		CompletableFuture<QueueingLockRepository.QueuedGrant> third = this.repository.acquireQueued(c);
		assertThat(third).isNotDone();
		assertThat(this.repository.release(a)).isTrue();
		assertThat(third).succeedsWithin(Duration.ofSeconds(5));
		assertThat(this.repository.inspect("k5")).hasValueSatisfying((info) -> assertThat(info.holders()).hasSize(2));
	}

	private static LeaseSpec lease(String key) {
		return LeaseSpec.exclusive(key, "test", UUID.randomUUID().toString(), Duration.ofSeconds(30));
	}

}
