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

package dev.latchkey.shedlock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.latchkey.LockContext;
import dev.latchkey.LockInfo;
import dev.latchkey.LockLostException;
import dev.latchkey.LossReason;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.test.TwoNodeTests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * What ShedLock's own suite asks of every lock provider (its
 * {@code AbstractLockProviderIntegrationTest} and {@code FuzzTester}), asked of
 * {@link LatchkeyLockProvider} on one backend, with two nodes (a template each, on
 * repositories that share one store); and what Latchkey adds: renewal up to
 * {@code lockAtMostFor} and a hard stop there, a fencing token for the task, a lost lease
 * reported, the lock visible through Latchkey.
 */
abstract class LatchkeyLockProviderContractTests extends TwoNodeTests {

	private LatchkeyLockProvider provider;

	private LatchkeyLockProvider peer;

	private final String name = "job-" + UUID.randomUUID();

	@BeforeEach
	void makeProviders() {
		this.provider = new LatchkeyLockProvider(this.locks);
		this.peer = new LatchkeyLockProvider(this.peerLocks);
	}

	@Test
	void aHeldLockIsVisibleThroughLatchkeyAndFreeAfterUnlock() {
		SimpleLock lock = this.provider.lock(config(this.name)).orElseThrow();
		assertThat(this.locks.heldLeases()).singleElement().satisfies((lease) -> {
			assertThat(lease.key()).isEqualTo(this.name);
			assertThat(lease.owner()).isEqualTo("node-a");
		});
		assertThat(this.peerRepository.inspect(this.name)).get()
			.extracting(LockInfo::holders)
			.asInstanceOf(InstanceOfAssertFactories.LIST)
			.hasSize(1);
		lock.unlock();
		assertThat(this.locks.heldLeaseCount()).isZero();
		assertThat(this.peerRepository.inspect(this.name)).isEmpty();
	}

	@Test
	void aHeldLockIsNotGivenAgainNeitherOnThisNodeNorOnAnother() {
		SimpleLock lock = this.provider.lock(config(this.name)).orElseThrow();
		assertThat(this.provider.lock(config(this.name))).isEmpty();
		assertThat(this.peer.lock(config(this.name))).isEmpty();
		lock.unlock();
		assertThat(LockContext.current()).isEmpty();
		this.peer.lock(config(this.name)).orElseThrow().unlock();
	}

	@Test
	void locksOfTwoNamesAreIndependent() {
		SimpleLock first = this.provider.lock(config(this.name)).orElseThrow();
		SimpleLock second = this.peer.lock(config(this.name + "-2")).orElseThrow();
		first.unlock();
		second.unlock();
	}

	@Test
	void aLockCanBeTakenRightAfterItsUnlock() {
		for (int i = 0; i < 10; i++) {
			SimpleLock lock = this.provider.lock(config(this.name)).orElseThrow();
			assertThat(this.peer.lock(config(this.name))).isEmpty();
			lock.unlock();
		}
	}

	@Test
	void lockAtLeastForKeepsTheLockAfterTheTaskEnded() {
		long start = System.nanoTime();
		this.provider.lock(config(this.name, Duration.ofSeconds(10), Duration.ofSeconds(1))).orElseThrow().unlock();
		assertThat(this.peer.lock(config(this.name))).as("within lockAtLeastFor").isEmpty();
		assertThat(this.provider.lock(config(this.name))).as("within lockAtLeastFor, on the same node").isEmpty();
		SimpleLock next = await().atMost(Duration.ofSeconds(5))
			.pollInSameThread()
			.pollInterval(Duration.ofMillis(20))
			.until(() -> this.peer.lock(config(this.name)), Optional::isPresent)
			.orElseThrow();
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
		next.unlock();
	}

	@Test
	void aTaskIsRenewedUntilLockAtMostForThenLosesItsLockToAnotherNode() throws InterruptedException {
		SimpleLock lock = this.provider.lock(config(this.name, Duration.ofSeconds(2), Duration.ZERO)).orElseThrow();
		long firstToken = LockContext.fencingToken();
		// The lease's TTL is lockAtMostFor here (shorter than latchkey.ttl): renewed
		// while the task runs.
		Thread.sleep(1200);
		assertThat(this.peer.lock(config(this.name))).isEmpty();
		assertThat(this.locks.heldLeases()).singleElement().satisfies((lease) -> {
			assertThat(lease.isValid()).isTrue();
			assertThat(lease.renewals()).isPositive();
			assertThat(lease.maxHold()).contains(Duration.ofSeconds(2));
		});
		// At lockAtMostFor the lease is lost and given back, however long the task runs.
		await().atMost(Duration.ofSeconds(3))
			.untilAsserted(() -> assertThat(this.events).filteredOn(LockLostEvent.class::isInstance)
				.singleElement()
				.satisfies((event) -> assertThat(((LockLostEvent) event).getReason())
					.isEqualTo(LossReason.MAX_HOLD_EXCEEDED)));
		assertThatExceptionOfType(LockLostException.class).isThrownBy(LockContext::assertHeld);
		lock.unlock();
		SimpleLock taken = this.peer.lock(config(this.name)).orElseThrow();
		assertThat(LockContext.fencingToken()).isGreaterThan(firstToken);
		taken.unlock();
	}

	@Test
	void theLockOfANodeThatDiedIsFreeAfterLockAtMostFor() {
		SimpleLock dead = this.provider.lock(config(this.name, Duration.ofMillis(600), Duration.ZERO)).orElseThrow();
		long start = System.nanoTime();
		// A node that died renews nothing more.
		this.locks.close();
		assertThat(this.peer.lock(config(this.name))).isEmpty();
		SimpleLock taken = await().atMost(Duration.ofSeconds(5))
			.pollInSameThread()
			.pollInterval(Duration.ofMillis(20))
			.until(() -> this.peer.lock(config(this.name)), Optional::isPresent)
			.orElseThrow();
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
		taken.unlock();
		// What the dead node's thread would have done; it releases nothing, the lease
		// having expired.
		dead.unlock();
		assertThat(this.peerRepository.inspect(this.name)).isEmpty();
	}

	@Test
	void theTaskHasAFencingTokenThatRisesWithEveryGrant() {
		SimpleLock first = this.provider.lock(config(this.name)).orElseThrow();
		long firstToken = LockContext.fencingToken();
		first.unlock();
		assertThat(LockContext.current()).isEmpty();
		SimpleLock second = this.peer.lock(config(this.name)).orElseThrow();
		assertThat(LockContext.fencingToken()).isGreaterThan(firstToken);
		second.unlock();
		assertThat(LockContext.current()).isEmpty();
	}

	@Test
	void aLostLeaseIsReportedAndTheTaskCanTell() {
		SimpleLock lock = this.provider.lock(config(this.name, Duration.ofMillis(600), Duration.ZERO)).orElseThrow();
		assertThat(this.peerRepository.forceRelease(this.name)).isTrue();
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(this.events).filteredOn(LockLostEvent.class::isInstance)
				.singleElement()
				.satisfies((event) -> assertThat(((LockLostEvent) event).getReason()).isEqualTo(LossReason.NOT_OWNER)));
		assertThat(this.locks.lostLeaseCount()).isOne();
		assertThatExceptionOfType(LockLostException.class).isThrownBy(LockContext::assertHeld);
		lock.unlock();
		assertThat(LockContext.current()).isEmpty();
	}

	@Test
	void aTaskStoppedByAnInterruptStillReleasesItsLock() {
		SimpleLock lock = this.provider.lock(config(this.name)).orElseThrow();
		Thread.currentThread().interrupt();
		try {
			lock.unlock();
			assertThat(Thread.currentThread().isInterrupted()).isTrue();
		}
		finally {
			Thread.interrupted();
		}
		assertThat(this.peerRepository.inspect(this.name)).isEmpty();
	}

	@Test
	void aLockIsUnlockedOnceAndIsNotExtended() {
		SimpleLock lock = this.provider.lock(config(this.name)).orElseThrow();
		assertThatExceptionOfType(UnsupportedOperationException.class)
			.isThrownBy(() -> lock.extend(Duration.ofMinutes(1), Duration.ZERO));
		lock.unlock();
		assertThatIllegalStateException().isThrownBy(lock::unlock);
	}

	/**
	 * Threads of both nodes increment unguarded counters under two locks; a lost update
	 * would show.
	 */
	@Test
	void countersIncrementedUnderTheLockFromManyThreadsOfTwoNodesLoseNoUpdate() throws Exception {
		int threads = 6;
		int iterations = 40;
		int[] counters = new int[2];
		ExecutorService executor = Executors.newFixedThreadPool(threads);
		try {
			List<Future<?>> futures = new ArrayList<>();
			for (int t = 0; t < threads; t++) {
				LatchkeyLockProvider node = (t % 2 == 0) ? this.provider : this.peer;
				int job = (t / 2) % 2;
				futures.add(executor.submit(() -> {
					for (int done = 0; done < iterations;) {
						Optional<SimpleLock> lock = node
							.lock(config(this.name + "-" + job, Duration.ofMinutes(5), Duration.ofMillis(5)));
						if (lock.isEmpty()) {
							Thread.sleep(1);
							continue;
						}
						try {
							int value = counters[job];
							Thread.sleep(1);
							counters[job] = value + 1;
						}
						finally {
							lock.get().unlock();
						}
						done++;
					}
					return null;
				}));
			}
			for (Future<?> future : futures) {
				future.get(2, TimeUnit.MINUTES);
			}
		}
		finally {
			executor.shutdownNow();
		}
		assertThat(counters[0]).isEqualTo(4 * iterations);
		assertThat(counters[1]).isEqualTo(2 * iterations);
	}

	private static LockConfiguration config(String name) {
		return config(name, Duration.ofMinutes(5), Duration.ZERO);
	}

	private static LockConfiguration config(String name, Duration lockAtMostFor, Duration lockAtLeastFor) {
		return new LockConfiguration(ClockProvider.now(), name, lockAtMostFor, lockAtLeastFor);
	}

}
