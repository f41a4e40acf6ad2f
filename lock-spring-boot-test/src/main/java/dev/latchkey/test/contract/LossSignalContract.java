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
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockRepository;
import dev.latchkey.ReleaseSubscription;

import static dev.latchkey.test.contract.Contracts.LONG_TTL;
import static dev.latchkey.test.contract.Contracts.exclusive;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract of a backend that signals losses through
 * {@link LockRepository#subscribeToLoss(Runnable)}: when the leases of a repository are
 * lost all at once (its session or connection at the store is gone), the subscribers hear
 * of it without waiting for the next renewal, and the renewal then names the lost leases.
 * The test class says how to make a repository lose its leases:
 *
 * <pre class="code">
 * class ZookeeperLockRepositoryTests extends LockRepositoryContract implements LossSignalContract {
 *
 *     &#64;Override
 *     public LockRepository createRepository() {
 *         return new ZookeeperLockRepository(curator);
 *     }
 *
 *     &#64;Override
 *     public void loseLeases(LockRepository repository, String key) {
 *         server.expireSession(((ZookeeperLockRepository) repository).sessionId());
 *     }
 *
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public interface LossSignalContract extends LockRepositoryFixture {

	/**
	 * Makes the store drop the leases of a repository, the way a failure would (a session
	 * or connection expired or closed at the store), while the repository lives on.
	 * @param repository the repository whose leases to lose
	 * @param key a key the repository holds
	 * @throws Exception if the store could not be told
	 */
	void loseLeases(LockRepository repository, String key) throws Exception;

	/**
	 * How long after {@link #loseLeases(LockRepository, String)} the signal may come. The
	 * default, 30 s, allows a backend that learns of the loss at its next keep-alive.
	 * @return the longest wait for the signal
	 */
	default Duration lossSignalTimeout() {
		return Duration.ofSeconds(30);
	}

	@Test
	@Timeout(120)
	default void lostLeasesAreSignalledAndNamedByTheNextRenewal() throws Exception {
		LockRepository repository = repository();
		String key = key("loss-signal");
		LeaseSpec lease = exclusive(key, "owner-a", LONG_TTL);
		assertThat(repository.tryAcquire(lease)).isPresent();
		CountDownLatch signalled = new CountDownLatch(1);
		try (ReleaseSubscription subscription = repository.subscribeToLoss(signalled::countDown)) {
			loseLeases(repository, key);
			assertThat(signalled.await(lossSignalTimeout().toMillis(), TimeUnit.MILLISECONDS))
				.as("loss signalled within %s", lossSignalTimeout())
				.isTrue();
		}
		assertThat(repository.renew(List.of(lease))).containsExactly(lease.token());
		// The key is another owner's to take, now or once the store has expired it.
		LeaseSpec taker = exclusive(key, "owner-b", LONG_TTL);
		Awaitility.await()
			.atMost(LONG_TTL.plusSeconds(5))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> repository.tryAcquire(taker).isPresent());
		assertThat(repository.release(lease)).isFalse();
		assertThat(repository.release(taker)).isTrue();
	}

	@Test
	default void closedLossSubscriptionIsNoLongerCalled() throws Exception {
		LockRepository repository = repository();
		String key = key("loss-signal-closed");
		assertThat(repository.tryAcquire(exclusive(key, "owner-a", LONG_TTL))).isPresent();
		AtomicInteger closedCalls = new AtomicInteger();
		CountDownLatch witnessed = new CountDownLatch(1);
		ReleaseSubscription closed = repository.subscribeToLoss(closedCalls::incrementAndGet);
		try (ReleaseSubscription witness = repository.subscribeToLoss(witnessed::countDown)) {
			closed.close();
			loseLeases(repository, key);
			assertThat(witnessed.await(lossSignalTimeout().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
		}
		assertThat(closedCalls.get()).as("calls of the closed subscription").isZero();
	}

}
