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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.util.Assert;

/**
 * Renews held leases at the backend, in batches, and declares them lost when it cannot.
 * <p>
 * Each lease is due for renewal every {@link KeptLease#renewInterval()} (a third of its
 * TTL by default). When a tick runs, every lease due within half of its own interval
 * joins the batch, so leases taken at nearby times share one {@link LockRepository#renew}
 * call and the traffic per tick does not grow with the number of leases; or, for a
 * backend that asks for smaller calls ({@link LockRepository#renewalBatchSize()}), one
 * call per that many leases, one after the other, each lease's renewal timed from when
 * its own call was sent.
 * <ul>
 * <li>A lease the backend reports as no longer held is lost at once
 * ({@link LossReason#NOT_OWNER}).</li>
 * <li>A renewal that fails with an exception is retried until the lease's local validity
 * deadline, then the lease is lost ({@link LossReason#RENEWAL_FAILED}).</li>
 * <li>A lease with a maximum hold time is not renewed past it: its last renewals ask the
 * backend to keep it only until that deadline plus its safety margin (so that a process
 * paused there does not hold the key for a whole TTL more), and at the deadline it is
 * lost ({@link LossReason#MAX_HOLD_EXCEEDED}), even while a renewal hangs, and its
 * lifecycle gives it back at the backend.</li>
 * </ul>
 * It runs on a {@link TaskScheduler}: the application's, or two threads of its own
 * ({@code latchkey-lease-keeper-*}) that {@link #close()} stops. Either way the scheduler
 * runs two tasks at once, so that while one renewal hangs against a paused server, leases
 * are still lost at their deadlines. Closing cancels what the keeper scheduled on a
 * scheduler it was given, and leaves the scheduler to its owner.
 *
 * <pre class="code">
 * LeaseKeeper keeper = new LeaseKeeper(repository, null);
 * keeper.keep(lease);   // renewed from now on
 * keeper.forget(lease); // before releasing it
 * </pre>
 */
final class LeaseKeeper implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(LeaseKeeper.class);

	private static final long MIN_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

	private static final long MIN_RENEWAL_TTL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

	private final LockRepository repository;

	private final TaskScheduler scheduler;

	// The scheduler this keeper made, and stops; null when it was given one.
	private final @Nullable ThreadPoolTaskScheduler ownScheduler;

	// Tasks run later (the ends of minimum hold times), cancelled on close. Guarded by
	// itself.
	private final Set<ScheduledFuture<?>> deferred = new HashSet<>();

	private final Map<String, Entry> kept = new ConcurrentHashMap<>();

	private final Object schedule = new Object();

	// Written under the schedule lock.
	private volatile boolean closed;

	// Written under the schedule lock; read without it on the fast path of keep().
	private volatile long nextTickNanos = Long.MAX_VALUE;

	private @Nullable ScheduledFuture<?> nextTick;

	private final AtomicBoolean renewAll = new AtomicBoolean();

	private final AtomicBoolean ticking = new AtomicBoolean();

	private final ReleaseSubscription lossSubscription;

	// When the last renewal call the backend answered was sent, on the nanoTime clock; 0
	// until the first.
	private volatile long lastRenewalNanos;

	LeaseKeeper(LockRepository repository, @Nullable TaskScheduler scheduler) {
		this(repository, scheduler, null);
	}

	LeaseKeeper(LockRepository repository, @Nullable TaskScheduler scheduler, @Nullable ThreadFactory threadFactory) {
		this.repository = repository;
		if (scheduler != null) {
			Assert.isTrue(!(scheduler instanceof ThreadPoolTaskScheduler pool) || corePoolSize(pool) >= 2,
					"The lease keeper's scheduler must run two tasks at once (a pool of two threads or more): while a"
							+ " renewal hangs, leases must still be lost at their deadlines");
			this.scheduler = scheduler;
			this.ownScheduler = null;
		}
		else {
			ThreadPoolTaskScheduler own = new ThreadPoolTaskScheduler();
			// Two threads: while one waits on a renewal that hangs, the other still loses
			// leases at their deadline.
			own.setPoolSize(2);
			if (threadFactory != null) {
				own.setThreadFactory(threadFactory);
			}
			else {
				own.setThreadNamePrefix("latchkey-lease-keeper-");
				own.setDaemon(true);
			}
			own.setRemoveOnCancelPolicy(true);
			own.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
			own.initialize();
			this.scheduler = own;
			this.ownScheduler = own;
		}
		this.lossSubscription = repository.subscribeToLoss(this::renewNow);
	}

	private static int corePoolSize(ThreadPoolTaskScheduler pool) {
		try {
			return pool.getScheduledThreadPoolExecutor().getCorePoolSize();
		}
		catch (IllegalStateException ex) {
			// Not initialized yet: the size it will have.
			return pool.getPoolSize();
		}
	}

	/**
	 * Renews every kept lease now, to find out at once which are lost: called when the
	 * backend signals that leases may have been lost.
	 */
	void renewNow() {
		if (!this.kept.isEmpty() && !this.closed) {
			this.renewAll.set(true);
			tickNoLaterThan(System.nanoTime());
		}
	}

	/**
	 * Starts renewing a lease.
	 * @param lease the lease, just granted
	 */
	void keep(KeptLease lease) {
		long now = System.nanoTime();
		long interval = lease.renewInterval().toNanos();
		// A lease granted a while before it reached this process (a queued grant) has
		// less validity left than a fresh one: renew it sooner, so that it is renewed
		// before its deadline.
		long due = Math.max(now, Math.min(now + interval, lease.validUntilNanos() - interval));
		Entry entry = Entry.of(lease, due);
		this.kept.put(lease.spec().token(), entry);
		tickNoLaterThan(entry.nextTickNanos());
	}

	/**
	 * Stops renewing a lease, before it is released.
	 * @param lease the lease
	 */
	void forget(KeptLease lease) {
		this.kept.remove(lease.spec().token());
	}

	/**
	 * The number of leases being renewed.
	 * @return the number of kept leases
	 */
	int size() {
		return this.kept.size();
	}

	/**
	 * The leases being renewed.
	 * @return a snapshot of the kept leases
	 */
	List<KeptLease> leases() {
		List<KeptLease> leases = new ArrayList<>(this.kept.size());
		for (Entry entry : this.kept.values()) {
			leases.add(entry.lease);
		}
		return leases;
	}

	/**
	 * How long ago the last renewal that the backend answered was sent, whatever it
	 * answered: how far the keeper lags behind when leases are held. Reported by the
	 * health indicator.
	 *
	 * <pre class="code">
	 * keeper.timeSinceLastRenewal().ifPresent((lag) -&gt; log.info("last renewal " + lag + " ago"));
	 * </pre>
	 * @return the time since the last answered renewal, or empty when none has been sent
	 * yet
	 */
	Optional<Duration> timeSinceLastRenewal() {
		long last = this.lastRenewalNanos;
		return (last != 0) ? Optional.of(Duration.ofNanos(System.nanoTime() - last)) : Optional.empty();
	}

	/**
	 * Runs a task later on the keeper's scheduler, for example the end of a minimum hold
	 * time (which hands its release on to the {@link OrphanedLeaseReleaser}). The task
	 * must not wait for the backend: it would hold up one of the two tasks the scheduler
	 * runs at once.
	 * @param task the task
	 * @param delay the delay
	 * @throws RejectedExecutionException if the keeper is closed
	 */
	void schedule(Runnable task, Duration delay) {
		synchronized (this.deferred) {
			if (this.closed) {
				throw new RejectedExecutionException("The lease keeper is closed");
			}
			ScheduledFuture<?>[] future = new ScheduledFuture<?>[1];
			future[0] = scheduleIn(() -> {
				synchronized (this.deferred) {
					this.deferred.remove(future[0]);
				}
				runSafely(task);
			}, delay.toNanos());
			this.deferred.add(future[0]);
		}
	}

	/**
	 * Stops renewing. Leases still held then expire at the backend.
	 */
	@Override
	public void close() {
		this.lossSubscription.close();
		synchronized (this.schedule) {
			this.closed = true;
			if (this.nextTick != null) {
				this.nextTick.cancel(false);
				this.nextTick = null;
			}
		}
		synchronized (this.deferred) {
			this.deferred.forEach((future) -> future.cancel(false));
			this.deferred.clear();
		}
		if (this.ownScheduler != null) {
			// Interrupts a renewal in flight: the scheduler waits for nothing on
			// shutdown.
			this.ownScheduler.shutdown();
		}
		this.kept.clear();
	}

	private ScheduledFuture<?> scheduleIn(Runnable task, long delayNanos) {
		return this.scheduler.schedule(task, this.scheduler.getClock().instant().plusNanos(Math.max(0, delayNanos)));
	}

	private void tickNoLaterThan(long dueNanos) {
		long scheduled = this.nextTickNanos;
		if (scheduled != Long.MAX_VALUE && dueNanos - scheduled >= 0) {
			// A tick is already due by then: the common case, since leases are kept in
			// the order they are taken.
			return;
		}
		synchronized (this.schedule) {
			if (this.closed || (this.nextTickNanos != Long.MAX_VALUE && dueNanos - this.nextTickNanos >= 0)) {
				return;
			}
			if (this.nextTick != null) {
				this.nextTick.cancel(false);
			}
			this.nextTickNanos = dueNanos;
			long delay = Math.max(0, dueNanos - System.nanoTime());
			try {
				this.nextTick = scheduleIn(this::tick, delay);
			}
			catch (RejectedExecutionException ex) {
				this.nextTickNanos = Long.MAX_VALUE;
				logger.error(ex, "The lease keeper's scheduler refused the next renewal; held leases will expire");
			}
		}
	}

	private void tick() {
		synchronized (this.schedule) {
			if (this.closed) {
				return;
			}
			this.nextTickNanos = Long.MAX_VALUE;
			this.nextTick = null;
		}
		if (!this.ticking.compareAndSet(false, true)) {
			// A tick is still running (its renewal may hang): it schedules the next one
			// when it ends.
			return;
		}
		try {
			renewDueLeases();
		}
		catch (Throwable ex) {
			logger.error(ex, "Lease renewal tick failed");
		}
		finally {
			this.ticking.set(false);
			long next = this.renewAll.get() ? System.nanoTime() : Long.MAX_VALUE;
			for (Entry entry : this.kept.values()) {
				next = Math.min(next, entry.nextTickNanos());
			}
			if (next != Long.MAX_VALUE) {
				tickNoLaterThan(next);
			}
		}
	}

	private void renewDueLeases() {
		long now = System.nanoTime();
		boolean all = this.renewAll.getAndSet(false);
		List<Entry> batch = new ArrayList<>();
		for (Entry entry : this.kept.values()) {
			if (loseIfExpired(entry, now)) {
				continue;
			}
			if (all || entry.nextRenewNanos - now <= entry.lease.renewInterval().toNanos() / 2) {
				batch.add(entry);
			}
		}
		int perCall = Math.max(1, this.repository.renewalBatchSize());
		for (int from = 0; from < batch.size(); from += perCall) {
			RuntimeException failure = renew(batch.subList(from, Math.min(batch.size(), from + perCall)));
			if (failure != null) {
				// The leases left are retried with these, rather than each call waiting
				// out the same failure.
				renewalFailed(batch.subList(from, batch.size()), failure);
				return;
			}
		}
	}

	/**
	 * Renews leases in one repository call, timed from when it is sent.
	 * @return the call's failure, or {@code null}
	 */
	private @Nullable RuntimeException renew(List<Entry> batch) {
		long now = System.nanoTime();
		List<LeaseSpec> specs = new ArrayList<>(batch.size());
		for (Entry entry : batch) {
			specs.add(renewal(entry, now));
		}
		long requestedAt = System.nanoTime();
		Set<String> lost;
		Watchdog watchdog = new Watchdog(batch);
		try {
			lost = this.repository.renew(specs);
		}
		catch (RuntimeException ex) {
			return ex;
		}
		finally {
			watchdog.stop();
		}
		this.lastRenewalNanos = (requestedAt != 0) ? requestedAt : 1;
		for (Entry entry : batch) {
			if (lost.contains(entry.lease.spec().token())) {
				lose(entry, LossReason.NOT_OWNER, null);
			}
			else if (this.kept.get(entry.lease.spec().token()) == entry) {
				entry.nextRenewNanos = requestedAt + entry.lease.renewInterval().toNanos();
				runSafely(() -> entry.lease.renewed(requestedAt));
			}
		}
		return null;
	}

	/**
	 * What to renew a lease as: its own TTL, or, once its maximum hold time comes sooner,
	 * only until that deadline plus its safety margin. The keeper loses and releases the
	 * lease at the deadline; should this process stop before (paused, or dead), the
	 * backend frees the key soon after it rather than a whole TTL later.
	 */
	private static LeaseSpec renewal(Entry entry, long now) {
		LeaseSpec spec = entry.lease.spec();
		if (!entry.hasHoldLimit()) {
			return spec;
		}
		long needed = entry.holdDeadlineNanos() - now + entry.lease.safetyMargin().toNanos();
		return (needed < spec.ttl().toNanos()) ? spec.withTtl(Duration.ofNanos(Math.max(needed, MIN_RENEWAL_TTL_NANOS)))
				: spec;
	}

	/**
	 * Loses the leases of a renewal in flight at their local deadlines, should the
	 * renewal hang past them (a paused or partitioned server, a long command timeout):
	 * the work must hear of the loss before the server can grant the key elsewhere, not
	 * when the call finally returns.
	 */
	private final class Watchdog implements Runnable {

		private final List<Entry> batch;

		private @Nullable ScheduledFuture<?> next;

		private boolean stopped;

		Watchdog(List<Entry> batch) {
			this.batch = batch;
			scheduleNext();
		}

		@Override
		public synchronized void run() {
			if (this.stopped) {
				return;
			}
			long now = System.nanoTime();
			for (Entry entry : this.batch) {
				loseIfExpired(entry, now);
			}
			scheduleNext();
		}

		private synchronized void scheduleNext() {
			long earliest = Long.MAX_VALUE;
			for (Entry entry : this.batch) {
				if (LeaseKeeper.this.kept.get(entry.lease.spec().token()) == entry) {
					earliest = Math.min(earliest, entry.deadlineNanos());
				}
			}
			if (earliest == Long.MAX_VALUE || LeaseKeeper.this.closed) {
				this.next = null;
				return;
			}
			try {
				this.next = scheduleIn(this, earliest - System.nanoTime());
			}
			catch (RejectedExecutionException ex) {
				this.next = null;
			}
		}

		synchronized void stop() {
			this.stopped = true;
			if (this.next != null) {
				this.next.cancel(false);
			}
		}

	}

	private void renewalFailed(List<Entry> batch, RuntimeException ex) {
		long now = System.nanoTime();
		for (Entry entry : batch) {
			long remaining = entry.lease.validUntilNanos() - now;
			if (remaining <= 0) {
				lose(entry, LossReason.RENEWAL_FAILED, ex);
			}
			else {
				// Retry well before the deadline: a few more attempts fit in what is
				// left.
				long retry = Math.max(MIN_RETRY_NANOS, Math.min(entry.lease.renewInterval().toNanos(), remaining / 3));
				entry.nextRenewNanos = now + Math.min(retry, remaining);
			}
		}
		logger.warn(ex, () -> "Renewing " + batch.size() + " lease(s) at " + this.repository.backend()
				+ " failed; retrying until each lease's validity runs out");
	}

	/**
	 * Loses a lease that reached its maximum hold time, or whose local validity deadline
	 * has passed without a renewal.
	 * @return whether the lease was past one of its deadlines
	 */
	private boolean loseIfExpired(Entry entry, long now) {
		if (entry.hasHoldLimit() && now - entry.holdDeadlineNanos() >= 0) {
			lose(entry, LossReason.MAX_HOLD_EXCEEDED, null);
			return true;
		}
		if (now - entry.lease.validUntilNanos() < 0) {
			return false;
		}
		lose(entry, LossReason.RENEWAL_FAILED, null);
		return true;
	}

	private void lose(Entry entry, LossReason reason, @Nullable Throwable cause) {
		if (this.kept.remove(entry.lease.spec().token(), entry)) {
			runSafely(() -> entry.lease.lost(reason, cause));
		}
	}

	private static void runSafely(Runnable task) {
		try {
			task.run();
		}
		catch (Throwable ex) {
			logger.error(ex, "Lease keeper task failed");
		}
	}

	/**
	 * A lease as the keeper sees it.
	 */
	interface KeptLease {

		/**
		 * The lease as the backend knows it.
		 * @return the lease specification
		 */
		LeaseSpec spec();

		/**
		 * How often to renew the lease.
		 * @return the renewal interval, shorter than the TTL
		 */
		Duration renewInterval();

		/**
		 * When this process stops believing it holds the lease unless it is renewed, on
		 * the {@link System#nanoTime()} clock.
		 * @return the local validity deadline
		 */
		long validUntilNanos();

		/**
		 * When the lease's validity started, on the {@link System#nanoTime()} clock: its
		 * maximum hold time counts from then.
		 * @return when the lease was granted
		 */
		long acquiredAtNanos();

		/**
		 * The longest the lease may be held; the keeper does not renew it past that.
		 * @return the maximum hold time, or {@code null} for no limit
		 */
		@Nullable Duration holdLimit();

		/**
		 * How long before the backend could expire the lease this process stops relying
		 * on it: its TTL less its local validity.
		 * @return the safety margin
		 */
		Duration safetyMargin();

		/**
		 * Called after a successful renewal.
		 * @param requestedAtNanos when the renewal was sent, on the
		 * {@link System#nanoTime()} clock
		 */
		void renewed(long requestedAtNanos);

		/**
		 * Called once when the lease is lost.
		 * @param reason why
		 * @param cause the backend failure, if any
		 */
		void lost(LossReason reason, @Nullable Throwable cause);

	}

	/**
	 * A kept lease without a maximum hold time, the common case: 24 bytes, one per held
	 * lease, so the hold limit's fields are in {@link LimitedEntry} only.
	 */
	private static class Entry {

		final KeptLease lease;

		volatile long nextRenewNanos;

		Entry(KeptLease lease, long nextRenewNanos) {
			this.lease = lease;
			this.nextRenewNanos = nextRenewNanos;
		}

		static Entry of(KeptLease lease, long nextRenewNanos) {
			Duration limit = lease.holdLimit();
			return (limit != null) ? new LimitedEntry(lease, nextRenewNanos, lease.acquiredAtNanos() + limit.toNanos())
					: new Entry(lease, nextRenewNanos);
		}

		boolean hasHoldLimit() {
			return false;
		}

		/**
		 * When the lease must be given up, on the local monotonic clock; only for an
		 * entry {@linkplain #hasHoldLimit() with a hold limit}.
		 */
		long holdDeadlineNanos() {
			throw new IllegalStateException("No hold limit");
		}

		/**
		 * When the keeper must look at this lease next: its next renewal, or its maximum
		 * hold time if that comes first.
		 */
		long nextTickNanos() {
			return this.nextRenewNanos;
		}

		/**
		 * When the lease is lost unless renewed first: its local validity deadline, or
		 * its maximum hold time if that comes first.
		 */
		long deadlineNanos() {
			return this.lease.validUntilNanos();
		}

	}

	/**
	 * A kept lease with a maximum hold time.
	 */
	private static final class LimitedEntry extends Entry {

		private final long holdDeadlineNanos;

		LimitedEntry(KeptLease lease, long nextRenewNanos, long holdDeadlineNanos) {
			super(lease, nextRenewNanos);
			this.holdDeadlineNanos = holdDeadlineNanos;
		}

		@Override
		boolean hasHoldLimit() {
			return true;
		}

		@Override
		long holdDeadlineNanos() {
			return this.holdDeadlineNanos;
		}

		@Override
		long nextTickNanos() {
			long next = this.nextRenewNanos;
			return (this.holdDeadlineNanos - next < 0) ? this.holdDeadlineNanos : next;
		}

		@Override
		long deadlineNanos() {
			long validUntil = this.lease.validUntilNanos();
			return (this.holdDeadlineNanos - validUntil < 0) ? this.holdDeadlineNanos : validUntil;
		}

	}

}
