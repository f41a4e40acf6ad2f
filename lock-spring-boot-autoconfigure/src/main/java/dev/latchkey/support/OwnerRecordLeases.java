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
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

import dev.latchkey.LeaseSpec;

/**
 * The owner records of one repository and the leases that name them, for a backend whose
 * exclusive leases are held while their record lives (Redis, PostgreSQL, MySQL and
 * MariaDB, every lease of the socket backend): one record per TTL class (on a Redis
 * Cluster, per TTL class and slot), renewed in one request however many leases name it.
 * Internal: it serves Latchkey's own backends, and may change in any release.
 * <p>
 * A record is never made again once it is gone: a new one, with a new name, takes its
 * place, so that a lease whose record expired (its holder paused past the TTL, or the
 * server lost its data) can never come back to life for a holder that went on without it.
 * <p>
 * Each lease is tracked from before its acquisition is sent until it is released or lost,
 * with a local deadline after which the {@link ExpirySweep} releases it: the record is
 * kept alive by the leases the core still renews, and must not keep alive a lease whose
 * acquisition went unanswered, or whose renewal the core stopped.
 *
 * <pre class="code">
 * OwnerRecordLeases&lt;OwnerRecordLeases.Held&gt; held = new OwnerRecordLeases&lt;&gt;(Repository.class, "Redis",
 *         threadFactory, this::releaseExpired);
 * OwnerRecordLeases.Record record = held.record(ttlMillis, () -&gt; "owner:" + UUID.randomUUID(), this::create);
 * held.track(new OwnerRecordLeases.Held(lease, record));
 * </pre>
 *
 * @param <H> the backend's tracking entry
 * @since 0.1.0
 */
public final class OwnerRecordLeases<H extends OwnerRecordLeases.Held> implements AutoCloseable {

	private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

	// The current record of each TTL class, by shard: an array rather than a map entry
	// per shard, as a Redis Cluster has 16,384 (changed under recordLock only).
	private final Map<Long, AtomicReferenceArray<Record>> records = new ConcurrentHashMap<>();

	private final Map<String, H> held = new ConcurrentHashMap<>();

	// Tokens of tracked leases that a force-release evicted, reported lost at their
	// next renewal. Apart from Held, as it is rarely anything but empty.
	private final Set<String> revoked = ConcurrentHashMap.newKeySet();

	private final ReentrantLock recordLock = new ReentrantLock();

	// The serial number of the last record named by Names.
	private final AtomicLong serials = new AtomicLong();

	private final Consumer<? super H> release;

	private final ExpirySweep sweep;

	/**
	 * Tracks leases; the sweep, started with the first, gives back a lease whose local
	 * deadline passed with {@code release}.
	 * @param owner the class whose logger reports the sweep's failures
	 * @param backend the backend's name, for the sweep's warnings
	 * @param threadFactory makes the sweep's one thread
	 * @param release releases a lease at the server (throws when it could not: it is
	 * tried again a second later)
	 */
	public OwnerRecordLeases(Class<?> owner, String backend, ThreadFactory threadFactory, Consumer<? super H> release) {
		this.release = release;
		this.sweep = new ExpirySweep(owner, backend, threadFactory, this::releaseExpired, CLOSE_WAIT);
	}

	/**
	 * The usable owner record of a TTL class, made when the class has none, or its last
	 * one is gone, or may be (its local deadline passed: nothing renewed it for a TTL).
	 * @param ttlMillis the TTL of the class
	 * @param newName the name of a new record, unique
	 * @param create makes the record at the server, or throws
	 * @return the record
	 */
	public Record record(long ttlMillis, Supplier<String> newName, Consumer<Record> create) {
		return record(ttlMillis, 0, newName, null, create);
	}

	/**
	 * The usable owner record of a TTL class in one shard of the server (a Redis
	 * Cluster's hash slot: a script may touch the keys of its own slot only, so each slot
	 * has records of its own), made when the class has none there, or its last one is
	 * gone, or may be. Such records may be thousands, and their names are made when asked
	 * for rather than kept: from the shard and a serial number, unique among the records
	 * of this instance.
	 *
	 * <pre class="code">
	 * int slot = ClusterSlotHashUtil.calculateSlot(lockKey);
	 * Record record = held.record(ttlMillis, slot, (shard, serial) -&gt; tag(shard) + ":owner:" + id + ":" + serial,
	 *         this::create);
	 * </pre>
	 * @param ttlMillis the TTL of the class
	 * @param shard the shard, 0 on a server that has one only
	 * @param names names a record from its shard and serial number; two records must
	 * never have the same name
	 * @param create makes the record at the server, or throws
	 * @return the record
	 * @since 0.1.0
	 */
	public Record record(long ttlMillis, int shard, Names names, Consumer<Record> create) {
		return record(ttlMillis, shard, null, names, create);
	}

	private Record record(long ttlMillis, int shard, @Nullable Supplier<String> newName, @Nullable Names names,
			Consumer<Record> create) {
		Assert.isTrue(shard >= 0, "A shard is not negative");
		Record record = current(ttlMillis, shard);
		if (record != null && record.usable()) {
			return record;
		}
		this.recordLock.lock();
		try {
			record = current(ttlMillis, shard);
			if (record != null && record.usable()) {
				return record;
			}
			Record fresh = (newName != null) ? new Record(newName.get(), null, 0, ttlMillis, shard)
					: new Record(null, names, this.serials.incrementAndGet(), ttlMillis, shard);
			long sentAt = System.nanoTime();
			create.accept(fresh);
			fresh.renewed(sentAt);
			shards(ttlMillis, shard).set(shard, fresh);
			return fresh;
		}
		finally {
			this.recordLock.unlock();
		}
	}

	private @Nullable Record current(long ttlMillis, int shard) {
		AtomicReferenceArray<Record> shards = this.records.get(ttlMillis);
		return (shards != null && shard < shards.length()) ? shards.get(shard) : null;
	}

	/**
	 * The records of a TTL class, by shard, with room for the given one (under
	 * {@link #recordLock}).
	 */
	private AtomicReferenceArray<Record> shards(long ttlMillis, int shard) {
		AtomicReferenceArray<Record> shards = this.records.get(ttlMillis);
		if (shards != null && shard < shards.length()) {
			return shards;
		}
		AtomicReferenceArray<Record> grown = new AtomicReferenceArray<>(Math.max(1, Integer.highestOneBit(shard) << 1));
		for (int i = 0; shards != null && i < shards.length(); i++) {
			grown.set(i, shards.get(i));
		}
		this.records.put(ttlMillis, grown);
		return grown;
	}

	/**
	 * Tracks a lease from before its acquisition is sent, its deadline the lease's TTL
	 * from now: should the answer be lost, a grant that did land is still given back once
	 * the TTL has passed, rather than kept alive by its record for as long as other
	 * leases are renewed.
	 * @param entry the lease's new entry
	 */
	public void track(H entry) {
		this.held.put(entry.spec().token(), entry);
		this.sweep.start();
	}

	/**
	 * The entry of a tracked lease.
	 * @param token the lease's token
	 * @return the entry, or {@code null} when the lease is not tracked
	 */
	public @Nullable H get(String token) {
		return this.held.get(token);
	}

	/**
	 * The tracked leases, a live view.
	 * @return the entries
	 */
	public Collection<H> tracked() {
		return Collections.unmodifiableCollection(this.held.values());
	}

	/**
	 * Stops tracking a lease.
	 * @param token the lease's token
	 */
	public void forget(String token) {
		this.held.remove(token);
		this.revoked.remove(token);
	}

	private void revoke(String token) {
		if (this.held.containsKey(token)) {
			this.revoked.add(token);
		}
	}

	private boolean isRevoked(String token) {
		return !this.revoked.isEmpty() && this.revoked.contains(token);
	}

	/**
	 * Takes the server's answer to the renewal of a record, which the given leases name:
	 * when the record was gone, it is never used again and every one of them is lost;
	 * otherwise the record lives a TTL from when the renewal was sent, the evicted leases
	 * are marked, and each lease still tracked and not evicted is renewed.
	 * @param record the renewed record
	 * @param entries the entries of the leases the renewal was for
	 * @param renewed whether the server renewed the record
	 * @param sentAtNanos when the renewal was sent, on {@link System#nanoTime()}
	 * @param revoked the tokens the server reported evicted by a force-release
	 * @return the tokens of the leases no longer held (forgotten here)
	 */
	public Set<String> answered(Record record, Collection<? extends H> entries, boolean renewed, long sentAtNanos,
			Collection<String> revoked) {
		Set<String> lost = new HashSet<>();
		if (!renewed) {
			// Gone with the record: every lease that names it is free.
			record.gone();
			for (H entry : entries) {
				forget(entry.spec().token());
				lost.add(entry.spec().token());
			}
			return lost;
		}
		record.renewed(sentAtNanos);
		revoked.forEach(this::revoke);
		for (H entry : entries) {
			String token = entry.spec().token();
			// Looked up again: the sweep may have released the lease while the renewal
			// ran.
			H tracked = get(token);
			if (tracked == null || isRevoked(token)) {
				forget(token);
				lost.add(token);
			}
			else {
				tracked.renewed();
			}
		}
		return lost;
	}

	/**
	 * Whether {@link #close()} was called: the leases of a closed repository name no
	 * record.
	 * @return whether it is closed
	 */
	public boolean isClosed() {
		return this.sweep.isClosed();
	}

	private void releaseExpired() {
		this.sweep.releaseExpired(this.held, this.release);
	}

	/**
	 * Stops the sweep, waiting a moment for its thread to end (a release in flight may be
	 * waiting for the server), and forgets every lease and record.
	 */
	@Override
	public void close() {
		this.sweep.close();
		this.held.clear();
		this.revoked.clear();
		this.records.clear();
	}

	/**
	 * An owner record: what keeps every lease that names it held while it lives.
	 */
	public static final class Record {

		// The record's name, or null when names makes it from the shard and serial.
		private final @Nullable String name;

		private final @Nullable Names names;

		private final long serial;

		private final long ttlMillis;

		private final int shard;

		// On the local monotonic clock, from before the last request that set the
		// record's expiry was sent: the record lives at least until then.
		private volatile long deadlineNanos;

		// Cleared when the server answered that the record is gone.
		private volatile boolean alive = true;

		Record(@Nullable String name, @Nullable Names names, long serial, long ttlMillis, int shard) {
			this.name = name;
			this.names = names;
			this.serial = serial;
			this.ttlMillis = ttlMillis;
			this.shard = shard;
		}

		/**
		 * The record's name at the server.
		 * @return the name
		 */
		public String name() {
			if (this.name != null) {
				return this.name;
			}
			Assert.state(this.names != null, "A record has a name or is named by its Names");
			return this.names.name(this.shard, this.serial);
		}

		/**
		 * The TTL of the record's class, in milliseconds.
		 * @return the TTL
		 */
		public long ttlMillis() {
			return this.ttlMillis;
		}

		/**
		 * The shard of the server the record lives in: a Redis Cluster's hash slot, else
		 * 0.
		 * @return the shard
		 * @since 0.1.0
		 */
		public int shard() {
			return this.shard;
		}

		/**
		 * The TTL of the record's class.
		 * @return the TTL
		 */
		public Duration ttl() {
			return Duration.ofMillis(this.ttlMillis);
		}

		/**
		 * Until when the record lives at least, on {@link System#nanoTime()}: a TTL from
		 * when its last answered renewal (or its making) was sent.
		 * @return the local deadline
		 */
		public long deadlineNanos() {
			return this.deadlineNanos;
		}

		/**
		 * Records a renewal that the server answered: the record lives at least a TTL
		 * from when it was sent.
		 * @param sentAtNanos when the renewal was sent, on {@link System#nanoTime()}
		 */
		public void renewed(long sentAtNanos) {
			this.deadlineNanos = sentAtNanos + TimeUnit.MILLISECONDS.toNanos(this.ttlMillis);
		}

		/**
		 * Records that the server answered that the record is gone: it is never used
		 * again.
		 */
		public void gone() {
			this.alive = false;
		}

		boolean usable() {
			return this.alive && System.nanoTime() - this.deadlineNanos < 0;
		}

	}

	/**
	 * Names the records of a server with many shards from their shard and serial number.
	 */
	@FunctionalInterface
	public interface Names {

		/**
		 * The name of a record.
		 * @param shard the record's shard
		 * @param serial its serial number, unique among the records of one
		 * {@link OwnerRecordLeases}
		 * @return the name
		 */
		String name(int shard, long serial);

	}

	/**
	 * A lease that names a record, granted or asked for and not answered, tracked until
	 * it is released or lost. A backend that keeps more per lease extends it.
	 */
	public static class Held implements ExpirySweep.Tracked {

		private final LeaseSpec spec;

		private final Record record;

		private volatile long deadlineNanos;

		/**
		 * A new entry, its deadline the lease's TTL from now.
		 * @param spec the lease
		 * @param record the record it names
		 */
		public Held(LeaseSpec spec, Record record) {
			this.spec = spec;
			this.record = record;
			this.deadlineNanos = System.nanoTime() + spec.ttl().toNanos();
		}

		@Override
		public final LeaseSpec spec() {
			return this.spec;
		}

		/**
		 * The record the lease names.
		 * @return the record
		 */
		public final Record record() {
			return this.record;
		}

		@Override
		public final long deadlineNanos() {
			return this.deadlineNanos;
		}

		@Override
		public final void deadlineNanos(long deadlineNanos) {
			this.deadlineNanos = deadlineNanos;
		}

		/**
		 * Moves the deadline of the lease, which the server just granted or renewed, to
		 * its full TTL from now, after the answer, so that the sweep never releases a
		 * lease the core still trusts.
		 */
		public final void renewed() {
			this.deadlineNanos = System.nanoTime() + this.spec.ttl().toNanos();
		}

	}

}
