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
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

/**
 * A lease granted to this process: its local validity, its state and the actions to run
 * if it is lost. What the user sees of it is {@link Lease}; its release, renewals and
 * loss go through its template's {@link LeaseLifecycle}.
 */
final class DefaultLease implements Lease, LeaseKeeper.KeptLease {

	private enum State {

		HELD, RELEASED, LOST

	}

	private final LeaseLifecycle lifecycle;

	private final LeaseSpec spec;

	private final String name;

	private final long fencingToken;

	private final long acquiredAtNanos;

	private final Duration renewInterval;

	private final long validityNanos;

	private final @Nullable Duration maxHold;

	private volatile long validUntilNanos;

	private volatile State state = State.HELD;

	private volatile @Nullable LockLostException lostException;

	// What to run when the lease is lost: null, one Consumer (the common case: the lost
	// policy's), or, for several, a List of them. One field rather than two, as every
	// held lease has it.
	private @Nullable Object lostActions;

	// Written by the keeper's renewals only. An int: a renewal every second would take
	// 68 years to overflow it.
	private volatile int renewals;

	private volatile LockObserver.@Nullable Hold hold;

	DefaultLease(LeaseLifecycle lifecycle, LeaseSpec spec, String name, long fencingToken, long acquiredAtNanos,
			Duration renewInterval, Duration safetyMargin, @Nullable Duration maxHold) {
		this.lifecycle = lifecycle;
		this.spec = spec;
		this.name = name;
		this.fencingToken = fencingToken;
		this.acquiredAtNanos = acquiredAtNanos;
		this.renewInterval = renewInterval;
		this.validityNanos = spec.ttl().minus(safetyMargin).toNanos();
		this.validUntilNanos = acquiredAtNanos + this.validityNanos;
		this.maxHold = maxHold;
	}

	@Override
	public String key() {
		return this.spec.key();
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public LeaseMode mode() {
		return this.spec.mode();
	}

	@Override
	public String owner() {
		return this.spec.owner();
	}

	@Override
	public long fencingToken() {
		return this.fencingToken;
	}

	@Override
	public Duration ttl() {
		return this.spec.ttl();
	}

	@Override
	public int permits() {
		return this.spec.permits();
	}

	@Override
	public long renewals() {
		return this.renewals;
	}

	@Override
	public Duration remainingTtl() {
		// The backend's deadline is the local one plus the safety margin: last renewal
		// request + TTL.
		long remaining = this.validUntilNanos - this.validityNanos + this.spec.ttl().toNanos() - System.nanoTime();
		return Duration.ofNanos(Math.max(0, remaining));
	}

	@Override
	public Duration heldFor() {
		return Duration.ofNanos(System.nanoTime() - this.acquiredAtNanos);
	}

	@Override
	public Optional<String> description() {
		return Optional.ofNullable(this.spec.description());
	}

	@Override
	public Optional<Duration> maxHold() {
		return Optional.ofNullable(this.maxHold);
	}

	private boolean pastMaxHold(long now) {
		return this.maxHold != null && now - this.acquiredAtNanos - this.maxHold.toNanos() >= 0;
	}

	/**
	 * Whether this is the lease of a key as the user wrote it, without the configured
	 * prefix.
	 */
	boolean hasKey(String writtenKey) {
		String prefix = this.lifecycle.keyPrefix();
		String key = key();
		return key.length() == prefix.length() + writtenKey.length() && key.startsWith(prefix)
				&& key.endsWith(writtenKey);
	}

	boolean belongsTo(LeaseLifecycle owner) {
		return this.lifecycle == owner;
	}

	/**
	 * Releases the lease, after the minimum hold time if one is left.
	 */
	void release(Duration minHold) {
		this.lifecycle.release(this, minHold);
	}

	@Override
	public long acquiredAtNanos() {
		return this.acquiredAtNanos;
	}

	@Override
	public boolean isValid() {
		return this.state == State.HELD && expiredReason(System.nanoTime()) == null;
	}

	boolean isLost() {
		return this.state == State.LOST;
	}

	boolean isHeld() {
		return this.state == State.HELD;
	}

	@Override
	public void assertValid() {
		State current = this.state;
		if (current == State.LOST) {
			throw lostException();
		}
		if (current == State.RELEASED) {
			throw new IllegalStateException("Lease on '" + key() + "' was released");
		}
		LossReason expired = expiredReason(System.nanoTime());
		if (expired != null) {
			throw new LockLostException(key(), this.name, this.lifecycle.describe(this), expired, null);
		}
	}

	/**
	 * Why this lease is over by the local clock, though nobody may have marked it lost
	 * yet: its maximum hold time passed, or its validity ran out without a renewal.
	 * @return the reason, or {@code null} while it is within both
	 */
	@Nullable LossReason expiredReason(long now) {
		if (pastMaxHold(now)) {
			return LossReason.MAX_HOLD_EXCEEDED;
		}
		return (now - this.validUntilNanos >= 0) ? LossReason.RENEWAL_FAILED : null;
	}

	LockLostException lostException() {
		LockLostException exception = this.lostException;
		return (exception != null) ? exception
				: new LockLostException(key(), this.name, this.lifecycle.describe(this), LossReason.NOT_OWNER, null);
	}

	// LeaseKeeper.KeptLease

	@Override
	public LeaseSpec spec() {
		return this.spec;
	}

	@Override
	public Duration renewInterval() {
		return this.renewInterval;
	}

	@Override
	public long validUntilNanos() {
		return this.validUntilNanos;
	}

	@Override
	public @Nullable Duration holdLimit() {
		return this.maxHold;
	}

	@Override
	public Duration safetyMargin() {
		return this.spec.ttl().minusNanos(this.validityNanos);
	}

	@Override
	public void renewed(long requestedAtNanos) {
		if (this.state == State.HELD) {
			this.validUntilNanos = requestedAtNanos + this.validityNanos;
			this.renewals++;
			this.lifecycle.renewed(this);
		}
	}

	@Override
	public void lost(LossReason reason, @Nullable Throwable cause) {
		if (markLost(reason, cause)) {
			this.lifecycle.lost(this, true);
		}
	}

	/**
	 * Loses this lease because another lease of the same lock of several keys was lost.
	 * @return whether this call lost it (it was not released or lost already)
	 */
	boolean lostWith(LockLostException other) {
		boolean lost;
		synchronized (this) {
			// A lease already released (the lock is being closed) stays released.
			lost = this.state == State.HELD && markLost(other.getReason(), other);
		}
		if (lost) {
			this.lifecycle.lostTogether(this);
		}
		return lost;
	}

	// State changes

	synchronized boolean markReleased() {
		if (this.state != State.HELD) {
			return false;
		}
		this.state = State.RELEASED;
		return true;
	}

	synchronized boolean markLost(LossReason reason, @Nullable Throwable cause) {
		if (this.state == State.LOST) {
			return false;
		}
		this.lostException = new LockLostException(key(), this.name, this.lifecycle.describe(this), reason, cause);
		this.state = State.LOST;
		return true;
	}

	/**
	 * Starts observing the hold. The keeper already renews the lease, so it may have been
	 * lost meanwhile: the observation then ends at once, so that it hears of the loss all
	 * the same.
	 */
	void observeHold(LockObserver.@Nullable Hold hold) {
		if (hold == null) {
			return;
		}
		LockLostException lost;
		synchronized (this) {
			if (this.state != State.LOST) {
				this.hold = hold;
				return;
			}
			lost = lostException();
		}
		LeaseLifecycle.observeSafely(() -> hold.lost(lost));
	}

	/**
	 * The observation of the hold, while it lasts.
	 */
	LockObserver.@Nullable Hold hold() {
		return this.hold;
	}

	/**
	 * Makes the observation of the hold current on this thread, while synchronous guarded
	 * work runs.
	 */
	LockObserver.Scope openHoldScope() {
		// A volatile read: no lock on the path of every synchronous call.
		LockObserver.Hold current = this.hold;
		if (current == null) {
			return LockObserver.Scope.NONE;
		}
		try {
			return current.openScope();
		}
		catch (RuntimeException ex) {
			// An observer must never break locking.
			return LockObserver.Scope.NONE;
		}
	}

	/**
	 * Takes the observation of the hold, once: the release and a loss may race to end it.
	 */
	synchronized LockObserver.@Nullable Hold takeHold() {
		LockObserver.Hold taken = this.hold;
		this.hold = null;
		return taken;
	}

	@SuppressWarnings("unchecked")
	void onLost(Consumer<LockLostException> action) {
		synchronized (this) {
			if (this.state != State.LOST) {
				Object actions = this.lostActions;
				if (actions == null) {
					this.lostActions = action;
				}
				else if (actions instanceof List<?> list) {
					((List<Consumer<LockLostException>>) list).add(action);
				}
				else {
					List<Consumer<LockLostException>> list = new ArrayList<>(2);
					list.add((Consumer<LockLostException>) actions);
					list.add(action);
					this.lostActions = list;
				}
				return;
			}
		}
		action.accept(lostException());
	}

	@SuppressWarnings("unchecked")
	List<Consumer<LockLostException>> takeLostActions() {
		synchronized (this) {
			Object actions = this.lostActions;
			this.lostActions = null;
			if (actions == null) {
				return List.of();
			}
			if (actions instanceof List<?> list) {
				return (List<Consumer<LockLostException>>) list;
			}
			return List.of((Consumer<LockLostException>) actions);
		}
	}

	@Override
	public String toString() {
		return "Lease[key=" + key() + ", mode=" + mode() + ", fencingToken=" + this.fencingToken + ", state="
				+ this.state + "]";
	}

}
