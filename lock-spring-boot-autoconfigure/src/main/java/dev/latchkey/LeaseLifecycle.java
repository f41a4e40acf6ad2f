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
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.springframework.core.log.LogAccessor;

/**
 * What happens to a granted lease until it ends: its release (after a minimum hold time,
 * if one is set), its renewals and its loss. Leases and handles talk to this rather than
 * to the {@link LockTemplate} that granted them; one per template.
 */
final class LeaseLifecycle {

	private static final LogAccessor logger = new LogAccessor(LeaseLifecycle.class);

	private final LockRepository repository;

	private final LockSettings settings;

	private final LeaseKeeper keeper;

	private final LockWaiter waiter;

	private final OrphanedLeaseReleaser releaser;

	private final AtomicLong lostLeases = new AtomicLong();

	LeaseLifecycle(LockRepository repository, LockSettings settings, LeaseKeeper keeper, LockWaiter waiter,
			OrphanedLeaseReleaser releaser) {
		this.repository = repository;
		this.settings = settings;
		this.keeper = keeper;
		this.waiter = waiter;
		this.releaser = releaser;
	}

	/**
	 * The prefix the template puts before every key.
	 */
	String keyPrefix() {
		return this.settings.keyPrefix();
	}

	/**
	 * The number of leases lost since this was made.
	 */
	long lostLeaseCount() {
		return this.lostLeases.get();
	}

	/**
	 * Releases a lease: stops renewing it and gives it back at the backend, at once or at
	 * the end of its minimum hold.
	 * <p>
	 * The calling thread's interrupt status is cleared while the backend is asked, and
	 * then restored: work stopped by an interrupt releases on an interrupted thread, from
	 * which some clients (Lettuce, jetcd's blocking calls) refuse to send, which would
	 * leave the key held until its TTL.
	 */
	void release(DefaultLease lease, Duration minHold) {
		this.keeper.forget(lease);
		if (!lease.isHeld()) {
			return;
		}
		LossReason expired = lease.expiredReason(System.nanoTime());
		if (expired != null) {
			// Past its validity or its maximum hold, and the keeper has not got to it
			// yet (its threads starved, say), but the work may well have: its
			// assertValid fails from the deadline on. Lost, not released, and reported
			// as such; given back all the same, on the releaser's thread.
			if (lease.markLost(expired, null)) {
				lost(lease, true);
			}
			return;
		}
		boolean interrupted = Thread.interrupted();
		try {
			long remaining = minHold.toNanos() - (System.nanoTime() - lease.acquiredAtNanos());
			if (remaining > 0 && holdUntil(lease, remaining)) {
				return;
			}
			releaseAtBackend(lease);
		}
		finally {
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private boolean holdUntil(DefaultLease lease, long remainingNanos) {
		Duration remaining = Duration.ofNanos(remainingNanos);
		Set<String> lost;
		try {
			// Shorten the lease so it ends soon after the minimum hold time even if this
			// process dies now, but not before the release scheduled below: a lease that
			// expired first could not be released, so neither the backend's notification
			// nor the LockReleasedEvent would follow.
			Duration grace = this.settings.safetyMarginFor(lease.ttl());
			lost = this.repository.renew(List.of(lease.spec().withTtl(remaining.plus(grace))));
		}
		catch (RuntimeException ex) {
			logger.warn(ex,
					() -> "Could not keep lock " + describe(lease) + " for its minimum hold time; releasing now");
			return false;
		}
		if (!lost.isEmpty()) {
			return false;
		}
		try {
			// Release at the end, so that waiters are told at once rather than finding
			// out by polling.
			this.keeper.schedule(() -> endMinimumHold(lease), remaining);
		}
		catch (RejectedExecutionException ex) {
			// The template is closed, so nothing runs later: release now.
			return false;
		}
		lease.markReleased();
		return true;
	}

	private void endMinimumHold(DefaultLease lease) {
		// The hold is over, whether the release found the lease or the backend had just
		// expired it. The release runs on the releaser's thread, not on this one, the
		// keeper's: it can take a request timeout when the backend does not answer, and
		// must delay neither the renewal of the leases still held nor the losses at
		// their deadlines. Only when the releaser does not take it (too many releases
		// pending, or closed) is it made here.
		if (!this.releaser.releaseAfterHold(lease.spec(), describe(lease), () -> releasedAtBackend(lease))) {
			releaseQuietly(lease);
			releasedAtBackend(lease);
		}
	}

	private void releaseAtBackend(DefaultLease lease) {
		boolean released;
		LeaseSpec spec = lease.spec();
		// The next waiter of this process, for whom the release keeps this process in the
		// key's line: it waits for this release without asking first.
		LeaseSpec waiter = this.repository.keepsWaitersInLine() ? this.waiter.nextWaiter(spec) : null;
		try {
			if (waiter != null && this.repository.handsOver(spec) && handOver(lease, waiter)) {
				return;
			}
			released = (waiter != null) ? this.repository.release(spec, waiter) : this.repository.release(spec);
		}
		catch (RuntimeException ex) {
			this.waiter.releasedHere(spec);
			lease.markReleased();
			logger.warn(ex, () -> "Releasing lock " + describe(lease) + " failed; it expires at the "
					+ this.repository.backend() + " backend within " + lease.ttl());
			LockObserver.Hold hold = lease.takeHold();
			if (hold != null) {
				observeSafely(() -> hold.released(ex));
			}
			return;
		}
		if (waiter != null && !this.waiter.waits(waiter)) {
			// It gave up as the release was made: what the release recorded for it goes
			// too, as its own withdrawal may have come first.
			stopWaiting(waiter);
		}
		if (released) {
			if (lease.markReleased()) {
				releasedAtBackend(lease);
			}
		}
		else if (lease.markLost(LossReason.EXPIRED_BEFORE_RELEASE, null)) {
			lost(lease, false);
		}
	}

	/**
	 * Gives the lease's key straight to the next waiter of this process, in one request,
	 * where the backend can ({@link LockRepository#handOver}): the waiter is set aside
	 * meanwhile, so that it does not ask for the key itself, and then given its grant.
	 * @return whether the key was handed over: the lease is released then; otherwise it
	 * is still to be released
	 */
	private boolean handOver(DefaultLease lease, LeaseSpec waiter) {
		if (!this.waiter.handing(waiter)) {
			return false;
		}
		long sentAt = System.nanoTime();
		OptionalLong handed;
		try {
			handed = this.repository.handOver(lease.spec(), waiter);
		}
		catch (RuntimeException ex) {
			this.waiter.handedOver(waiter, null);
			return handOverFailed(lease, waiter, ex);
		}
		if (handed.isEmpty()) {
			this.waiter.handedOver(waiter, null);
			return false;
		}
		if (!this.waiter.handedOver(waiter, new LockWaiter.Grant(handed.getAsLong(), sentAt))) {
			// It gave up as the key was handed to it: its grant goes back as a release.
			this.waiter.giveBack(this.repository, waiter);
		}
		handedAway(lease);
		return true;
	}

	/**
	 * After a hand-over that failed with no answer (a dropped connection, say), which the
	 * backend may or may not have made: the waiter's lease is given back, which frees the
	 * key if it was made, and the waiter then asks again at once; otherwise the lease is
	 * still to be released as usual. Either way the key is free again at once, rather
	 * than once a lease nobody renews has expired.
	 * @return whether the hand-over was made, and is undone
	 */
	private boolean handOverFailed(DefaultLease lease, LeaseSpec waiter, RuntimeException ex) {
		logger.debug(ex, () -> "Handing lock " + describe(lease) + " over failed with no answer; giving back the"
				+ " waiter's grant, in case it was made");
		if (!this.waiter.giveBack(this.repository, waiter)) {
			return false;
		}
		handedAway(lease);
		return true;
	}

	/**
	 * Ends a lease whose key was handed to a waiter: released, without waking the key's
	 * line, which the hand-over left held.
	 */
	private void handedAway(DefaultLease lease) {
		if (lease.markReleased()) {
			endedAtBackend(lease, false);
		}
	}

	/**
	 * Withdraws what the backend recorded for a caller that no longer waits (its writer
	 * wait, its instance's place in a wake line), best effort: what is left expires with
	 * the lease's time-to-live.
	 */
	void stopWaiting(LeaseSpec waiter) {
		try {
			this.repository.stopWaiting(waiter);
		}
		catch (RuntimeException ex) {
			logger.debug(ex, () -> "Could not withdraw the writer wait on '" + waiter.key()
					+ "'; it expires with its time-to-live");
		}
	}

	private boolean releaseQuietly(DefaultLease lease) {
		try {
			return this.repository.release(lease.spec());
		}
		catch (RuntimeException ex) {
			logger.debug(ex, () -> "Releasing lock '" + lease.key() + "' failed; it expires at the backend");
			return false;
		}
	}

	private void releasedAtBackend(DefaultLease lease) {
		endedAtBackend(lease, !this.repository.wakesWaitersOfItsOwnReleases());
	}

	/**
	 * Tells the key's line and the lease's observer that the lease ended at the backend.
	 * @param wake whether to wake the line's head: after a release that the backend does
	 * not tell this process of; not after a hand-over, which left the key held
	 */
	private void endedAtBackend(DefaultLease lease, boolean wake) {
		if (wake) {
			this.waiter.released(lease.key());
		}
		else {
			this.waiter.releasedHere(lease.spec());
		}
		LockObserver.Hold hold = lease.takeHold();
		if (hold != null) {
			observeSafely(() -> hold.released(null));
		}
	}

	/**
	 * Tells the observer of a lease that the keeper renewed it.
	 */
	void renewed(DefaultLease lease) {
		LockObserver.Hold hold = lease.hold();
		if (hold != null) {
			observeSafely(hold::renewed);
		}
	}

	/**
	 * Ends a lease that was lost: the observer hears of it, then the work is told, then
	 * the release is tried, on the releaser's thread.
	 * @param release whether to give the lease back at the backend, best effort
	 */
	void lost(DefaultLease lease, boolean release) {
		end(lease, release && lease.lostException().getReason() != LossReason.NOT_OWNER, false);
	}

	/**
	 * Ends a lease that is lost because another lease of the same lock of several keys
	 * was: it is still ours at the backend, so it is given back. Its loss is logged at
	 * DEBUG: the lock's is logged once, not once for each of its keys.
	 */
	void lostTogether(DefaultLease lease) {
		end(lease, true, true);
	}

	private void end(DefaultLease lease, boolean release, boolean together) {
		this.keeper.forget(lease);
		this.lostLeases.incrementAndGet();
		LockLostException exception = lease.lostException();
		if (together) {
			logger.debug(() -> "Lost lock " + describe(lease) + " (fencing token " + lease.fencingToken()
					+ ") with another key of the same lock");
		}
		else {
			logger.warn(exception, () -> "Lost lock " + describe(lease) + " (fencing token " + lease.fencingToken()
					+ ") after holding it for " + lease.heldFor());
		}
		// Observers and listeners hear of the loss, then the work is told, and only then
		// is the release tried: with the backend down, that attempt can take a whole
		// request timeout, which must not delay the news.
		LockObserver.Hold hold = lease.takeHold();
		if (hold != null) {
			observeSafely(() -> hold.lost(exception));
		}
		for (Consumer<LockLostException> action : lease.takeLostActions()) {
			try {
				action.accept(exception);
			}
			catch (Throwable ex) {
				logger.error(ex, () -> "Lost-lock action for lock " + describe(lease) + " failed");
			}
		}
		if (release) {
			// Not on this thread, the keeper's: the leases still held are renewed, and
			// other losses reported, while the release waits for the backend.
			this.releaser.releaseLost(lease.spec(), describe(lease));
		}
		this.waiter.released(lease.key());
	}

	/**
	 * How messages and logs name a lease's lock: its name in quotes, and its key only
	 * when {@code latchkey.show-keys-in-messages} is on.
	 */
	String describe(Lease lease) {
		return this.settings.describe(lease.name(), lease.key());
	}

	static void observeSafely(Runnable observation) {
		try {
			observation.run();
		}
		catch (Throwable ex) {
			// Like a listener, an observer must never break locking.
			logger.warn(ex, () -> "Lock observer failed");
		}
	}

}
