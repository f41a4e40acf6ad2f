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

import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.QueueingLockRepository.QueuedGrant;
import dev.latchkey.support.FailureMessages;

/**
 * The fair waiters of one repository, after etcd's own {@code concurrency.Mutex}: each
 * joins the key's queue by putting its place, {@code ns k \2 token}, on the etcd lease
 * its lock would have, and is served in the order of those places' create revisions. Each
 * waiter watches only its predecessor's place for its deletion, so a release wakes
 * exactly the next waiter; the queue's first then puts the holder's key (the fencing
 * token is that put's revision, as for every grant) in a transaction that also checks
 * that no place before its own is left and that its own is still there. A fair holder
 * keeps its place until it releases, in the same transaction as its key. A waiter whose
 * process dies leaves the queue when its etcd lease expires.
 * <p>
 * Unfair callers do not queue: they may take the key while the queue's first is being
 * woken, and the first then waits for the key's release. The order among fair callers
 * holds all the same, since only a waiter with no place before its own may hold.
 */
final class EtcdFairQueue implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(EtcdFairQueue.class);

	private final KV kv;

	private final Watch watchClient;

	private final EtcdKeys keys;

	private final EtcdRequests requests;

	private final EtcdLeasePool leases;

	private final EtcdHeldLeases held;

	private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();

	private volatile boolean closed;

	EtcdFairQueue(KV kv, Watch watchClient, EtcdKeys keys, EtcdRequests requests, EtcdLeasePool leases,
			EtcdHeldLeases held) {
		this.kv = kv;
		this.watchClient = watchClient;
		this.keys = keys;
		this.requests = requests;
		this.leases = leases;
		this.held = held;
	}

	/**
	 * Joins the key's queue, and returns once etcd holds the waiter's place (so that
	 * requests joined one after the other are served in that order); the grant follows.
	 * @throws LockBackendException if etcd does not answer the join
	 */
	CompletableFuture<QueuedGrant> join(LeaseSpec lease) {
		if (this.closed) {
			throw EtcdRequests.closed();
		}
		ByteSequence place = this.keys.queueKey(lease.key(), lease.token());
		ByteSequence value = EtcdKeys.value(lease);
		Waiter waiter = new Waiter(lease, place, value);
		if (this.waiters.putIfAbsent(lease.token(), waiter) != null) {
			throw new IllegalStateException("The lease is queued already");
		}
		GetOption lastTwo = GetOption.builder()
			.isPrefix(true)
			.withSortField(GetOption.SortTarget.CREATE)
			.withSortOrder(GetOption.SortOrder.DESCEND)
			.withLimit(2)
			.build();
		TxnResponse joined = null;
		try {
			for (int attempt = 1; joined == null; attempt++) {
				EtcdLeasePool.SharedLease shared = this.leases.lease(lease.ttl());
				try {
					joined = this.requests.call(lease.key(), () -> "Joining the queue of the lock", () -> this.kv.txn()
						.Then(Op.put(place, value, PutOption.builder().withLeaseId(shared.id).build()),
								Op.get(place, GetOption.DEFAULT), Op.get(this.keys.queuePrefix(lease.key()), lastTwo))
						.commit());
					waiter.shared = shared;
				}
				catch (LockBackendException ex) {
					if (attempt == 1 && EtcdRequests.isLeaseNotFound(ex)) {
						shared.expired("etcd no longer knows it");
						continue;
					}
					throw ex;
				}
			}
		}
		catch (RuntimeException ex) {
			this.waiters.remove(lease.token(), waiter);
			// The put may have landed.
			this.held.deleteLater(lease.token(), place);
			throw ex;
		}
		List<KeyValue> own = joined.getGetResponses().get(0).getKvs();
		if (own.isEmpty()) {
			this.waiters.remove(lease.token(), waiter);
			throw new LockBackendException(EtcdRequests.BACKEND, lease.key(),
					"Joining the queue of the lock at the etcd backend failed: the place written is gone", null);
		}
		waiter.place(own.get(0).getCreateRevision());
		KeyValue predecessor = null;
		for (KeyValue entry : joined.getGetResponses().get(1).getKvs()) {
			if (entry.getCreateRevision() < waiter.revision) {
				predecessor = entry;
				break;
			}
		}
		if (predecessor != null) {
			waiter.watch(predecessor.getKey(), joined.getHeader().getRevision() + 1, false);
		}
		else {
			// First, or a place kept from an earlier join of the same lease: the first's
			// attempt tells which.
			waiter.tryFirst();
		}
		return waiter.grant;
	}

	/**
	 * Withdraws a waiter.
	 * @return {@code true} if it was withdrawn before being granted
	 */
	boolean cancel(LeaseSpec lease) {
		Waiter waiter = this.waiters.get(lease.token());
		return waiter != null && waiter.cancel();
	}

	/**
	 * Fails every waiter; their places go with the repository's etcd leases, which
	 * {@code close} revokes.
	 */
	@Override
	public void close() {
		this.closed = true;
		for (Waiter waiter : this.waiters.values()) {
			waiter.fail(EtcdRequests.closed());
		}
		this.waiters.clear();
	}

	private static GetOption lastBefore(long revision) {
		return GetOption.builder()
			.isPrefix(true)
			.withSortField(GetOption.SortTarget.CREATE)
			.withSortOrder(GetOption.SortOrder.DESCEND)
			.withMaxCreateRevision(revision - 1)
			.withLimit(1)
			.build();
	}

	/**
	 * One fair waiter: its place, and the one step it takes at a time (waiting for a
	 * deletion, or the first's attempt). Its state is guarded by its monitor.
	 */
	private final class Waiter {

		final LeaseSpec lease;

		final ByteSequence place;

		final ByteSequence value;

		final ByteSequence lockKey;

		final CompletableFuture<QueuedGrant> grant = new CompletableFuture<>();

		volatile EtcdLeasePool.@Nullable SharedLease shared;

		volatile long revision;

		private boolean done;

		private Watch.@Nullable Watcher watcher;

		Waiter(LeaseSpec lease, ByteSequence place, ByteSequence value) {
			this.lease = lease;
			this.place = place;
			this.value = value;
			this.lockKey = EtcdFairQueue.this.keys.lockKey(lease.key());
		}

		void place(long revision) {
			this.revision = revision;
		}

		/**
		 * The first's attempt: put the holder's key if it is absent, no place before ours
		 * is left and ours is still there; otherwise learn what to wait for.
		 */
		void tryFirst() {
			synchronized (this) {
				if (this.done) {
					return;
				}
			}
			EtcdLeasePool.SharedLease on = EtcdFairQueue.this.leases.lease(this.lease.ttl());
			EtcdFairQueue.this.held.track(this.lease, this.lockKey, this.value, on);
			long sentAt = System.nanoTime();
			ByteSequence queue = EtcdFairQueue.this.keys.queuePrefix(this.lease.key());
			CompletableFuture<TxnResponse> answer;
			try {
				answer = EtcdFairQueue.this.kv.txn()
					.If(EtcdKeys.absent(this.lockKey),
							new Cmp(this.place, Cmp.Op.EQUAL, CmpTarget.createRevision(this.revision)))
					.Then(Op.put(this.lockKey, this.value, PutOption.builder().withLeaseId(on.id).build()),
							Op.get(queue, lastBefore(this.revision)),
							Op.get(EtcdFairQueue.this.keys.holdersPrefix(this.lease.key()),
									GetOption.builder().isPrefix(true).withCountOnly(true).build()))
					.Else(Op.get(this.place, GetOption.DEFAULT), Op.get(queue, lastBefore(this.revision)))
					.commit();
			}
			catch (RuntimeException ex) {
				EtcdFairQueue.this.held.forget(this.lease.token());
				fail(ex);
				return;
			}
			answer.orTimeout(EtcdFairQueue.this.requests.timeout().toNanos(), TimeUnit.NANOSECONDS)
				.whenComplete((response, failure) -> {
					try {
						if (failure != null) {
							// The put may have landed: the sweep deletes it if it did.
							EtcdFairQueue.this.held.expireNow(this.lease.token());
							if (EtcdRequests.isLeaseNotFound(failure)) {
								on.expired("etcd no longer knows it");
							}
							fail(failure);
						}
						else {
							firstAnswered(response, on, sentAt);
						}
					}
					catch (RuntimeException ex) {
						fail(ex);
					}
				});
		}

		private void firstAnswered(TxnResponse response, EtcdLeasePool.SharedLease on, long sentAt) {
			long revision = response.getHeader().getRevision();
			if (!response.isSucceeded()) {
				EtcdFairQueue.this.held.forget(this.lease.token());
				if (response.getGetResponses().get(0).getKvs().isEmpty()) {
					// Our etcd lease expired or was revoked: the place is gone.
					fail(new LockBackendException(EtcdRequests.BACKEND, this.lease.key(),
							"The waiter's place in the queue of the lock at the etcd backend is gone"
									+ " (its etcd lease expired?); joining again",
							null));
					return;
				}
				List<KeyValue> before = response.getGetResponses().get(1).getKvs();
				if (!before.isEmpty()) {
					watch(before.get(0).getKey(), revision + 1, false);
				}
				else {
					// The queue's first, behind a holder: an unfair caller, or a holder
					// that took the key with a single attempt.
					watch(this.lockKey, revision + 1, false);
				}
				return;
			}
			List<KeyValue> before = response.getGetResponses().get(0).getKvs();
			boolean alone = response.getGetResponses().get(1).getCount() == 1;
			if (before.isEmpty() && alone) {
				granted(revision, sentAt);
				return;
			}
			// Not ours after all: a place before ours is left (its waiter withdrew behind
			// the first), or permits or shared holders hold the key. Withdraw the put,
			// then wait from after the withdrawal, so it does not wake us.
			ByteSequence waitFor = before.isEmpty() ? EtcdFairQueue.this.keys.holdersPrefix(this.lease.key())
					: before.get(0).getKey();
			boolean prefix = before.isEmpty();
			EtcdKeys.deleteIfOurs(EtcdFairQueue.this.kv, this.lockKey, this.value)
				.orTimeout(EtcdFairQueue.this.requests.timeout().toNanos(), TimeUnit.NANOSECONDS)
				.whenComplete((withdrawn, failure) -> {
					if (failure != null) {
						EtcdFairQueue.this.held.expireNow(this.lease.token());
						fail(failure);
						return;
					}
					EtcdFairQueue.this.held.forget(this.lease.token());
					watch(waitFor, withdrawn.getHeader().getRevision() + 1, prefix);
				});
		}

		private void granted(long fencingToken, long sentAt) {
			EtcdFairQueue.this.held.granted(this.lease);
			EtcdFairQueue.this.held.fair(this.lease.token(), this.place);
			boolean keep;
			synchronized (this) {
				keep = !this.done;
				this.done = true;
			}
			EtcdFairQueue.this.waiters.remove(this.lease.token(), this);
			if (keep && this.grant.complete(new QueuedGrant(fencingToken, sentAt))) {
				return;
			}
			// Withdrawn (or the repository closed) while the grant was in flight: give it
			// back.
			EtcdFairQueue.this.held.forget(this.lease.token());
			EtcdKeys.releaseFair(EtcdFairQueue.this.kv, this.lockKey, this.value, this.place).exceptionally((ex) -> {
				EtcdFairQueue.this.held.deleteLater(this.lease.token(), this.place);
				return null;
			});
		}

		/**
		 * Waits for a deletion of the key (or under the prefix) from a revision on, then
		 * takes the first's attempt again.
		 */
		void watch(ByteSequence key, long fromRevision, boolean prefix) {
			WatchOption option = WatchOption.builder()
				.withRevision(fromRevision)
				.withNoPut(true)
				.isPrefix(prefix)
				.build();
			AtomicBoolean fired = new AtomicBoolean();
			AtomicReference<Watch.Watcher> mine = new AtomicReference<>();
			Runnable wake = () -> {
				if (fired.compareAndSet(false, true)) {
					Watch.Watcher own = mine.get();
					if (own != null) {
						closeWatcher(own);
					}
					tryFirst();
				}
			};
			Watch.Listener listener = new Watch.Listener() {

				@Override
				public void onNext(WatchResponse response) {
					for (WatchEvent event : response.getEvents()) {
						if (event.getEventType() == WatchEvent.EventType.DELETE) {
							wake.run();
							return;
						}
					}
				}

				@Override
				public void onError(Throwable failure) {
					// Look again rather than trust a resumed watch (a compacted revision,
					// say).
					logger.debug(failure, () -> "Watch of a fair waiter of '" + Waiter.this.lease.key() + "' failed");
					wake.run();
				}

				@Override
				public void onCompleted() {
					wake.run();
				}

			};
			synchronized (this) {
				if (this.done) {
					return;
				}
			}
			Watch.Watcher created = EtcdFairQueue.this.watchClient.watch(key, option, listener);
			mine.set(created);
			boolean keep;
			synchronized (this) {
				keep = !this.done;
				if (keep) {
					this.watcher = created;
				}
			}
			if (!keep || fired.get()) {
				closeWatcher(created);
			}
		}

		/**
		 * Closes a watch of this waiter, which is its current one or an earlier one.
		 */
		private void closeWatcher(Watch.Watcher which) {
			synchronized (this) {
				if (this.watcher == which) {
					this.watcher = null;
				}
			}
			try {
				which.close();
			}
			catch (RuntimeException ex) {
				logger.debug(ex, "Closing a fair waiter's watch failed");
			}
		}

		private void closeWatcher() {
			Watch.Watcher open;
			synchronized (this) {
				open = this.watcher;
				this.watcher = null;
			}
			if (open != null) {
				try {
					open.close();
				}
				catch (RuntimeException ex) {
					logger.debug(ex, "Closing a fair waiter's watch failed");
				}
			}
		}

		/**
		 * Withdraws the waiter: its place is deleted, so its successor moves up.
		 */
		boolean cancel() {
			synchronized (this) {
				if (this.done) {
					return false;
				}
				this.done = true;
			}
			closeWatcher();
			EtcdFairQueue.this.waiters.remove(this.lease.token(), this);
			this.grant.completeExceptionally(new CancellationException("Withdrawn from the queue"));
			try {
				EtcdFairQueue.this.requests.call(this.lease.key(), () -> "Leaving the queue of the lock",
						() -> EtcdFairQueue.this.kv.delete(this.place, DeleteOption.DEFAULT));
			}
			catch (LockBackendException ex) {
				EtcdFairQueue.this.held.deleteLater(this.lease.token(), this.place);
			}
			return true;
		}

		/**
		 * Ends the wait with a failure: the caller may join again. The place is deleted,
		 * unless the waiter was withdrawn (which deleted it) or the repository closed
		 * (which revokes its etcd lease).
		 */
		void fail(Throwable failure) {
			synchronized (this) {
				if (this.done) {
					return;
				}
				this.done = true;
			}
			closeWatcher();
			EtcdFairQueue.this.waiters.remove(this.lease.token(), this);
			if (!EtcdFairQueue.this.closed) {
				EtcdFairQueue.this.kv.delete(this.place, DeleteOption.DEFAULT).exceptionally((ex) -> {
					EtcdFairQueue.this.held.deleteLater(this.lease.token(), this.place);
					return null;
				});
			}
			Throwable cause = (failure instanceof CompletionException && failure.getCause() != null)
					? failure.getCause() : failure;
			this.grant.completeExceptionally((cause instanceof LockBackendException) ? cause : new LockBackendException(
					EtcdRequests.BACKEND, this.lease.key(),
					"Waiting in the queue of the lock at the etcd backend failed: " + FailureMessages.reason(cause),
					cause));
		}

	}

}
