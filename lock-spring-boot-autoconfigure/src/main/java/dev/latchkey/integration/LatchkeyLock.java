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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;

import org.springframework.dao.CannotAcquireLockException;
import org.springframework.integration.support.locks.DistributedLock;
import org.springframework.util.Assert;

import dev.latchkey.Lease;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockContext;
import dev.latchkey.LockHandle;
import dev.latchkey.LockLostException;
import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockOperation;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

/**
 * A lock of a {@link LatchkeyLockRegistry}: an exclusive Latchkey lease, held by one
 * thread and reentrant for it.
 *
 * <pre class="code">
 * LatchkeyLock lock = registry.obtain("invoice:42");
 * if (lock.tryLock(Duration.ofSeconds(5), Duration.ofSeconds(30))) {
 *     try {
 *         invoices.send(42, lock.lease().orElseThrow().fencingToken());
 *     }
 *     finally {
 *         lock.unlock();
 *     }
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public final class LatchkeyLock implements DistributedLock {

	private final LockTemplate locks;

	private final String key;

	/**
	 * Who holds the lock in this process, and how often; the lease below is taken by its
	 * first hold.
	 */
	private final ReentrantLock local = new ReentrantLock();

	private volatile long lastUsed = System.currentTimeMillis();

	// Touched only by the thread that holds 'local'.
	private @Nullable LockHandle handle;

	private LockContext.@Nullable Binding binding;

	LatchkeyLock(LockTemplate locks, String key) {
		this.locks = locks;
		this.key = key;
	}

	/**
	 * The lock key, before {@code latchkey.key-prefix} is put in front of it.
	 * @return the key
	 */
	public String key() {
		return this.key;
	}

	/**
	 * The lease, while the current thread holds the lock: its fencing token goes to the
	 * store the guarded code writes.
	 * @return the lease, or empty when the current thread does not hold the lock
	 */
	public Optional<Lease> lease() {
		LockHandle held = this.handle;
		return (this.local.isHeldByCurrentThread() && held != null) ? Optional.of(held.lease()) : Optional.empty();
	}

	/**
	 * Takes the lock, waiting as long as it takes; an interrupt does not stop the wait,
	 * and is kept.
	 * @throws CannotAcquireLockException if the backend failed
	 */
	@Override
	public void lock() {
		lockUninterruptibly(null);
	}

	/**
	 * Takes the lock with a TTL of its own, waiting as long as it takes; an interrupt
	 * does not stop the wait.
	 * @param ttl the lease's TTL
	 * @throws CannotAcquireLockException if the backend failed
	 */
	@Override
	public void lock(Duration ttl) {
		Assert.notNull(ttl, "TTL must not be null");
		lockUninterruptibly(ttl);
	}

	private void lockUninterruptibly(@Nullable Duration ttl) {
		this.local.lock();
		if (this.local.getHoldCount() > 1) {
			return;
		}
		boolean interrupted = false;
		try {
			while (true) {
				try {
					if (acquire(LockSettings.MAX_DURATION, ttl)) {
						return;
					}
				}
				catch (InterruptedException ex) {
					interrupted = true;
				}
			}
		}
		catch (RuntimeException ex) {
			this.local.unlock();
			throw ex;
		}
		finally {
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/**
	 * Takes the lock, waiting until it is free or the thread is interrupted.
	 * @throws InterruptedException if the thread was interrupted
	 * @throws CannotAcquireLockException if the backend failed
	 */
	@Override
	public void lockInterruptibly() throws InterruptedException {
		this.local.lockInterruptibly();
		if (this.local.getHoldCount() > 1) {
			return;
		}
		try {
			while (!acquire(LockSettings.MAX_DURATION, null)) {
				// Waited the longest Latchkey allows: wait again.
			}
		}
		catch (InterruptedException | RuntimeException ex) {
			this.local.unlock();
			throw ex;
		}
	}

	/**
	 * Takes the lock if it is free now.
	 * @return whether the current thread holds the lock
	 * @throws CannotAcquireLockException if the backend failed
	 */
	@Override
	public boolean tryLock() {
		try {
			return attempt(Duration.ZERO, null);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/**
	 * Takes the lock if it becomes free within the wait time.
	 * @param time the wait time
	 * @param unit its unit
	 * @return whether the current thread holds the lock
	 * @throws InterruptedException if the thread was interrupted while waiting
	 * @throws CannotAcquireLockException if the backend failed
	 */
	@Override
	public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
		return attempt(Duration.of(Math.max(time, 0), unit.toChronoUnit()), null);
	}

	/**
	 * Takes the lock with a TTL of its own if it becomes free within the wait time.
	 * @param waitTime the wait time
	 * @param ttl the lease's TTL
	 * @return whether the current thread holds the lock
	 * @throws InterruptedException if the thread was interrupted while waiting
	 * @throws CannotAcquireLockException if the backend failed
	 */
	@Override
	public boolean tryLock(Duration waitTime, Duration ttl) throws InterruptedException {
		Assert.notNull(ttl, "TTL must not be null");
		return attempt(waitTime, ttl);
	}

	private boolean attempt(Duration waitTime, @Nullable Duration ttl) throws InterruptedException {
		Assert.notNull(waitTime, "Wait time must not be null");
		long deadline = System.nanoTime() + waitTime.toNanos();
		if (!this.local.tryLock(waitTime.toNanos(), TimeUnit.NANOSECONDS)) {
			return false;
		}
		if (this.local.getHoldCount() > 1) {
			return true;
		}
		try {
			if (acquire(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())), ttl)) {
				return true;
			}
		}
		catch (InterruptedException | RuntimeException ex) {
			this.local.unlock();
			throw ex;
		}
		this.local.unlock();
		return false;
	}

	private boolean acquire(Duration waitTime, @Nullable Duration ttl) throws InterruptedException {
		LockOperation operation = this.locks.exclusive(this.key).waitTime(waitTime);
		if (ttl != null) {
			operation = operation.ttl(ttl);
		}
		Optional<LockHandle> acquired;
		try {
			acquired = operation.tryAcquire();
		}
		catch (LockNotAcquiredException ex) {
			if (ex.isInterrupted()) {
				// The template kept the interrupt; it is thrown here as the Lock contract
				// asks.
				Thread.interrupted();
				InterruptedException interrupted = new InterruptedException(
						"Interrupted while waiting for lock '" + this.key + "'");
				interrupted.initCause(ex);
				throw interrupted;
			}
			throw ex;
		}
		catch (LockBackendException ex) {
			throw new CannotAcquireLockException("Failed to lock '" + this.key + "': " + ex.getMessage(), ex);
		}
		if (acquired.isEmpty()) {
			return false;
		}
		LockHandle held = acquired.get();
		this.handle = held;
		this.binding = LockContext.bind(held.lease());
		this.lastUsed = System.currentTimeMillis();
		return true;
	}

	/**
	 * Lets go of one hold of the current thread; the last one releases the lease.
	 * @throws IllegalStateException if the current thread does not hold the lock
	 * @throws ConcurrentModificationException if the lease was lost while held: the data
	 * it guarded may have been changed by another holder meanwhile
	 */
	@Override
	public void unlock() {
		if (!this.local.isHeldByCurrentThread()) {
			throw new IllegalStateException("You do not own lock '" + this.key + "'");
		}
		if (this.local.getHoldCount() > 1) {
			this.local.unlock();
			return;
		}
		LockHandle held = this.handle;
		LockContext.Binding bound = this.binding;
		this.handle = null;
		this.binding = null;
		LockLostException lost = null;
		try {
			if (bound != null) {
				bound.close();
			}
			if (held != null) {
				try {
					held.lease().assertValid();
				}
				catch (LockLostException ex) {
					lost = ex;
				}
				held.close();
			}
		}
		finally {
			this.local.unlock();
		}
		if (lost != null) {
			throw new ConcurrentModificationException("Lock '" + this.key + "' was lost while it was held ("
					+ lost.getReason() + "); the integrity of the data it guarded may have been compromised", lost);
		}
	}

	/**
	 * Not supported.
	 * @return never
	 * @throws UnsupportedOperationException always
	 */
	@Override
	public Condition newCondition() {
		throw new UnsupportedOperationException("Conditions are not supported");
	}

	Duration checkHeldAndValid() {
		LockHandle held = this.handle;
		if (!this.local.isHeldByCurrentThread() || held == null) {
			throw new IllegalStateException("You do not own lock '" + this.key + "'");
		}
		try {
			held.lease().assertValid();
		}
		catch (LockLostException ex) {
			throw new IllegalStateException("Could not renew lock '" + this.key + "': its lease was lost", ex);
		}
		return held.lease().ttl();
	}

	boolean isUnusedSince(long epochMillis) {
		return !this.local.isLocked() && this.lastUsed <= epochMillis;
	}

	@Override
	public String toString() {
		return "LatchkeyLock[key=" + this.key + (this.local.isLocked() ? ", locked" : "") + "]";
	}

}
