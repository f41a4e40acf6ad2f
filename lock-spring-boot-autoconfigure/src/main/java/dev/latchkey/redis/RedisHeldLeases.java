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

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

import dev.latchkey.LeaseSpec;
import dev.latchkey.support.ExpirySweep;

/**
 * The owner records of one repository and the exclusive leases that point to them, on a
 * Redis that is not a Cluster. An owner record is a key with the TTL of one TTL class;
 * each exclusive lock granted in that class names it, and is held for as long as it
 * exists. Renewing the record renews every lease of the class in one command, however
 * many there are.
 * <p>
 * A record is never made again once it is gone: a new one, with a new name, takes its
 * place, so that a lock whose record expired (its holder paused past the TTL, or the
 * server lost its data) can never come back to life for a holder that went on without it.
 * <p>
 * Each lease is tracked from before its acquisition is sent until it is released or lost,
 * with a local deadline after which the sweep deletes its lock: the record is kept alive
 * by the leases the core still renews, and must not keep alive a lock whose acquisition
 * went unanswered, or whose renewal the core stopped (a lease given up at its maximum
 * hold time, whose release failed).
 */
final class RedisHeldLeases implements AutoCloseable {

	private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

	private final String namespace;

	private final Map<Long, Owner> owners = new ConcurrentHashMap<>();

	private final Map<String, Held> held = new ConcurrentHashMap<>();

	// Tokens of tracked leases that a force-release evicted: their next renewal reports
	// them lost. Apart from Held, as it is rarely anything but empty.
	private final Set<String> revoked = ConcurrentHashMap.newKeySet();

	private final long originNanos = System.nanoTime();

	private final ReentrantLock ownerLock = new ReentrantLock();

	private final Consumer<Held> delete;

	private final ExpirySweep sweep;

	/**
	 * Tracks leases; the sweep, started with the first, deletes an expired lease's lock
	 * with {@code delete}.
	 */
	RedisHeldLeases(String namespace, Consumer<Held> delete, ThreadFactory threadFactory) {
		this.namespace = namespace;
		this.delete = delete;
		this.sweep = new ExpirySweep(RedisHeldLeases.class, "Redis", threadFactory, this::deleteExpired, CLOSE_WAIT);
	}

	/**
	 * The usable owner record of a TTL class, made (with {@code create}, which answers
	 * whether Redis made it) when the class has none, or its last one is gone, or may be
	 * (its local deadline passed: nothing renewed it for a TTL).
	 */
	Owner owner(long ttlMillis, Predicate<Owner> create) {
		Owner owner = this.owners.get(ttlMillis);
		if (owner != null && owner.usable()) {
			return owner;
		}
		this.ownerLock.lock();
		try {
			owner = this.owners.get(ttlMillis);
			if (owner != null && owner.usable()) {
				return owner;
			}
			Owner fresh = new Owner("{" + this.namespace + ":}:owner:" + UUID.randomUUID(), ttlMillis);
			long sentAt = System.nanoTime();
			if (!create.test(fresh)) {
				throw new IllegalStateException("Owner record " + fresh.key + " exists already");
			}
			fresh.deadlineNanos = sentAt + TimeUnit.MILLISECONDS.toNanos(ttlMillis);
			this.owners.put(ttlMillis, fresh);
			return fresh;
		}
		finally {
			this.ownerLock.unlock();
		}
	}

	/**
	 * Tracks a lease from before its acquisition is sent, with its TTL from now: should
	 * the answer be lost, a grant that did land is still deleted once the TTL has passed,
	 * rather than kept alive by its owner record for as long as other leases are renewed.
	 */
	void track(LeaseSpec lease, Owner owner) {
		this.held.put(lease.token(), new Held(lease, owner, System.nanoTime() + lease.ttl().toNanos()));
		this.sweep.start();
	}

	@Nullable Held get(String token) {
		return this.held.get(token);
	}

	void forget(String token) {
		this.held.remove(token);
		this.revoked.remove(token);
	}

	/**
	 * Marks a tracked lease evicted by a force-release.
	 */
	void revoke(String token) {
		if (this.held.containsKey(token)) {
			this.revoked.add(token);
		}
	}

	boolean isRevoked(String token) {
		return !this.revoked.isEmpty() && this.revoked.contains(token);
	}

	/**
	 * Now, in whole seconds of the local monotonic clock since the repository was made:
	 * the clock of {@link Held#refreshAt}.
	 */
	int nowSeconds() {
		return (int) TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - this.originNanos);
	}

	/**
	 * Schedules the next refresh of a lock key's own expiry: between a quarter and half
	 * of its lifetime from now (every renewal for a lifetime under 4 s), spread so that
	 * leases taken together do not all come due in the same renewal.
	 * @return when, on the clock of {@link #nowSeconds()}
	 */
	int nextRefresh(long lifetimeMillis) {
		int quarter = (int) Math.min(Integer.MAX_VALUE / 4, lifetimeMillis / 4000);
		return nowSeconds() + quarter + ThreadLocalRandom.current().nextInt(quarter + 1);
	}

	private void deleteExpired() {
		this.sweep.releaseExpired(this.held, this.delete);
	}

	/**
	 * Stops the sweep, waiting a moment for its thread to end (a deletion in flight may
	 * be waiting for Redis), and forgets every lease and owner record.
	 */
	@Override
	public void close() {
		this.sweep.close();
		this.held.clear();
		this.revoked.clear();
		this.owners.clear();
	}

	/**
	 * An owner record: the key whose existence keeps every lock that names it held.
	 */
	static final class Owner {

		final String key;

		final long ttlMillis;

		// On the local monotonic clock, from before the last request that set the
		// record's TTL was sent: the record exists at least until then.
		volatile long deadlineNanos;

		// Cleared when Redis answered that the record is gone.
		volatile boolean alive = true;

		Owner(String key, long ttlMillis) {
			this.key = key;
			this.ttlMillis = ttlMillis;
		}

		String revocationsKey() {
			return this.key + ":revoked";
		}

		boolean usable() {
			return this.alive && System.nanoTime() - this.deadlineNanos < 0;
		}

		Duration ttl() {
			return Duration.ofMillis(this.ttlMillis);
		}

	}

	/**
	 * A lease this repository granted, or asked for and got no answer, tracked until it
	 * is released or lost.
	 */
	static final class Held implements ExpirySweep.Tracked {

		final LeaseSpec spec;

		final Owner owner;

		volatile long deadlineNanos;

		// When the lock key's own expiry is next pushed back (and its token checked), on
		// the clock of nowSeconds(): an int, so that an entry is 32 bytes, not 40.
		volatile int refreshAt;

		Held(LeaseSpec spec, Owner owner, long deadlineNanos) {
			this.spec = spec;
			this.owner = owner;
			this.deadlineNanos = deadlineNanos;
		}

		@Override
		public LeaseSpec spec() {
			return this.spec;
		}

		@Override
		public long deadlineNanos() {
			return this.deadlineNanos;
		}

		@Override
		public void deadlineNanos(long deadlineNanos) {
			this.deadlineNanos = deadlineNanos;
		}

		/**
		 * Moves the deadline of this lease, which Redis just granted or renewed, to its
		 * full TTL from now, after the answer, so that the sweep never deletes a lock the
		 * core still trusts.
		 */
		void renewed() {
			this.deadlineNanos = System.nanoTime() + this.spec.ttl().toNanos();
		}

	}

}
