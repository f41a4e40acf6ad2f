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

package dev.latchkey.integration;

import java.time.Duration;
import java.util.ConcurrentModificationException;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.dao.CannotAcquireLockException;

import dev.latchkey.Lease;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockContext;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.ForwardingLockRepository;
import dev.latchkey.test.TwoNodeTests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * What Spring Integration's lock registry tests ask of a distributed
 * {@code LockRegistry}, asked of {@link LatchkeyLockRegistry} on one backend, with two
 * registries (two nodes: a template each, on repositories that share one store): one lock
 * per key, reentrancy per thread, exclusion within a node and across nodes,
 * {@code tryLock} with a timeout, unlock only by the owner, interrupts; and what Latchkey
 * adds: renewal, a fencing token, a lost lease reported at unlock.
 */
abstract class LatchkeyLockRegistryContractTests extends TwoNodeTests {

	private LatchkeyLockRegistry registry;

	private LatchkeyLockRegistry peer;

	private final String key = "invoice-" + UUID.randomUUID();

	@BeforeEach
	void makeRegistries() {
		this.registry = new LatchkeyLockRegistry(this.locks);
		this.peer = new LatchkeyLockRegistry(this.peerLocks);
	}

	@Test
	void aKeyHasOneLockInARegistry() {
		assertThat(this.registry.obtain(this.key)).isSameAs(this.registry.obtain(this.key));
		assertThat(this.registry.obtain(this.key)).isNotSameAs(this.registry.obtain(this.key + "-2"));
	}

	@Test
	void aHeldLockIsALatchkeyLeaseThatTheOtherRegistryCannotTake() throws Exception {
		Lock lock = this.registry.obtain(this.key);
		lock.lock();
		assertThat(this.locks.heldLeases()).singleElement().extracting(Lease::key).isEqualTo(this.key);
		assertThat(this.peerRepository.inspect(this.key)).isPresent();
		assertThat(takenOnAnotherThread(() -> this.peer.obtain(this.key).tryLock())).isFalse();
		lock.unlock();
		assertThat(this.peerRepository.inspect(this.key)).isEmpty();
		assertThat(takenOnAnotherThread(() -> {
			Lock other = this.peer.obtain(this.key);
			boolean taken = other.tryLock();
			other.unlock();
			return taken;
		})).isTrue();
	}

	@Test
	void threadsOfOneRegistryExcludeEachOther() throws Exception {
		Lock lock = this.registry.obtain(this.key);
		lock.lock();
		assertThat(takenOnAnotherThread(lock::tryLock)).isFalse();
		assertThat(takenOnAnotherThread(() -> lock.tryLock(100, TimeUnit.MILLISECONDS))).isFalse();
		lock.unlock();
	}

	@Test
	void tryLockWaitsUntilTheHolderOnAnotherNodeUnlocks() throws Exception {
		CountDownLatch held = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
			Lock lock = this.peer.obtain(this.key);
			lock.lock();
			held.countDown();
			awaitLatch(release);
			sleep(300);
			lock.unlock();
		});
		assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
		Lock lock = this.registry.obtain(this.key);
		assertThat(lock.tryLock(200, TimeUnit.MILLISECONDS)).isFalse();
		release.countDown();
		long start = System.nanoTime();
		assertThat(lock.tryLock(10, TimeUnit.SECONDS)).isTrue();
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
		lock.unlock();
		holder.get(5, TimeUnit.SECONDS);
	}

	@Test
	void aLockIsReentrantForItsThreadAndOnlyTheOutermostUnlockReleasesIt() throws Exception {
		Lock lock = this.registry.obtain(this.key);
		lock.lock();
		assertThat(lock.tryLock()).isTrue();
		lock.lockInterruptibly();
		assertThat(this.locks.heldLeaseCount()).isOne();
		lock.unlock();
		lock.unlock();
		assertThat(takenOnAnotherThread(() -> this.peer.obtain(this.key).tryLock())).isFalse();
		lock.unlock();
		assertThat(this.locks.heldLeaseCount()).isZero();
		assertThat(this.peerRepository.inspect(this.key)).isEmpty();
	}

	@Test
	void onlyTheOwningThreadMayUnlock() throws Exception {
		Lock lock = this.registry.obtain(this.key);
		assertThatIllegalStateException().isThrownBy(lock::unlock);
		lock.lock();
		assertThat(onAnotherThread(() -> {
			try {
				lock.unlock();
				return null;
			}
			catch (IllegalStateException ex) {
				return ex;
			}
		})).isInstanceOf(IllegalStateException.class).hasMessageContaining("You do not own lock");
		assertThat(this.peerRepository.inspect(this.key)).isPresent();
		lock.unlock();
	}

	@Test
	void lockInterruptiblyStopsWaitingWhenInterrupted() throws Exception {
		Lock lock = this.registry.obtain(this.key);
		lock.lock();
		AtomicReference<Throwable> thrown = new AtomicReference<>();
		Thread waiter = new Thread(() -> {
			try {
				lock.lockInterruptibly();
			}
			catch (Throwable ex) {
				thrown.set(ex);
			}
		});
		waiter.start();
		await().atMost(Duration.ofSeconds(5)).until(() -> waiter.getState() != Thread.State.RUNNABLE);
		waiter.interrupt();
		waiter.join(5000);
		assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
		lock.unlock();
		assertThat(takenOnAnotherThread(() -> {
			boolean taken = lock.tryLock();
			lock.unlock();
			return taken;
		})).isTrue();
	}

	@Test
	void lockKeepsWaitingWhenInterruptedAndKeepsTheInterrupt() throws Exception {
		Lock held = this.peer.obtain(this.key);
		CountDownLatch release = new CountDownLatch(1);
		CountDownLatch taken = new CountDownLatch(1);
		CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
			held.lock();
			taken.countDown();
			awaitLatch(release);
			held.unlock();
		});
		assertThat(taken.await(5, TimeUnit.SECONDS)).isTrue();
		AtomicBoolean interruptKept = new AtomicBoolean();
		Thread waiter = new Thread(() -> {
			Lock lock = this.registry.obtain(this.key);
			lock.lock();
			interruptKept.set(Thread.currentThread().isInterrupted());
			lock.unlock();
		});
		waiter.start();
		sleep(200);
		waiter.interrupt();
		sleep(200);
		assertThat(waiter.isAlive()).isTrue();
		release.countDown();
		waiter.join(10_000);
		assertThat(waiter.isAlive()).isFalse();
		assertThat(interruptKept).isTrue();
		// Its unlock, from an interrupted thread, released the lease.
		assertThat(this.peerRepository.inspect(this.key)).isEmpty();
		holder.get(5, TimeUnit.SECONDS);
	}

	@Test
	void theHolderHasAFencingTokenThatRisesWithEveryGrant() throws Exception {
		LatchkeyLock lock = this.registry.obtain(this.key);
		assertThat(lock.lease()).isEmpty();
		lock.lock();
		long first = lock.lease().orElseThrow().fencingToken();
		assertThat(LockContext.fencingToken()).isEqualTo(first);
		lock.unlock();
		assertThat(LockContext.current()).isEmpty();
		long second = onAnotherThread(() -> {
			LatchkeyLock other = this.peer.obtain(this.key);
			other.lock();
			try {
				return LockContext.fencingToken();
			}
			finally {
				other.unlock();
			}
		});
		assertThat(second).isGreaterThan(first);
	}

	@Test
	void aLeaseHeldLongerThanItsTtlIsRenewed() throws Exception {
		LatchkeyLock lock = this.registry.obtain(this.key);
		lock.lock(Duration.ofSeconds(2));
		assertThat(lock.lease().orElseThrow().ttl()).isEqualTo(Duration.ofSeconds(2));
		sleep(3000);
		assertThat(lock.lease().orElseThrow().renewals()).isPositive();
		this.registry.renewLock(this.key);
		this.registry.renewLock(this.key, Duration.ofSeconds(2));
		assertThatExceptionOfType(UnsupportedOperationException.class)
			.isThrownBy(() -> this.registry.renewLock(this.key, Duration.ofSeconds(5)));
		assertThat(takenOnAnotherThread(() -> this.peer.obtain(this.key).tryLock())).isFalse();
		lock.unlock();
		assertThatIllegalStateException().isThrownBy(() -> this.registry.renewLock(this.key));
	}

	@Test
	void unlockingALostLeaseThrowsConcurrentModificationException() {
		LatchkeyLock lock = this.registry.obtain(this.key);
		lock.lock(Duration.ofMillis(600));
		assertThat(this.peerRepository.forceRelease(this.key)).isTrue();
		await().atMost(Duration.ofSeconds(5)).until(() -> this.locks.lostLeaseCount() == 1);
		assertThatIllegalStateException().isThrownBy(() -> this.registry.renewLock(this.key));
		assertThatExceptionOfType(ConcurrentModificationException.class).isThrownBy(lock::unlock)
			.withMessageContaining("was lost while it was held");
		assertThat(LockContext.current()).isEmpty();
		assertThat(lock.tryLock()).isTrue();
		lock.unlock();
	}

	@Test
	void executeLockedTimesOutWhileAnotherNodeHoldsTheLock() throws Exception {
		Lock held = this.peer.obtain(this.key);
		held.lock();
		try {
			assertThatExceptionOfType(TimeoutException.class).isThrownBy(() -> onAnotherThread(() -> {
				this.registry.executeLocked(this.key, Duration.ofMillis(100), () -> {
				});
				return null;
			})).withMessageContaining("was not acquired in time");
		}
		finally {
			held.unlock();
		}
		assertThat(this.registry.executeLocked(this.key, Duration.ofSeconds(1), () -> "ran")).isEqualTo("ran");
	}

	@Test
	void unusedLocksAreForgottenButHeldOnesAreNot() {
		LatchkeyLock unused = this.registry.obtain(this.key);
		LatchkeyLock held = this.registry.obtain(this.key + "-held");
		held.lock();
		this.registry.expireUnusedOlderThan(0);
		assertThat(this.registry.obtain(this.key)).isNotSameAs(unused);
		assertThat(this.registry.obtain(this.key + "-held")).isSameAs(held);
		held.unlock();
	}

	@Test
	void aFailingBackendThrowsCannotAcquireLockExceptionAndLeavesTheLockFree() throws Exception {
		LockRepository failing = new ForwardingLockRepository(this.repository) {

			@Override
			public OptionalLong tryAcquire(LeaseSpec lease) {
				throw new LockBackendException(backend(), "The backend is down", null);
			}

			@Override
			public OptionalLong tryAcquireWaiting(LeaseSpec lease) {
				// How a waiting exclusive caller asks (it records a writer wait).
				return tryAcquire(lease);
			}

		};
		try (LockTemplate broken = new LockTemplate(failing, LockSettings.defaults(), null)) {
			Lock lock = new LatchkeyLockRegistry(broken).obtain(this.key);
			assertThatExceptionOfType(CannotAcquireLockException.class).isThrownBy(lock::lock)
				.withCauseInstanceOf(LockBackendException.class);
			// The failed attempt left no local hold behind: another thread reaches the
			// backend too.
			assertThat(onAnotherThread(() -> {
				try {
					return lock.tryLock();
				}
				catch (CannotAcquireLockException ex) {
					return ex;
				}
			})).isInstanceOf(CannotAcquireLockException.class);
		}
	}

	@Test
	void conditionsAreNotSupported() {
		assertThatExceptionOfType(UnsupportedOperationException.class)
			.isThrownBy(() -> this.registry.obtain(this.key).newCondition());
	}

	private static <T> T onAnotherThread(Callable<T> task) throws Exception {
		try {
			return CompletableFuture.supplyAsync(() -> {
				try {
					return task.call();
				}
				catch (Exception ex) {
					throw new CompletionException(ex);
				}
			}).get(10, TimeUnit.SECONDS);
		}
		catch (ExecutionException ex) {
			Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
			if (cause instanceof Exception exception) {
				throw exception;
			}
			throw ex;
		}
	}

	private static boolean takenOnAnotherThread(Callable<Boolean> tryLock) throws Exception {
		return onAnotherThread(tryLock);
	}

	private static void awaitLatch(CountDownLatch latch) {
		try {
			assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
