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

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * Gives back the leases of acquisitions whose answer was lost, lost leases, and leases
 * whose minimum hold time ended. An acquire that failed with a backend exception (a
 * timeout against a paused server, a connection that dropped after the request was sent,
 * a commit whose outcome is unknown) may still have been granted at the backend; nobody
 * would then hold the key for a whole TTL. The caller knows the token it sent, so this
 * releases that token, best effort, once the backend answers again: retried with
 * exponential backoff until the lease's TTL has passed since the attempt (by then the
 * backend has expired it anyway), and stopped at the first answer, whatever it is.
 * Releasing by token never deletes another owner's lease, so this is safe on every
 * backend, whether or not the acquisition had landed.
 * <p>
 * A lease the core declared lost while it may still be held at the backend (its renewal
 * failed until its local deadline, or it reached its maximum hold time) is given back the
 * same way, so that another instance need not wait for its TTL.
 * <p>
 * A lease whose minimum hold time ended is given back in one try, not retried, and what
 * follows the hold (waking the waiters, telling the observer) runs once that try has
 * returned, whatever its outcome.
 * <p>
 * Releases run on a thread of their own, started on first use, and never on the lease
 * keeper's threads: a release that hangs against a paused server must not delay the
 * renewals, nor the losses at their deadlines, of the leases that are held.
 *
 * <pre class="code">
 * OrphanedLeaseReleaser orphans = new OrphanedLeaseReleaser(repository, waiter::released);
 * try {
 *     repository.tryAcquire(lease);
 * }
 * catch (LockBackendException ex) {
 *     orphans.release(lease, "'orders'", attemptedAtNanos);
 *     throw ex;
 * }
 * orphans.releaseLost(lostLease, "'orders'");
 * orphans.releaseAfterHold(heldLease, "'orders'", () -> waiter.released(heldLease.key()));
 * </pre>
 */
final class OrphanedLeaseReleaser implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(OrphanedLeaseReleaser.class);

	private static final long FIRST_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	private static final long MAX_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);

	/**
	 * The most releases kept pending at once: during an outage every failed acquire adds
	 * one, and each is kept up to its lease's TTL. Beyond this, a lease is left to expire
	 * at the backend.
	 */
	static final int MAX_PENDING = 10_000;

	private final AtomicInteger pending = new AtomicInteger();

	private final LockRepository repository;

	private final Consumer<String> onReleased;

	private final @Nullable ThreadFactory threadFactory;

	private @Nullable ScheduledThreadPoolExecutor scheduler;

	private boolean closed;

	/**
	 * Makes a releaser.
	 * @param repository the backend
	 * @param onReleased called with the key when an orphaned lease was found and
	 * released, to wake local waiters
	 */
	OrphanedLeaseReleaser(LockRepository repository, Consumer<String> onReleased) {
		this(repository, onReleased, null);
	}

	/**
	 * Makes a releaser whose thread comes from a thread factory.
	 * @param repository the backend
	 * @param onReleased called with the key when an orphaned lease was found and
	 * released, to wake local waiters
	 * @param threadFactory makes the releaser's thread, or {@code null} for a daemon
	 * thread named {@code latchkey-orphan-release-1}
	 */
	OrphanedLeaseReleaser(LockRepository repository, Consumer<String> onReleased,
			@Nullable ThreadFactory threadFactory) {
		this.repository = repository;
		this.onReleased = onReleased;
		this.threadFactory = threadFactory;
	}

	/**
	 * Releases the lease of an acquisition that failed, as soon as the backend answers
	 * again.
	 * @param lease the lease that was asked for
	 * @param lock the lock as the log names it, quotes included: its name, and its key
	 * only when {@code latchkey.show-keys-in-messages} is on
	 * @param attemptedAtNanos when the failed attempt was sent, on the
	 * {@link System#nanoTime()} clock: the release is given up when the lease's TTL has
	 * passed since then
	 */
	void release(LeaseSpec lease, String lock, long attemptedAtNanos) {
		admit(new Attempt(lease, lock, attemptedAtNanos + lease.ttl().toNanos(), false, null),
				() -> "Not releasing '" + lease.key() + "' after a failed acquire: " + MAX_PENDING
						+ " releases are pending already; it expires at the backend within " + lease.ttl());
	}

	/**
	 * Gives back a lease the core declared lost, which the backend may still hold for it:
	 * tried until the backend answers, or until its TTL has passed from now.
	 * @param lease the lost lease
	 * @param lock the lock as the log names it, quotes included
	 */
	void releaseLost(LeaseSpec lease, String lock) {
		admit(new Attempt(lease, lock, System.nanoTime() + lease.ttl().toNanos(), true, null),
				() -> "Not giving back lost lock " + lock + ": " + MAX_PENDING
						+ " releases are pending already; it expires at the backend within " + lease.ttl());
	}

	/**
	 * Gives back a lease at the end of its minimum hold time, then runs what follows the
	 * hold (waking the waiters, telling the observer), both on the releaser's thread. One
	 * try, not retried: {@code then} runs once it has returned, whether it found the
	 * lease, found it expired, or failed (the lease, shortened to the end of the hold
	 * plus the safety margin, then expires at the backend).
	 * @param lease the lease whose minimum hold ended
	 * @param lock the lock as the log names it, quotes included
	 * @param then what follows the release
	 * @return whether the release was taken; {@code false} when {@link #MAX_PENDING}
	 * releases are pending already or this is closed, and the caller then releases itself
	 */
	boolean releaseAfterHold(LeaseSpec lease, String lock, Runnable then) {
		return admit(new Attempt(lease, lock, System.nanoTime() + lease.ttl().toNanos(), false, then),
				() -> "Not releasing lock " + lock + " at the end of its minimum hold on the releaser's thread: "
						+ MAX_PENDING + " releases are pending already");
	}

	/**
	 * Schedules an attempt at once, unless {@link #MAX_PENDING} releases are pending
	 * already: then the attempt is dropped and the refusal logged at DEBUG.
	 * @param attempt the release to make
	 * @param refusal the DEBUG line when it is not admitted
	 * @return whether it was scheduled: {@code false} when it was refused, or this is
	 * closed
	 */
	private boolean admit(Attempt attempt, Supplier<String> refusal) {
		if (this.pending.incrementAndGet() > MAX_PENDING) {
			this.pending.decrementAndGet();
			logger.debug(refusal);
			return false;
		}
		return attempt.scheduleIn(0);
	}

	/**
	 * Gives up the releases not made yet; their leases, if they were granted, expire at
	 * the backend.
	 */
	@Override
	public synchronized void close() {
		this.closed = true;
		if (this.scheduler != null) {
			this.scheduler.shutdownNow();
		}
	}

	private synchronized @Nullable ScheduledThreadPoolExecutor scheduler() {
		if (this.closed) {
			return null;
		}
		if (this.scheduler == null) {
			ThreadFactory threads = this.threadFactory;
			if (threads == null) {
				CustomizableThreadFactory own = new CustomizableThreadFactory("latchkey-orphan-release-");
				own.setDaemon(true);
				threads = own;
			}
			ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, threads);
			scheduler.setRemoveOnCancelPolicy(true);
			scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
			this.scheduler = scheduler;
		}
		return this.scheduler;
	}

	private final class Attempt implements Runnable {

		private final LeaseSpec lease;

		private final String lock;

		private final long deadlineNanos;

		// Whether the lease was lost rather than its acquisition's answer.
		private final boolean lost;

		// What follows the end of a minimum hold, for such a release: tried once.
		private final @Nullable Runnable afterHold;

		private long backoffNanos = FIRST_RETRY_NANOS;

		private int tries;

		Attempt(LeaseSpec lease, String lock, long deadlineNanos, boolean lost, @Nullable Runnable afterHold) {
			this.lease = lease;
			this.lock = lock;
			this.deadlineNanos = deadlineNanos;
			this.lost = lost;
			this.afterHold = afterHold;
		}

		private String after() {
			return this.lost ? "after it was lost" : "after a failed acquire";
		}

		boolean scheduleIn(long delayNanos) {
			ScheduledThreadPoolExecutor scheduler = scheduler();
			if (scheduler == null) {
				done();
				return false;
			}
			try {
				scheduler.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
				return true;
			}
			catch (RejectedExecutionException ex) {
				// Closed meanwhile: the lease, if it was granted, expires at the backend
				// (a minimum hold's caller, told so, releases it itself).
				done();
				return false;
			}
		}

		private void done() {
			OrphanedLeaseReleaser.this.pending.decrementAndGet();
		}

		@Override
		public void run() {
			if (this.afterHold != null) {
				endHold(this.afterHold);
				return;
			}
			if (System.nanoTime() - this.deadlineNanos >= 0) {
				done();
				logger.debug(() -> "Gave up releasing '" + this.lease.key() + "' " + after() + ": its TTL has passed");
				return;
			}
			this.tries++;
			boolean released;
			try {
				released = OrphanedLeaseReleaser.this.repository.release(this.lease);
			}
			catch (Throwable ex) {
				long retry = Math.min(this.backoffNanos, Math.max(0, this.deadlineNanos - System.nanoTime()));
				this.backoffNanos = Math.min(this.backoffNanos * 2, MAX_RETRY_NANOS);
				logger.debug(ex, () -> "Releasing '" + this.lease.key() + "' " + after() + " failed (try " + this.tries
						+ "); retrying");
				scheduleIn(retry);
				return;
			}
			done();
			if (released) {
				if (this.lost) {
					logger.debug(() -> "Gave back lost lock " + this.lock + " at the "
							+ OrphanedLeaseReleaser.this.repository.backend() + " backend");
				}
				else {
					logger.info(() -> "An acquire of lock " + this.lock + " whose answer was lost had been granted"
							+ " at the " + OrphanedLeaseReleaser.this.repository.backend() + " backend; released it");
				}
				try {
					OrphanedLeaseReleaser.this.onReleased.accept(this.lease.key());
				}
				catch (Throwable ex) {
					logger.warn(ex, () -> "Waking the waiters of lock " + this.lock + " failed");
				}
			}
		}

		private void endHold(Runnable then) {
			try {
				OrphanedLeaseReleaser.this.repository.release(this.lease);
			}
			catch (Throwable ex) {
				logger.debug(ex, () -> "Releasing lock '" + this.lease.key()
						+ "' at the end of its minimum hold failed; it expires at the backend");
			}
			done();
			try {
				then.run();
			}
			catch (Throwable ex) {
				logger.warn(ex, () -> "Ending the minimum hold of lock " + this.lock + " failed");
			}
		}

	}

}
