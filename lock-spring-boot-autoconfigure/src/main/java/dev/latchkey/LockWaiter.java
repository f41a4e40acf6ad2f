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
import java.util.ArrayDeque;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiPredicate;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.util.Assert;

/**
 * Waits for a lock, the same way for every backend.
 * <p>
 * One attempt is made at once. If it fails and there is time to wait, the caller joins
 * the key's local wait line: a FIFO queue of this process's waiters for that key, woken
 * by the backend's release notification (one subscription per key, however many threads
 * wait) and by releases made in this process. Only the waiter at the head of the line
 * asks the backend, so a thousand threads waiting on one key cost the backend no more
 * than one. Once a line forms, a new caller that will wait joins its back without trying
 * first, so the callers of one process are served in order and none starves; a release
 * wakes the head only. Between notifications the head polls with exponential backoff and
 * jitter, the fallback for releases the backend cannot announce (an expired lease, a
 * backend without notifications).
 * <p>
 * A caller that listens for releases only after its first attempt was refused tries once
 * more as the head, in case the key was released in between. On a key that a waiting
 * caller of this process found held within the last second, a caller that will wait
 * listens before its first attempt instead, and when refused waits for the next release
 * with no second attempt: one request fewer per wait where each process has one caller of
 * the key.
 * <p>
 * Shared callers of a key wait in a line of their own, beside the key's other callers: a
 * waiting writer keeps new shared holders out (see {@link LockRepository}), so a shared
 * caller at the head of a common line would stand in the writer's way.
 * <p>
 * A backend that keeps its own queue ({@link QueueingLockRepository}) is asked to queue
 * the waiter instead, for the leases it queues ({@link QueueingLockRepository#queues}):
 * it grants the key to its first waiter itself, which saves the notification and the new
 * attempt. A fair lease ({@link LeaseSpec#fair()}) that will wait joins that queue at
 * once, without a first attempt that could pass the queue by.
 * <p>
 * While a caller granted from a line holds the key, the next head of that line asks
 * nothing at once, where the backend keeps this process in line for it
 * ({@link LockRepository#keepsWaitersInLine()}): the holder's release names it
 * ({@link #nextWaiter}), which records its writer wait and its place in the backend's
 * line, as a refused attempt would have, and the release (or the next poll) wakes it.
 *
 * <pre class="code">
 * LockWaiter waiter = new LockWaiter(Duration.ofMillis(50), Duration.ofSeconds(1));
 * LockWaiter.Grant grant = waiter.acquire(repository, lease, repository::tryAcquire, Duration.ofSeconds(5));
 * </pre>
 */
final class LockWaiter {

	private static final LogAccessor logger = new LogAccessor(LockWaiter.class);

	/**
	 * How long a grant the backend says it made as its queued request was withdrawn may
	 * take to arrive: it comes with the answer, so this is a bound for a backend that
	 * lost it, never a wait in normal operation.
	 */
	private static final long GRANT_IN_FLIGHT_NANOS = TimeUnit.SECONDS.toNanos(5);

	/**
	 * How long a key counts as contended after a waiting caller of this process found it
	 * held: while it does, a new caller listens for releases before its first attempt.
	 */
	private static final long CONTENDED_NANOS = TimeUnit.SECONDS.toNanos(1);

	/**
	 * The most keys remembered as contended; beyond it, all are forgotten at once.
	 */
	private static final int MAX_CONTENDED_KEYS = 10_000;

	/**
	 * A line version no attempt was made at: the waiter attempts as soon as it is the
	 * head.
	 */
	private static final long NOT_TRIED = -1;

	private final long initialPollNanos;

	private final long maxPollNanos;

	// One line per key and side: shared callers wait apart from the others, so that a
	// writer's recorded wait, which keeps shared callers out, never waits behind them.
	private final Map<LineKey, WaitLine> lines = new ConcurrentHashMap<>();

	// Callers waiting per key, in a wait line or in the backend's queue; only keys with
	// waiters have an entry.
	private final Map<String, Integer> waiting = new ConcurrentHashMap<>();

	// When a waiting caller's first attempt last found a key held (System.nanoTime()).
	private final Map<String, Long> refusedAt = new ConcurrentHashMap<>();

	LockWaiter(Duration initialPollInterval, Duration maxPollInterval) {
		Assert.isTrue(initialPollInterval.toNanos() > 0, "Initial poll interval must be positive");
		Assert.isTrue(maxPollInterval.compareTo(initialPollInterval) >= 0,
				"Maximum poll interval must not be shorter than the initial poll interval");
		this.initialPollNanos = initialPollInterval.toNanos();
		this.maxPollNanos = maxPollInterval.toNanos();
	}

	/**
	 * Acquires a lease, waiting up to {@code waitTime}.
	 * @param repository the backend, for release notifications
	 * @param lease the lease to acquire
	 * @param attempt one attempt at the backend, for example
	 * {@code repository::tryAcquire}
	 * @param waitTime how long to wait; zero makes a single attempt
	 * @return the grant, or {@code null} when the key stayed held for the whole wait time
	 * @throws InterruptedException if the thread was interrupted while waiting
	 */
	@Nullable Grant acquire(LockRepository repository, LeaseSpec lease, Function<LeaseSpec, OptionalLong> attempt,
			Duration waitTime) throws InterruptedException {
		return acquire(repository, lease, "'" + lease.key() + "'", attempt, waitTime, lease.ttl());
	}

	/**
	 * Acquires a lease, waiting up to {@code waitTime}, and refuses a queued grant that
	 * reaches this process too late to be used: one whose validity ran out before it was
	 * read (the process was paused while the grant was in flight). Such a grant is given
	 * back and the wait goes on.
	 * @param repository the backend, for release notifications
	 * @param lease the lease to acquire
	 * @param lock the lock as the log names it, quotes included: its name, and its key
	 * only when {@code latchkey.show-keys-in-messages} is on
	 * @param attempt one attempt at the backend, for example
	 * {@code repository::tryAcquire}
	 * @param waitTime how long to wait; zero makes a single attempt
	 * @param validity how long after the backend grants it this process may trust a lease
	 * without renewing it (the TTL less the safety margin)
	 * @return the grant, or {@code null} when the key stayed held for the whole wait time
	 * @throws InterruptedException if the thread was interrupted while waiting
	 */
	@Nullable Grant acquire(LockRepository repository, LeaseSpec lease, String lock, Function<LeaseSpec, OptionalLong> attempt,
			Duration waitTime, Duration validity) throws InterruptedException {
		long start = System.nanoTime();
		boolean waits = !waitTime.isZero() && !waitTime.isNegative();
		QueueingLockRepository queueing = (repository instanceof QueueingLockRepository q && q.queues(lease)) ? q
				: null;
		// A fair caller that will wait joins the backend's queue at once, which grants a
		// free key with nobody queued at once too: an attempt first could pass the queue
		// by.
		boolean joinsAtOnce = waits && queueing != null && lease.fair();
		// On a key found contended lately, a caller that will wait listens for releases
		// before its first attempt: refused, it then waits for the next release at once,
		// where a caller that listens only after its attempt must try again first, in
		// case the key was released in between (one more request per wait).
		WaitLine listening = null;
		long tried = NOT_TRIED;
		if (!joinsAtOnce && (!waits || !othersWait(lease))) {
			if (waits && queueing == null && contended(lease.key(), start)) {
				listening = join(repository, LineKey.of(lease), lock);
				tried = listening.version();
			}
			OptionalLong granted = attemptListening(attempt, lease, listening);
			if (granted.isPresent()) {
				return new Grant(granted.getAsLong(), start);
			}
			if (!waits) {
				return null;
			}
			if (queueing == null) {
				refused(lease.key());
			}
		}
		long deadline = start + waitTime.toNanos();
		this.waiting.merge(lease.key(), 1, Integer::sum);
		try {
			if (queueing != null) {
				return waitQueued(queueing, lease, lock, deadline, validity.toNanos());
			}
			return joinLineAndWait(repository, listening, tried, lease, lock, attempt, deadline,
					repository.keepsWaitersInLine() && lease.mode() == LeaseMode.EXCLUSIVE);
		}
		finally {
			this.waiting.computeIfPresent(lease.key(), (key, count) -> (count > 1) ? count - 1 : null);
		}
	}

	/**
	 * Whether other callers of this process already wait for the lease's key. A new
	 * caller that will wait then joins the back of the line without trying first. Trying
	 * first (barging) would save a hand-off, but a caller that releases the key and asks
	 * again at once wins every race against the head it just woke, and the line starves
	 * (in a measurement, two thirds of a thousand threads never got the key in ten
	 * seconds). So the callers of one process are served in order once any of them waits;
	 * a caller that does not wait still tries at once.
	 */
	private boolean othersWait(LeaseSpec lease) {
		if (this.lines.isEmpty()) {
			return false;
		}
		WaitLine line = this.lines.get(LineKey.of(lease));
		return line != null && line.tickets > 0;
	}

	/**
	 * A first attempt, made while listening on {@code listening} when it is not
	 * {@code null}: the line is left when the attempt is granted or fails.
	 */
	private OptionalLong attemptListening(Function<LeaseSpec, OptionalLong> attempt, LeaseSpec lease,
			@Nullable WaitLine listening) {
		if (listening == null) {
			return attempt.apply(lease);
		}
		OptionalLong granted;
		try {
			granted = attempt.apply(lease);
		}
		catch (RuntimeException | Error ex) {
			leave(listening);
			throw ex;
		}
		if (granted.isPresent()) {
			leave(listening);
		}
		return granted;
	}

	/**
	 * Whether a waiting caller of this process found the key held lately.
	 */
	private boolean contended(String key, long now) {
		Long refused = this.refusedAt.get(key);
		return refused != null && now - refused < CONTENDED_NANOS;
	}

	/**
	 * Remembers that a waiting caller's first attempt found the key held.
	 */
	private void refused(String key) {
		if (this.refusedAt.size() >= MAX_CONTENDED_KEYS && !this.refusedAt.containsKey(key)) {
			this.refusedAt.clear();
		}
		this.refusedAt.put(key, System.nanoTime());
	}

	/**
	 * Joins the key's line (unless the caller joined it already to listen before its
	 * first attempt) and waits there.
	 * @param joined the line the caller listened on during its first attempt, or
	 * {@code null}
	 * @param tried the line's version when that attempt was made, or {@link #NOT_TRIED}
	 * @param keptInLine whether the release of a lease granted from this line keeps this
	 * process in line for the next head, which then waits for it without asking
	 */
	private @Nullable Grant joinLineAndWait(LockRepository repository, @Nullable WaitLine joined, long tried,
			LeaseSpec lease, String lock, Function<LeaseSpec, OptionalLong> attempt, long deadline, boolean keptInLine)
			throws InterruptedException {
		WaitLine line = (joined != null) ? joined : join(repository, LineKey.of(lease), lock);
		// Each waiter waits on a condition of its own, so that a release or a turn wakes
		// only the head of the line, never every waiter.
		Ticket ticket = new Ticket(line.lock.newCondition(), lease);
		boolean first;
		line.lock.lock();
		try {
			first = line.queue.isEmpty();
			line.queue.addLast(ticket);
			line.tickets = line.queue.size();
		}
		finally {
			line.lock.unlock();
		}
		Grant grant = null;
		Grant handedBack = null;
		try {
			// A caller that was not the head when it joined attempts when its turn comes,
			// whatever it tried before.
			grant = waitInLine(line, ticket, attempt, deadline, first ? tried : NOT_TRIED, keptInLine);
			return grant;
		}
		finally {
			line.lock.lock();
			try {
				line.queue.remove(ticket);
				line.tickets = line.queue.size();
				// Handed the key as it gave up (interrupted, say): it gives it back.
				handedBack = (grant == null) ? ticket.handed : null;
				if (grant != null && keptInLine) {
					line.heldHere = lease.token();
				}
				Ticket head = line.queue.peekFirst();
				if (head != null) {
					head.turn().signal();
				}
			}
			finally {
				line.lock.unlock();
			}
			leave(line);
			if (handedBack != null) {
				giveBack(repository, lease);
			}
		}
	}

	/**
	 * Waits in the backend's own queue: the backend grants the key to its first waiter
	 * when it frees. A grant that arrives as the wait ends is kept; a queue lost with the
	 * backend is joined again. A grant's validity runs from when the backend made it: one
	 * that is already stale when it is read is given back, never used.
	 */
	private static @Nullable Grant waitQueued(QueueingLockRepository repository, LeaseSpec lease, String lock,
			long deadline, long validityNanos) throws InterruptedException {
		while (true) {
			CompletableFuture<QueueingLockRepository.QueuedGrant> granted = repository.acquireQueued(lease);
			QueueingLockRepository.QueuedGrant grant;
			try {
				grant = granted.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
			}
			catch (TimeoutException ex) {
				if (repository.cancelQueued(lease)) {
					return null;
				}
				grant = grantedMeanwhile(repository, lease, lock, granted);
			}
			catch (InterruptedException ex) {
				if (!repository.cancelQueued(lease) && grantedMeanwhile(repository, lease, lock, granted) != null) {
					repository.release(lease);
				}
				throw ex;
			}
			catch (ExecutionException ex) {
				if (ex.getCause() instanceof LockPermitsConflictException conflict) {
					// The caller's error (its limit differs from the holders'), not a
					// lost
					// queue to join again.
					throw conflict;
				}
				if (deadline - System.nanoTime() <= 0) {
					return null;
				}
				continue;
			}
			if (grant == null) {
				return null;
			}
			if (System.nanoTime() - (grant.grantedAtNanos() + validityNanos) < 0) {
				return new Grant(grant.fencingToken(), grant.grantedAtNanos());
			}
			long stale = grant.fencingToken();
			logger.warn(() -> "A grant of lock " + lock + " (fencing token " + stale
					+ ") reached this process after its validity ran out (was the process paused?); giving it back");
			repository.release(lease);
			if (deadline - System.nanoTime() <= 0) {
				return null;
			}
		}
	}

	/**
	 * The grant of a request the backend could not withdraw because it had just granted
	 * it: its grant arrives with, or right after, the answer to the withdrawal. Waited
	 * for a bounded time only, so that a grant the backend never delivers shows in the
	 * log rather than hanging the caller; one that comes later still is given back.
	 */
	private static QueueingLockRepository.@Nullable QueuedGrant grantedMeanwhile(QueueingLockRepository repository,
			LeaseSpec lease, String lock, CompletableFuture<QueueingLockRepository.QueuedGrant> granted) {
		try {
			return granted.get(GRANT_IN_FLIGHT_NANOS, TimeUnit.NANOSECONDS);
		}
		catch (ExecutionException | CancellationException ex) {
			return null;
		}
		catch (TimeoutException ex) {
			logger.warn(() -> "The " + repository.backend() + " backend could not withdraw the queued request for lock "
					+ lock + ", as it had granted it, but the grant did not arrive within "
					+ TimeUnit.NANOSECONDS.toSeconds(GRANT_IN_FLIGHT_NANOS) + " s; giving it back when it does");
			granted.thenRun(() -> releaseQuietly(repository, lease));
			return null;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			granted.thenRun(() -> releaseQuietly(repository, lease));
			return null;
		}
	}

	private static void releaseQuietly(LockRepository repository, LeaseSpec lease) {
		try {
			repository.release(lease);
		}
		catch (RuntimeException ex) {
			logger.debug(ex, () -> "Giving back a late grant of '" + lease.key() + "' failed; it expires");
		}
	}

	/**
	 * Gives back a grant handed to a caller of this process ({@link #handedOver}) that
	 * does not take it, best effort, and wakes the key's line where the backend does not
	 * wake this process's waiters of its own releases.
	 * @param repository the backend
	 * @param lease the lease of the grant
	 * @return whether it was held, and is now released
	 */
	boolean giveBack(LockRepository repository, LeaseSpec lease) {
		boolean released;
		try {
			released = repository.release(lease);
		}
		catch (RuntimeException ex) {
			logger.debug(ex, () -> "Giving back a grant of '" + lease.key() + "' failed; it expires at the backend");
			return false;
		}
		if (released && !repository.wakesWaitersOfItsOwnReleases()) {
			released(lease.key());
		}
		return released;
	}

	/**
	 * Waits for the caller's turn at the head of the line, attempts, and waits for a
	 * release (or the next poll) before attempting again.
	 * @param tried the line's version when the caller's last attempt was made, if it
	 * waits for a change of it before its first attempt here; {@link #NOT_TRIED} to
	 * attempt as soon as it is the head
	 * @param keptInLine whether the caller, on becoming the head while a caller granted
	 * from this line holds the key, waits for a change before its first attempt
	 */
	private @Nullable Grant waitInLine(WaitLine line, Ticket ticket, Function<LeaseSpec, OptionalLong> attempt,
			long deadline, long tried, boolean keptInLine) throws InterruptedException {
		long poll = this.initialPollNanos;
		long version = tried;
		boolean mayWaitFirst = keptInLine;
		while (true) {
			if (version == NOT_TRIED) {
				boolean asks;
				line.lock.lockInterruptibly();
				try {
					// While the holder hands the key to this caller, an attempt would
					// only be refused.
					while (line.queue.peekFirst() != ticket || ticket.handing) {
						long remaining = deadline - System.nanoTime();
						if (remaining <= 0) {
							return null;
						}
						ticket.turn().awaitNanos(remaining);
					}
					if (ticket.handed != null) {
						return ticket.handed;
					}
					// Read before the attempt, so a release between the attempt and the
					// wait is not missed.
					version = line.version;
					// Held by a caller granted from this line: its release keeps this
					// process in line for this caller, and wakes it, or another
					// instance's release does. Asking now would be refused. So too
					// when the holder set this caller aside for a hand-over it did not
					// make: it releases the key instead, which is a change since then.
					asks = (!mayWaitFirst || line.heldHere == null) && ticket.setAsideAt == NOT_TRIED;
					if (ticket.setAsideAt != NOT_TRIED) {
						version = ticket.setAsideAt;
						ticket.setAsideAt = NOT_TRIED;
					}
					// Not set aside while it asks: the holder releases instead.
					ticket.asking = asks;
				}
				finally {
					line.lock.unlock();
				}
				if (asks) {
					long requestedAt = System.nanoTime();
					OptionalLong granted;
					try {
						granted = attempt.apply(ticket.lease());
					}
					finally {
						asked(line, ticket);
					}
					if (granted.isPresent()) {
						return new Grant(granted.getAsLong(), requestedAt);
					}
				}
				mayWaitFirst = false;
			}
			long remaining = deadline - System.nanoTime();
			if (remaining <= 0) {
				return null;
			}
			long sleep = Math.min(remaining, jitter(poll));
			boolean woken = awaitChange(line, ticket, version, sleep);
			poll = woken ? this.initialPollNanos : Math.min(poll * 2, this.maxPollNanos);
			version = NOT_TRIED;
		}
	}

	private static void asked(WaitLine line, Ticket ticket) {
		line.lock.lock();
		try {
			ticket.asking = false;
		}
		finally {
			line.lock.unlock();
		}
	}

	private static boolean awaitChange(WaitLine line, Ticket ticket, long version, long nanos)
			throws InterruptedException {
		line.lock.lockInterruptibly();
		try {
			long left = nanos;
			while (line.version == version && !ticket.handing && ticket.handed == null && left > 0) {
				left = ticket.turn().awaitNanos(left);
			}
			return line.version != version;
		}
		finally {
			line.lock.unlock();
		}
	}

	private static long jitter(long poll) {
		// "Equal jitter": half fixed, half random, so waiters of several processes spread
		// out.
		long half = Math.max(1, poll / 2);
		return half + ThreadLocalRandom.current().nextLong(half + 1);
	}

	/**
	 * Wakes this process's waiters of a key, after a release made here.
	 * @param key the released key
	 */
	void released(String key) {
		if (this.lines.isEmpty()) {
			return;
		}
		signal(new LineKey(key, false));
		signal(new LineKey(key, true));
	}

	private void signal(LineKey lineKey) {
		WaitLine line = this.lines.get(lineKey);
		if (line != null) {
			line.signal();
		}
	}

	/**
	 * The next caller of this process that waits for an exclusive lease's key, for its
	 * release to keep this process in line for it
	 * ({@link LockRepository#release(LeaseSpec, LeaseSpec)}).
	 * @param lease the exclusive lease about to be released
	 * @return the lease of the first exclusive waiter of the key's line, or {@code null}
	 * when none waits
	 */
	@Nullable LeaseSpec nextWaiter(LeaseSpec lease) {
		if (lease.mode() != LeaseMode.EXCLUSIVE) {
			return null;
		}
		LeaseSpec head = head(LineKey.of(lease));
		return (head != null && head.mode() == LeaseMode.EXCLUSIVE) ? head : null;
	}

	/**
	 * Whether a caller that {@link #nextWaiter} named still waits. Callers join the back
	 * of a line only, so nobody gets ahead of a head: it still waits exactly while it is
	 * the head.
	 * @param waiter the lease {@link #nextWaiter} answered
	 * @return whether its caller is still the head of its line
	 */
	boolean waits(LeaseSpec waiter) {
		return head(LineKey.of(waiter)) == waiter;
	}

	/**
	 * Sets aside the caller that {@link #nextWaiter} named for a hand-over
	 * ({@link LockRepository#handOver}): until {@link #handedOver} tells how it went, it
	 * waits without asking, even when woken, and then, not handed the key, waits for a
	 * release made since; it may still give up. A caller that is asking the backend at
	 * that moment is not set aside.
	 * @param waiter the lease {@link #nextWaiter} answered
	 * @return whether its caller still waits without asking, and is now set aside
	 */
	boolean handing(LeaseSpec waiter) {
		return atHead(waiter, (line, head) -> {
			if (head.asking) {
				return false;
			}
			head.handing = true;
			head.setAsideAt = line.version;
			return true;
		});
	}

	/**
	 * Ends the hand-over {@link #handing} began: gives the caller its grant, or, when the
	 * key was not handed over, lets it ask again.
	 * @param waiter the lease of the caller set aside
	 * @param grant its grant, or {@code null} when the key was not handed over
	 * @return whether the caller still waited: when it did not, a grant is the releaser's
	 * to give back
	 */
	boolean handedOver(LeaseSpec waiter, @Nullable Grant grant) {
		return atHead(waiter, (line, head) -> {
			head.handing = false;
			head.handed = grant;
			head.turn().signal();
			return true;
		});
	}

	/**
	 * Applies a change to the ticket of a waiter, under its line's lock, if it is still
	 * the head of its line.
	 * @return the change's answer, or {@code false} when the waiter is not the head
	 */
	private boolean atHead(LeaseSpec waiter, BiPredicate<WaitLine, Ticket> change) {
		WaitLine line = this.lines.isEmpty() ? null : this.lines.get(LineKey.of(waiter));
		if (line == null) {
			return false;
		}
		line.lock.lock();
		try {
			Ticket head = line.queue.peekFirst();
			return head != null && head.lease() == waiter && change.test(line, head);
		}
		finally {
			line.lock.unlock();
		}
	}

	private @Nullable LeaseSpec head(LineKey lineKey) {
		WaitLine line = this.lines.isEmpty() ? null : this.lines.get(lineKey);
		if (line == null) {
			return null;
		}
		line.lock.lock();
		try {
			Ticket head = line.queue.peekFirst();
			return (head != null) ? head.lease() : null;
		}
		finally {
			line.lock.unlock();
		}
	}

	/**
	 * Tells the key's line that a lease granted from it was given back (or is no longer
	 * held), whether or not its release woke this process: the line's next head asks at
	 * once again when its turn comes.
	 * @param lease the lease that ended
	 */
	void releasedHere(LeaseSpec lease) {
		if (this.lines.isEmpty()) {
			return;
		}
		WaitLine line = this.lines.get(LineKey.of(lease));
		if (line != null) {
			line.lock.lock();
			try {
				if (lease.token().equals(line.heldHere)) {
					line.heldHere = null;
				}
			}
			finally {
				line.lock.unlock();
			}
		}
	}

	/**
	 * The number of callers of this process waiting for a key now (after their first
	 * attempt failed), shown by the {@code locks} endpoint.
	 * @param key the key
	 * @return the number of waiters, 0 when none
	 */
	int waiting(String key) {
		Integer count = this.waiting.get(key);
		return (count != null) ? count : 0;
	}

	/**
	 * The number of wait lines of this process: one per key and side (shared or not) that
	 * has waiters.
	 * @return the number of wait lines
	 */
	int waitingKeys() {
		return this.lines.size();
	}

	private WaitLine join(LockRepository repository, LineKey lineKey, String lock) {
		WaitLine line = this.lines.compute(lineKey, (k, existing) -> {
			WaitLine joined = (existing != null) ? existing : new WaitLine(k);
			joined.users++;
			return joined;
		});
		try {
			line.subscribeOnce(repository);
		}
		catch (RuntimeException ex) {
			// Waiting still works without notifications: the head of the line polls.
			logger.warn(ex, () -> "Could not subscribe to releases of lock " + lock + "; waiting by polling");
		}
		return line;
	}

	private void leave(WaitLine line) {
		boolean[] last = new boolean[1];
		this.lines.computeIfPresent(line.lineKey, (k, existing) -> {
			if (existing != line) {
				return existing;
			}
			if (--existing.users == 0) {
				last[0] = true;
				return null;
			}
			return existing;
		});
		if (last[0]) {
			line.unsubscribe();
		}
	}

	/**
	 * A granted lease.
	 *
	 * @param fencingToken the fencing token of the grant
	 * @param requestedAtNanos when the lease's validity starts, on the
	 * {@link System#nanoTime()} clock: when the successful attempt was sent, or when the
	 * backend made a queued grant
	 */
	record Grant(long fencingToken, long requestedAtNanos) {
	}

	/**
	 * A waiter's place in a line: the condition its turn and the line's changes are
	 * signalled on, the lease it waits for, and a hand-over to it (guarded by the line's
	 * lock).
	 */
	private static final class Ticket {

		private final Condition turn;

		private final LeaseSpec lease;

		// Asking the backend for the key: not to be set aside for a hand-over.
		boolean asking;

		// Set aside for a hand-over in flight.
		boolean handing;

		// The line's version when it was last set aside for a hand-over, until it waits
		// for a change of it: NOT_TRIED when it was not.
		long setAsideAt = NOT_TRIED;

		// The grant the holder handed it.
		@Nullable Grant handed;

		Ticket(Condition turn, LeaseSpec lease) {
			this.turn = turn;
			this.lease = lease;
		}

		Condition turn() {
			return this.turn;
		}

		LeaseSpec lease() {
			return this.lease;
		}

	}

	private record LineKey(String key, boolean shared) {

		/**
		 * The line a lease's caller waits in: shared callers apart from the others.
		 */
		static LineKey of(LeaseSpec lease) {
			return new LineKey(lease.key(), lease.mode() == LeaseMode.SHARED);
		}

	}

	private static final class WaitLine {

		final ReentrantLock lock = new ReentrantLock();

		// The waiters, in order; the first is the head.
		final ArrayDeque<Ticket> queue = new ArrayDeque<>();

		// Guarded by the lines map's compute.
		int users;

		// Guarded by lock.
		long version;

		// The token of a lease granted from this line and not yet given back, whose
		// release keeps this process in line for the next head; guarded by lock.
		@Nullable String heldHere;

		// The queue's size, written under the lock, read without it by new callers.
		volatile int tickets;

		final LineKey lineKey;

		private @Nullable ReleaseSubscription subscription;

		private boolean unsubscribed;

		WaitLine(LineKey lineKey) {
			this.lineKey = lineKey;
		}

		long version() {
			this.lock.lock();
			try {
				return this.version;
			}
			finally {
				this.lock.unlock();
			}
		}

		void signal() {
			this.lock.lock();
			try {
				this.version++;
				this.heldHere = null;
				Ticket head = this.queue.peekFirst();
				if (head != null) {
					head.turn().signal();
				}
			}
			finally {
				this.lock.unlock();
			}
		}

		synchronized void subscribeOnce(LockRepository repository) {
			if (this.subscription == null && !this.unsubscribed) {
				this.subscription = repository.subscribe(this.lineKey.key(), this::signal);
			}
		}

		synchronized void unsubscribe() {
			this.unsubscribed = true;
			if (this.subscription != null) {
				this.subscription.close();
			}
		}

	}

}
