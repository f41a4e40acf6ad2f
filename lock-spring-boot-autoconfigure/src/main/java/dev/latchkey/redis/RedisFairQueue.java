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

package dev.latchkey.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.QueueingLockRepository.QueuedGrant;

/**
 * The fair waiters of one Redis repository. Each joins its key's queue
 * ({@code {ns:k}:queue}, ordered by a counter, and {@code {ns:k}:queued}, each place's
 * deadline) with one script, which grants the key at once when it is free and nobody is
 * queued. A release serves the first live place alone: when the key is free and the place
 * names an owner record, the release grants it the key and tells its instance, with a
 * message naming the waiter, the fencing token and the record, so that the waiter goes on
 * without a request of its own; otherwise the message wakes the waiter, whose attempt is
 * granted when the key is free and its place is first. A waiter further back waits for
 * its turn. A grant's time is when the waiter's last attempt was sent, which is never
 * later than the grant: the attempt that was granted, or, for a grant made by a release,
 * the attempt that last renewed the place.
 * <p>
 * A grant whose message is lost is answered to the waiter's next attempt (its poll), and
 * a withdrawal that finds its waiter granted the key instead answers the grant, so that
 * the caller gives it back or uses it: no grant is left held with nobody to release it.
 * <p>
 * A place lives for its lease's TTL from its waiter's last attempt, and each waiter
 * attempts again a third of that TTL after its last one (at most a second after it, when
 * first, so that a lost wake costs at most a second): a place whose process died, or
 * stopped past the TTL, is skipped once its deadline passes, and the waiter of a place
 * that was skipped finds it gone at its next attempt and joins again, at the back.
 */
final class RedisFairQueue implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(RedisFairQueue.class);

	// The longest a waiter first in its queue goes without an attempt of its own, in
	// case its wake was lost (a dropped subscription).
	private static final long FIRST_POLL_MILLIS = 1_000;

	private static final long MIN_POLL_MILLIS = 10;

	private final Attempts attempts;

	private final ThreadFactory threadFactory;

	private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();

	private final ReentrantLock lifecycleLock = new ReentrantLock();

	private @Nullable ScheduledExecutorService scheduler;

	private volatile boolean closed;

	RedisFairQueue(Attempts attempts, ThreadFactory threadFactory) {
		this.attempts = attempts;
		this.threadFactory = threadFactory;
	}

	/**
	 * Joins the lease's queue, or is granted the key at once. Returns once Redis holds
	 * the place. A failure of that first request is thrown, as an unfair attempt's would
	 * be.
	 */
	CompletableFuture<QueuedGrant> join(LeaseSpec lease) {
		// Subscribed first, so that no wake published after the join is missed.
		this.attempts.listen();
		ScheduledExecutorService scheduler = scheduler();
		Waiter waiter = new Waiter(lease, scheduler);
		Waiter earlier = this.waiters.put(lease.token(), waiter);
		if (earlier != null) {
			earlier.fail(lost(lease, "it joined again"));
		}
		waiter.lock.lock();
		try {
			Answer answer;
			try {
				answer = send(waiter, Mode.JOIN);
			}
			catch (RuntimeException ex) {
				this.waiters.remove(lease.token(), waiter);
				throw ex;
			}
			handle(waiter, answer);
		}
		finally {
			waiter.lock.unlock();
		}
		return waiter.grant;
	}

	/**
	 * Withdraws a queued waiter.
	 * @return whether its place was withdrawn before it was granted the key
	 */
	boolean cancel(LeaseSpec lease) {
		Waiter waiter = this.waiters.remove(lease.token());
		if (waiter == null) {
			return false;
		}
		waiter.lock.lock();
		try {
			waiter.stopPolling();
			if (waiter.grant.isDone()) {
				return false;
			}
			Answer withdrawal;
			try {
				withdrawal = this.attempts.withdraw(lease);
			}
			catch (RuntimeException ex) {
				waiter.fail(ex);
				throw ex;
			}
			if (withdrawal.fencingToken() != null) {
				// A release granted the key as the waiter gave up: the caller gives it
				// back (or uses it), as it does a grant that crossed its withdrawal.
				granted(waiter, withdrawal.fencingToken(), withdrawal.record());
				return false;
			}
			if (withdrawal.position() != null) {
				waiter.grant.cancel(false);
				return true;
			}
			waiter.fail(lost(lease, "its deadline passed"));
			return false;
		}
		finally {
			waiter.lock.unlock();
		}
	}

	/**
	 * Hands a release's wake to the waiter it names, if it waits here.
	 */
	void wake(String token) {
		Waiter waiter = this.waiters.get(token);
		if (waiter != null) {
			// On the thread that delivers the message: a hand-off to the scheduler's
			// thread first made each fair hand-off slower by a thread switch.
			attempt(waiter);
		}
	}

	/**
	 * Hands a release's grant to the waiter it names, if it waits here: the waiter holds
	 * the key from now on, naming the given owner record. A grant that reaches no waiter
	 * of this repository (it withdrew, or its message came twice) is left to the
	 * withdrawal, which answers it, or to the waiter's next attempt.
	 */
	void granted(String token, long fencingToken, String record) {
		Waiter waiter = this.waiters.get(token);
		if (waiter == null) {
			return;
		}
		waiter.lock.lock();
		try {
			if (waiter.grant.isDone() || this.waiters.get(token) != waiter) {
				return;
			}
			this.waiters.remove(token, waiter);
			waiter.stopPolling();
			granted(waiter, fencingToken, record);
		}
		catch (RuntimeException ex) {
			waiter.fail(ex);
		}
		finally {
			waiter.lock.unlock();
		}
	}

	/**
	 * Completes a waiter that a release granted the key, at the time of the waiter's last
	 * attempt (the grant was made after it).
	 * @param record the owner record the grant names, or {@code null} for none
	 */
	private void granted(Waiter waiter, long fencingToken, @Nullable String record) {
		if (record == null || this.attempts.granted(waiter.lease, record)) {
			waiter.grant.complete(new QueuedGrant(fencingToken, waiter.lastSent));
		}
		else {
			// The record the grant names is no longer this repository's: the lease ended
			// with it. The caller joins again.
			waiter.fail(lost(waiter.lease, "the owner record its grant named was gone"));
		}
	}

	/**
	 * An attempt of a queued waiter, woken or at its poll.
	 */
	private void attempt(Waiter waiter) {
		waiter.lock.lock();
		try {
			if (waiter.grant.isDone() || this.waiters.get(waiter.lease.token()) != waiter) {
				return;
			}
			handle(waiter, send(waiter, Mode.POLL));
		}
		catch (RuntimeException ex) {
			// The caller joins again (keeping its place, if Redis still holds it).
			this.waiters.remove(waiter.lease.token(), waiter);
			waiter.fail(ex);
		}
		finally {
			waiter.lock.unlock();
		}
	}

	/**
	 * Sends a waiter's attempt, noting when (under the waiter's lock).
	 */
	private Answer send(Waiter waiter, Mode mode) {
		waiter.lastSent = System.nanoTime();
		return this.attempts.attempt(waiter.lease, mode);
	}

	private void handle(Waiter waiter, Answer answer) {
		LeaseSpec lease = waiter.lease;
		if (answer.fencingToken() != null) {
			this.waiters.remove(lease.token(), waiter);
			waiter.grant.complete(new QueuedGrant(answer.fencingToken(), waiter.lastSent));
		}
		else if (answer.position() != null) {
			long third = Math.max(MIN_POLL_MILLIS, lease.ttl().toMillis() / 3);
			waiter.schedule((answer.position() == 0) ? Math.min(third, FIRST_POLL_MILLIS) : third);
		}
		else {
			this.waiters.remove(lease.token(), waiter);
			waiter.fail(lost(lease, "its deadline passed"));
		}
	}

	private LockBackendException lost(LeaseSpec lease, String why) {
		return new LockBackendException("redis", lease.key(),
				"The place of a fair waiter in the queue of the lock at the Redis backend was lost (" + why + ")",
				null);
	}

	private ScheduledExecutorService scheduler() {
		this.lifecycleLock.lock();
		try {
			if (this.closed) {
				throw new LockBackendException("redis", "Redis lock repository is closed", null);
			}
			if (this.scheduler == null) {
				ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, this.threadFactory);
				scheduler.setRemoveOnCancelPolicy(true);
				this.scheduler = scheduler;
			}
			return this.scheduler;
		}
		finally {
			this.lifecycleLock.unlock();
		}
	}

	/**
	 * Withdraws every waiter's place (so that the waiters behind them need not wait for
	 * their deadlines) and fails their grants; stops the polls.
	 */
	@Override
	public void close() {
		ScheduledExecutorService scheduler;
		this.lifecycleLock.lock();
		try {
			this.closed = true;
			scheduler = this.scheduler;
			this.scheduler = null;
		}
		finally {
			this.lifecycleLock.unlock();
		}
		for (Waiter waiter : new ArrayList<>(this.waiters.values())) {
			try {
				cancel(waiter.lease);
			}
			catch (RuntimeException ex) {
				logger.debug(ex, "Could not withdraw a fair waiter's place as the repository closed");
			}
			waiter.fail(new LockBackendException("redis", "Redis lock repository is closed", null));
		}
		if (scheduler != null) {
			scheduler.shutdownNow();
		}
	}

	/**
	 * How a fair attempt treats the waiter's place.
	 */
	enum Mode {

		/**
		 * Puts the place at the back of the queue unless it is there already, renews it
		 * and tries.
		 */
		JOIN("join"),

		/**
		 * Renews the place and tries; answers nothing when the place is gone.
		 */
		POLL("poll"),

		/**
		 * A single fair attempt: granted only when the key is free and nobody is queued.
		 */
		ONCE("once");

		final String argument;

		Mode(String argument) {
			this.argument = argument;
		}

	}

	/**
	 * What a fair attempt answers: a fencing token when granted, the place's position in
	 * the queue (0 for first) when not, neither when the place is gone. What a withdrawal
	 * answers: a position when it withdrew the place, a fencing token and the owner
	 * record the lock names when a release had granted the waiter the key instead.
	 */
	record Answer(@Nullable Long fencingToken, @Nullable Long position, @Nullable String record) {

		static Answer parse(List<String> answer) {
			return switch (answer.get(0)) {
				case "g" -> new Answer(Long.valueOf(answer.get(1)), null,
						(answer.size() > 2 && !answer.get(2).isEmpty()) ? answer.get(2) : null);
				case "q" -> new Answer(null, (answer.size() > 1) ? Long.valueOf(answer.get(1)) : 0L, null);
				case "w" -> new Answer(null, 0L, null);
				default -> new Answer(null, null, null);
			};
		}

	}

	/**
	 * What the queue asks of its repository.
	 */
	interface Attempts {

		/**
		 * Starts the repository's subscription, unless it runs already.
		 */
		void listen();

		/**
		 * One fair attempt of the lease.
		 */
		Answer attempt(LeaseSpec lease, Mode mode);

		/**
		 * Deletes the lease's place.
		 * @return a position when the place was there, a fencing token when a release
		 * granted the lease the key instead, neither when the place was gone
		 */
		Answer withdraw(LeaseSpec lease);

		/**
		 * Tracks a lease that a release granted, naming the given owner record.
		 * @return whether the record is this repository's record of the lease's TTL class
		 * (else the lease ended with its record, and is not tracked)
		 */
		boolean granted(LeaseSpec lease, String record);

	}

	private final class Waiter {

		final LeaseSpec lease;

		final CompletableFuture<QueuedGrant> grant = new CompletableFuture<>();

		// Held for each attempt and withdrawal: an attempt in flight completes before a
		// withdrawal is sent, so a withdrawal that finds no place is never raced by a
		// grant.
		final ReentrantLock lock = new ReentrantLock();

		private final ScheduledExecutorService scheduler;

		private final AtomicReference<@Nullable ScheduledFuture<?>> next = new AtomicReference<>();

		// When the waiter's last attempt was sent (under the lock): the time of a grant
		// that a release makes.
		volatile long lastSent = System.nanoTime();

		Waiter(LeaseSpec lease, ScheduledExecutorService scheduler) {
			this.lease = lease;
			this.scheduler = scheduler;
		}

		void schedule(long delayMillis) {
			ScheduledFuture<?> next;
			try {
				next = this.scheduler.schedule(() -> attempt(this), delayMillis, TimeUnit.MILLISECONDS);
			}
			catch (RuntimeException ex) {
				// Shut down: the repository closed.
				return;
			}
			ScheduledFuture<?> previous = this.next.getAndSet(next);
			if (previous != null) {
				previous.cancel(false);
			}
		}

		void stopPolling() {
			ScheduledFuture<?> next = this.next.getAndSet(null);
			if (next != null) {
				next.cancel(false);
			}
		}

		void fail(Throwable cause) {
			stopPolling();
			this.grant.completeExceptionally(cause);
		}

	}

}
