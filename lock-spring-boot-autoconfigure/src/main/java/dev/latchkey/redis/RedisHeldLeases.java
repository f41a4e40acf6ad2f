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

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.ClusterSlotHashUtil;

import dev.latchkey.LeaseSpec;
import dev.latchkey.support.OwnerRecordLeases;
import dev.latchkey.support.OwnerRecordLeases.Record;

/**
 * The owner records of one repository and the exclusive leases that point to them (the
 * {@link OwnerRecordLeases} of the support package). An owner record is a key with the
 * TTL of one TTL class, {@code {ns:}:owner:<id>}; each exclusive lock granted in that
 * class names it, and is held for as long as it exists. Renewing the record renews every
 * lease of the class in one command, however many there are. On a Cluster, where a script
 * may touch the keys of one slot only, each slot has records of its own,
 * {@code {ns:~<n>}:owner:<id>:<serial>}, whose hash tag {@code ns:~<n>} is the first of
 * that form to hash to the slot. Here also: when each lock key's own expiry is next
 * pushed back.
 */
final class RedisHeldLeases implements AutoCloseable {

	private final String namespace;

	private final OwnerRecordLeases<Held> leases;

	private final long originNanos = System.nanoTime();

	// This repository's part of the names of its owner records on a Cluster.
	private final String id = UUID.randomUUID().toString();

	// The n of each Cluster slot's hash tag, made with the first record on a Cluster.
	private volatile int @Nullable [] slotTags;

	/**
	 * Tracks leases; the sweep, started with the first, deletes an expired lease's lock
	 * with {@code delete}.
	 */
	RedisHeldLeases(String namespace, Consumer<Held> delete, ThreadFactory threadFactory) {
		this.namespace = namespace;
		this.leases = new OwnerRecordLeases<>(RedisHeldLeases.class, "Redis", threadFactory, delete);
	}

	/**
	 * The usable owner record of a TTL class, made (with {@code create}, which throws
	 * when Redis did not make it) when the class has none, or its last one is gone, or
	 * may be (its local deadline passed: nothing renewed it for a TTL).
	 */
	Record owner(long ttlMillis, Consumer<Record> create) {
		return this.leases.record(ttlMillis, () -> "{" + this.namespace + ":}:owner:" + UUID.randomUUID(), create);
	}

	/**
	 * The usable owner record of a TTL class in one Cluster slot, as
	 * {@link #owner(long, Consumer)} has it for a Redis that is not a Cluster.
	 */
	Record owner(long ttlMillis, int slot, Consumer<Record> create) {
		return this.leases.record(ttlMillis, slot, this::slotRecordName, create);
	}

	/**
	 * The name of a slot's owner record: {@code {ns:~<n>}:owner:<id>:<serial>}, with this
	 * repository's random id. Made when asked for, not kept: 16,384 slots' names would
	 * take about 2 MB.
	 */
	private String slotRecordName(int slot, long serial) {
		return "{" + slotTag(slot) + "}:owner:" + this.id + ":" + serial;
	}

	/**
	 * The hash tag of a slot's owner records: {@code ns:~<n>} for the smallest n that
	 * hashes to the slot.
	 */
	String slotTag(int slot) {
		int[] tags = this.slotTags;
		if (tags == null) {
			tags = slotTags(this.namespace);
			this.slotTags = tags;
		}
		return this.namespace + ":~" + tags[slot];
	}

	/**
	 * The n of each slot's hash tag: about 170,000 hashes find all 16,384 (a few
	 * milliseconds, once).
	 */
	private static int[] slotTags(String namespace) {
		int[] tags = new int[ClusterSlotHashUtil.SLOT_COUNT];
		Arrays.fill(tags, -1);
		int found = 0;
		for (int n = 0; found < tags.length; n++) {
			int slot = ClusterSlotHashUtil.calculateSlot(namespace + ":~" + n);
			if (tags[slot] < 0) {
				tags[slot] = n;
				found++;
			}
		}
		return tags;
	}

	/**
	 * Tracks a lease from before its acquisition is sent, with its TTL from now.
	 */
	void track(LeaseSpec lease, Record owner) {
		this.leases.track(new Held(lease, owner));
	}

	@Nullable Held get(String token) {
		return this.leases.get(token);
	}

	void forget(String token) {
		this.leases.forget(token);
	}

	/**
	 * Takes Redis's answer to the renewal of a record (see
	 * {@link OwnerRecordLeases#answered}).
	 * @return the tokens of the leases no longer held
	 */
	Set<String> answered(Record owner, List<Held> entries, boolean renewed, long sentAtNanos,
			Collection<String> revoked) {
		return this.leases.answered(owner, entries, renewed, sentAtNanos, revoked);
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

	/**
	 * Stops the sweep, waiting a moment for its thread to end (a deletion in flight may
	 * be waiting for Redis), and forgets every lease and owner record.
	 */
	@Override
	public void close() {
		this.leases.close();
	}

	/**
	 * A lease this repository granted, or asked for and got no answer, tracked until it
	 * is released or lost.
	 */
	static final class Held extends OwnerRecordLeases.Held {

		// When the lock key's own expiry is next pushed back (and its token checked), on
		// the clock of nowSeconds(): an int, so that an entry is 32 bytes, not 40.
		volatile int refreshAt;

		Held(LeaseSpec spec, Record owner) {
			super(spec, owner);
		}

	}

}
