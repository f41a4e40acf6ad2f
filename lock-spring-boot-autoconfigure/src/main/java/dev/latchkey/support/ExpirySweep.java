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

package dev.latchkey.support;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.LeaseSpec;

/**
 * The expiry sweep of a backend that keeps its leases alive in bulk (an etcd lease, a
 * Redis owner record): one thread that wakes every 50 ms and releases the tracked leases
 * whose local deadline passed, so that a lock the core stopped renewing is not kept held
 * by the leases it still renews. The backend may run other delayed tasks on that thread.
 * Internal: it serves Latchkey's own backends, and may change in any release.
 *
 * <pre class="code">
 * private final ExpirySweep sweep = new ExpirySweep(HeldLeases.class, "Redis", threadFactory,
 *         this::deleteExpired, Duration.ofSeconds(2));
 *
 * void track(Held entry) {
 *     this.held.put(entry.spec().token(), entry);
 *     this.sweep.start();
 * }
 *
 * private void deleteExpired() {
 *     this.sweep.releaseExpired(this.held, this::delete);
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public final class ExpirySweep implements AutoCloseable {

	private static final long INTERVAL_MILLIS = 50;

	private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

	private final LogAccessor logger;

	private final String backend;

	private final ThreadFactory threadFactory;

	private final Runnable sweep;

	private final Duration closeWait;

	private final ReentrantLock lock = new ReentrantLock();

	private volatile @Nullable ScheduledThreadPoolExecutor executor;

	private volatile boolean closed;

	/**
	 * Makes a sweep, not started yet.
	 * @param owner the class whose logger reports the sweep's failures
	 * @param backend the backend's name, as the warning that the sweep did not stop names
	 * it
	 * @param threadFactory makes the sweep's one thread
	 * @param sweep one round of the sweep, run every 50 ms (typically a call of
	 * {@link #releaseExpired})
	 * @param closeWait how long {@link #close()} waits for the thread to end
	 */
	public ExpirySweep(Class<?> owner, String backend, ThreadFactory threadFactory, Runnable sweep,
			Duration closeWait) {
		this.logger = new LogAccessor(owner);
		this.backend = backend;
		this.threadFactory = threadFactory;
		this.sweep = sweep;
		this.closeWait = closeWait;
	}

	/**
	 * Starts the sweep's thread, unless it runs already or the sweep is closed.
	 */
	public void start() {
		if (this.executor != null || this.closed) {
			return;
		}
		this.lock.lock();
		try {
			if (this.executor != null || this.closed) {
				return;
			}
			ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, this.threadFactory);
			executor.scheduleWithFixedDelay(this.sweep, INTERVAL_MILLIS, INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
			this.executor = executor;
		}
		catch (RejectedExecutionException ex) {
			// Closed meanwhile.
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Whether the sweep is closed: a round in progress stops at its next lease.
	 * @return whether {@link #close()} was called
	 */
	public boolean isClosed() {
		return this.closed;
	}

	/**
	 * Runs a task on the sweep's thread after a delay; nothing before the sweep started
	 * or once it is closed.
	 * @param task the task
	 * @param delayNanos the delay in nanoseconds
	 */
	public void schedule(Runnable task, long delayNanos) {
		ScheduledThreadPoolExecutor executor = this.executor;
		if (executor == null || this.closed) {
			return;
		}
		try {
			executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
		}
		catch (RejectedExecutionException ex) {
			// Closed meanwhile.
		}
	}

	/**
	 * One round of the sweep: releases, with {@code release}, each tracked lease whose
	 * local deadline passed, and forgets it unless it was tracked anew meanwhile. A lease
	 * whose release fails is tried again a second later. The round stops once the sweep
	 * is closed.
	 * @param <E> the type of the backend's tracking entries
	 * @param held the tracked leases, by token
	 * @param release releases a lease at the server (throws when it could not)
	 */
	public <E extends Tracked> void releaseExpired(Map<String, E> held, Consumer<? super E> release) {
		long now = System.nanoTime();
		for (E entry : held.values()) {
			if (this.closed) {
				return;
			}
			if (now - entry.deadlineNanos() >= 0) {
				try {
					release.accept(entry);
					held.remove(entry.spec().token(), entry);
				}
				catch (RuntimeException ex) {
					entry.deadlineNanos(now + RETRY_NANOS);
					this.logger.debug(ex, () -> "Could not delete the expired lease of '" + entry.spec().key() + "'");
				}
			}
		}
	}

	/**
	 * Stops the sweep, waiting for its thread to end (a release in flight may be waiting
	 * for the server) for at most the wait given to the constructor.
	 */
	@Override
	public void close() {
		ScheduledThreadPoolExecutor stopped;
		this.lock.lock();
		try {
			this.closed = true;
			stopped = this.executor;
			if (stopped != null) {
				stopped.shutdownNow();
			}
		}
		finally {
			this.lock.unlock();
		}
		if (stopped != null) {
			try {
				if (!stopped.awaitTermination(this.closeWait.toMillis(), TimeUnit.MILLISECONDS)) {
					this.logger.warn(() -> "The " + this.backend + " expiry sweep did not stop within "
							+ this.closeWait.toMillis() + " ms");
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/**
	 * A lease the sweep releases when its local deadline passes: a backend's tracking
	 * entry.
	 */
	public interface Tracked {

		/**
		 * The lease.
		 * @return the lease as it was granted
		 */
		LeaseSpec spec();

		/**
		 * When the lease is released unless renewed, on {@link System#nanoTime()}.
		 * @return the deadline
		 */
		long deadlineNanos();

		/**
		 * Moves the deadline.
		 * @param deadlineNanos the new deadline, on {@link System#nanoTime()}
		 */
		void deadlineNanos(long deadlineNanos);

	}

}
