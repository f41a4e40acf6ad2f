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

package dev.latchkey.etcd;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.LeaseSpec;
import dev.latchkey.support.ExpirySweep;

/**
 * The leases one repository granted, each with the local deadline after which its key is
 * deleted, and the sweep that deletes them: a live process does not keep a lock its core
 * stopped renewing, although the shared etcd lease the key is attached to stays alive.
 * The deadline is measured on the local monotonic clock, from after etcd answered, so it
 * never passes before the core stops trusting the lease.
 */
final class EtcdHeldLeases implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(EtcdHeldLeases.class);

	private final KV kv;

	private final EtcdKeys keys;

	private final EtcdRequests requests;

	private final Map<String, Held> held = new ConcurrentHashMap<>();

	// Fair waiters' places in a queue to delete, by token: their waiter gave up or failed
	// and deleting them failed too; retried by the sweep until etcd answers.
	private final Map<String, ByteSequence> placesToDelete = new ConcurrentHashMap<>();

	private final ExpirySweep sweep;

	/**
	 * Tracks leases and starts the sweep on one thread of the factory.
	 */
	EtcdHeldLeases(KV kv, EtcdKeys keys, EtcdRequests requests, ThreadFactory threadFactory) {
		this.kv = kv;
		this.keys = keys;
		this.requests = requests;
		this.sweep = new ExpirySweep(EtcdHeldLeases.class, "etcd", threadFactory, this::deleteExpired,
				requests.timeout().plusSeconds(1));
		this.sweep.start();
	}

	/**
	 * Tracks a lease from before its acquisition is sent, with its TTL from now: should
	 * the answer be lost, a put that did land is still deleted when the lock's TTL has
	 * passed, rather than kept alive by the shared lease for ever.
	 */
	void track(LeaseSpec lease, EtcdLeasePool.SharedLease shared) {
		long deadline = System.nanoTime() + lease.ttl().toNanos();
		this.held.put(lease.token(), new Held(this.keys, lease, shared, deadline));
	}

	@Nullable Held get(String token) {
		return this.held.get(token);
	}

	void forget(String token) {
		this.held.remove(token);
	}

	/**
	 * Moves the deadline of a lease etcd just granted to its full TTL from now.
	 */
	void granted(LeaseSpec lease) {
		Held entry = this.held.get(lease.token());
		if (entry != null) {
			entry.deadlineNanos = System.nanoTime() + lease.ttl().toNanos();
		}
	}

	/**
	 * Records that a granted lease is fair: its place in the key's queue is deleted with
	 * its key, when it is released, swept or found lost.
	 */
	void fair(String token, ByteSequence queueKey) {
		Held entry = this.held.get(token);
		if (entry != null) {
			entry.queueKey = queueKey;
		}
	}

	/**
	 * Runs a task on the sweep's thread after a delay; nothing once the repository is
	 * closed.
	 */
	void schedule(Runnable task, long delayNanos) {
		this.sweep.schedule(task, delayNanos);
	}

	/**
	 * Has the sweep delete a fair waiter's place in a queue, which its waiter could not
	 * delete itself (etcd did not answer), until etcd answers.
	 */
	void deleteLater(String token, ByteSequence queueKey) {
		this.placesToDelete.put(token, queueKey);
	}

	/**
	 * Has the sweep delete a lease's key as soon as etcd answers (its holder gave it up,
	 * but the release failed).
	 */
	void expireNow(String token) {
		Held entry = this.held.get(token);
		if (entry != null) {
			entry.deadlineNanos = System.nanoTime();
		}
	}

	private void deleteExpired() {
		if (!this.placesToDelete.isEmpty()) {
			deletePlaces();
		}
		this.sweep.releaseExpired(this.held, this::delete);
	}

	private void delete(Held entry) {
		ByteSequence queueKey = entry.queueKey;
		this.requests.call(entry.spec.key(), () -> "Deleting the expired lease of the lock",
				() -> (queueKey != null) ? EtcdKeys.releaseFair(this.kv, entry.etcdKey(), entry.value(), queueKey)
						: EtcdKeys.deleteIfOurs(this.kv, entry.etcdKey(), entry.value()));
	}

	private void deletePlaces() {
		for (Map.Entry<String, ByteSequence> place : this.placesToDelete.entrySet()) {
			if (this.sweep.isClosed()) {
				return;
			}
			try {
				this.requests.call(() -> "Deleting a fair waiter's place in a queue",
						() -> this.kv.delete(place.getValue()));
				this.placesToDelete.remove(place.getKey(), place.getValue());
			}
			catch (RuntimeException ex) {
				logger.debug(ex, "Could not delete a fair waiter's place in a queue");
			}
		}
	}

	/**
	 * Stops the sweep, waiting for its thread to end, and forgets every lease.
	 */
	@Override
	public void close() {
		this.sweep.close();
		this.held.clear();
		this.placesToDelete.clear();
	}

	/**
	 * A lease this repository granted and tracks until it is released or lost: its key is
	 * deleted when its local deadline passes without a renewal. Its etcd key and value
	 * are made again from the lease when needed (rarely: a sweep, a move to another etcd
	 * lease) rather than kept, which would double what a held lease costs the heap.
	 */
	static final class Held implements ExpirySweep.Tracked {

		private final EtcdKeys keys;

		final LeaseSpec spec;

		volatile EtcdLeasePool.SharedLease lease;

		volatile long deadlineNanos;

		// Set when a force-release by any instance evicted the lease; its next renewal
		// reports it lost.
		volatile boolean revoked;

		// A fair holder's place in the key's queue, deleted with its key.
		volatile @Nullable ByteSequence queueKey;

		Held(EtcdKeys keys, LeaseSpec spec, EtcdLeasePool.SharedLease lease, long deadlineNanos) {
			this.keys = keys;
			this.spec = spec;
			this.lease = lease;
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

		ByteSequence etcdKey() {
			return this.keys.etcdKey(this.spec);
		}

		ByteSequence value() {
			return EtcdKeys.value(this.spec);
		}

		/**
		 * How long until the key is deleted, unless the lease is renewed.
		 */
		Duration remaining() {
			return Duration.ofNanos(Math.max(0, this.deadlineNanos - System.nanoTime()));
		}

	}

}
