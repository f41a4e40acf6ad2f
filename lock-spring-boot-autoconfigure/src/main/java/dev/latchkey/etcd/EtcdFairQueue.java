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

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * waiter waits only for its predecessor's place to be deleted, so a release wakes exactly
 * the next waiter; the queue's first then puts the holder's key (the fencing token is
 * that put's revision, as for every grant) in a transaction that also checks that no
 * place before its own is left and that its own is still there. A fair holder keeps its
 * place until it releases, in the same transaction as its key. A waiter whose process
 * dies leaves the queue when its etcd lease expires.
 * <p>
 * The deletions are heard through one watch per key and repository of the key's queue
 * ({@link QueueWatch}), opened from just after the first local waiter's join and kept for
 * a few seconds after the last one left: it hands each deletion to the one local waiter
 * whose predecessor's place it was, and costs no request per waiter (jetcd opens a stream
 * per watch, which a watch per waiter would pay at every hand-off). A waiter behind a
 * holder that is not in the queue (an unfair caller, semaphore permits, shared holders)
 * watches the holders' keys with a watch of its own.
 * <p>
 * Unfair callers do not queue: they may take the key while the queue's first is being
 * woken, and the first then waits for the key's release. The order among fair callers
 * holds all the same, since only a waiter with no place before its own may hold.
 */
final class EtcdFairQueue implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(EtcdFairQueue.class);

	/**
	 * How long a key's queue watch stays open once no local waiter needs it: a waiter
	 * that is served and asks again at once finds it open.
	 */
	private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(5);

	/**
	 * How many of a queue's latest deletions its watch remembers, for waiters that
	 * register for a place after its deletion was handed out.
	 */
	private static final int REMEMBERED_DELETIONS = 4096;

	private final KV kv;

	private final Watch watchClient;

	private final EtcdKeys keys;

	private final EtcdRequests requests;

	private final EtcdLeasePool leases;

	private final EtcdHeldLeases held;

	private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();

	// One watch per key of the queues' deletions, shared by the key's local waiters;
	// guarded by itself.
	private final Map<String, QueueWatch> queueWatches = new HashMap<>();

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
			waiter.waitForPlace(predecessor.getKey(), joined.getHeader().getRevision());
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
		List<QueueWatch> open;
		synchronized (this.queueWatches) {
			open = new ArrayList<>(this.queueWatches.values());
			this.queueWatches.clear();
		}
		open.forEach(QueueWatch::close);
	}

	/**
	 * Has a waiter woken when a place of its key's queue is deleted, through the key's
	 * queue watch, which is opened from just after the waiter's join (or the read that
	 * showed the place) if it is not open yet.
	 * @param revision the revision at which the place was seen to exist
	 * @return whether the place's deletion will be heard; {@code false} when it may have
	 * been missed (the watch started later, or has gone past the revision already)
	 */
	private boolean register(Waiter waiter, ByteSequence place, long revision) {
		QueueWatch watch;
		synchronized (this.queueWatches) {
			if (this.closed) {
				return false;
			}
			watch = this.queueWatches.get(waiter.lease.key());
			if (watch == null || watch.broken) {
				watch = new QueueWatch(waiter.lease.key(), revision + 1);
				this.queueWatches.put(waiter.lease.key(), watch);
				watch.open();
			}
		}
		return watch.register(waiter, place, revision);
	}

	private void closeIfIdle(QueueWatch watch) {
		synchronized (this.queueWatches) {
			// Idle and broken at once, under the watch's lock: a waiter that registers
			// after this finds it broken and looks again, rather than wait on a closed
			// watch.
			synchronized (watch) {
				if (!watch.idleFor(LINGER_NANOS)) {
					return;
				}
				watch.broken = true;
			}
			this.queueWatches.remove(watch.key, watch);
		}
		watch.close();
	}

	/**
	 * The watch of one key's queue for deletions, shared by the key's local waiters: each
	 * waits for the deletion of one place (its predecessor's), and a deletion wakes the
	 * waiter of that place alone. Every deletion of the queue reaches every repository
	 * with local waiters of the key, but costs no request.
	 */
	private final class QueueWatch implements Watch.Listener {

		final String key;

		final long startRevision;

		// Guarded by this.
		private final Map<ByteSequence, Waiter> waiting = new HashMap<>();

		// The revision of the last deletion handed out; guarded by this.
		private long lastRevision;

		// The latest deletions handed out, oldest first, by place; and the revision up to
		// which older ones are forgotten. Guarded by this.
		private final LinkedHashMap<ByteSequence, Long> recentDeletions = new LinkedHashMap<>();

		private long forgottenUpTo;

		private long idleSince = System.nanoTime();

		private boolean closeScheduled;

		volatile boolean broken;

		private Watch.@Nullable Watcher watcher;

		QueueWatch(String key, long startRevision) {
			this.key = key;
			this.startRevision = startRevision;
		}

		void open() {
			WatchOption option = WatchOption.builder()
				.withRevision(this.startRevision)
				.withNoPut(true)
				.isPrefix(true)
				.build();
			this.watcher = EtcdFairQueue.this.watchClient.watch(EtcdFairQueue.this.keys.queuePrefix(this.key), option,
					this);
		}

		boolean register(Waiter waiter, ByteSequence place, long revision) {
			synchronized (this) {
				// A deletion after the revision is heard if the watch started no later,
				// and was not handed out yet: the deletions handed out since the revision
				// are remembered, unless too many came since.
				if (this.broken || this.startRevision > revision + 1) {
					return false;
				}
				Long deleted = this.recentDeletions.get(place);
				if ((deleted != null && deleted > revision)
						|| (this.lastRevision > revision && this.forgottenUpTo > revision)) {
					return false;
				}
				this.waiting.put(place, waiter);
				waiter.registeredOn = this;
				this.idleSince = 0;
				return true;
			}
		}

		void unregister(Waiter waiter) {
			synchronized (this) {
				this.waiting.values().remove(waiter);
				idleIfEmpty();
			}
		}

		/**
		 * Guarded by this.
		 */
		private void idleIfEmpty() {
			if (!this.waiting.isEmpty()) {
				return;
			}
			this.idleSince = System.nanoTime();
			if (!this.closeScheduled) {
				this.closeScheduled = true;
				EtcdFairQueue.this.held.schedule(this::lingered, LINGER_NANOS);
			}
		}

		private void lingered() {
			synchronized (this) {
				this.closeScheduled = false;
				if (this.waiting.isEmpty() && !idleFor(LINGER_NANOS)) {
					this.closeScheduled = true;
					EtcdFairQueue.this.held.schedule(this::lingered, LINGER_NANOS);
					return;
				}
			}
			closeIfIdle(this);
		}

		/**
		 * Remembers a deletion handed out, for a waiter that registers for it late.
		 * Guarded by this.
		 */
		private void remember(ByteSequence place, long revision) {
			this.recentDeletions.remove(place);
			this.recentDeletions.put(place, revision);
			if (this.recentDeletions.size() > REMEMBERED_DELETIONS) {
				Map.Entry<ByteSequence, Long> eldest = this.recentDeletions.entrySet().iterator().next();
				this.forgottenUpTo = Math.max(this.forgottenUpTo, eldest.getValue());
				this.recentDeletions.remove(eldest.getKey());
			}
		}

		synchronized boolean idleFor(long nanos) {
			return this.waiting.isEmpty() && this.idleSince != 0 && System.nanoTime() - this.idleSince >= nanos;
		}

		@Override
		public void onNext(WatchResponse response) {
			List<Waiter> woken = new ArrayList<>(1);
			synchronized (this) {
				for (WatchEvent event : response.getEvents()) {
					if (event.getEventType() == WatchEvent.EventType.DELETE) {
						long deletedAt = event.getKeyValue().getModRevision();
						this.lastRevision = Math.max(this.lastRevision, deletedAt);
						remember(event.getKeyValue().getKey(), deletedAt);
						Waiter waiter = this.waiting.remove(event.getKeyValue().getKey());
						if (waiter != null) {
							woken.add(waiter);
						}
					}
				}
				if (!woken.isEmpty()) {
					idleIfEmpty();
				}
			}
			for (Waiter waiter : woken) {
				waiter.wokenByQueue(this);
			}
		}

		@Override
		public void onError(Throwable failure) {
			logger.debug(failure, () -> "Queue watch of '" + this.key + "' failed");
			breakAndWakeAll();
		}

		@Override
		public void onCompleted() {
			breakAndWakeAll();
		}

		/**
		 * Ends the watch (a compacted revision, a closed stream): every waiter looks
		 * again, and the next one to wait opens a new watch.
		 */
		private void breakAndWakeAll() {
			List<Waiter> woken;
			synchronized (this) {
				if (this.broken) {
					return;
				}
				this.broken = true;
				woken = new ArrayList<>(this.waiting.values());
				this.waiting.clear();
			}
			synchronized (EtcdFairQueue.this.queueWatches) {
				EtcdFairQueue.this.queueWatches.remove(this.key, this);
			}
			close();
			for (Waiter waiter : woken) {
				waiter.wokenByQueue(this);
			}
		}

		void close() {
			this.broken = true;
			Watch.Watcher open = this.watcher;
			if (open != null) {
				try {
					open.close();
				}
				catch (RuntimeException ex) {
					logger.debug(ex, "Closing a queue watch failed");
				}
			}
		}

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

		// The queue watch this waiter is registered with, if any; written under that
		// watch's lock.
		volatile @Nullable QueueWatch registeredOn;

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
			EtcdFairQueue.this.held.track(this.lease, on);
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
					waitForPlace(before.get(0).getKey(), revision);
				}
				else {
					// The queue's first, behind a holder: an unfair caller, or a holder
					// that took the key with a single attempt.
					watch(this.lockKey, revision + 1, false, 0);
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
			// then wait for a deletion from after the attempt, not from after the
			// withdrawal: a holder or place that went in between would be missed. The
			// withdrawal's own deletion of our key is let pass.
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
					if (prefix) {
						watch(waitFor, revision + 1, true, withdrawn.getHeader().getRevision());
					}
					else {
						waitForPlace(waitFor, revision);
					}
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
		 * Waits for the deletion of a place of the queue, seen at a revision, through the
		 * key's queue watch; should the deletion be missed there, looks again at once.
		 */
		void waitForPlace(ByteSequence place, long revision) {
			synchronized (this) {
				if (this.done) {
					return;
				}
			}
			if (!register(this, place, revision)) {
				tryFirst();
				return;
			}
			boolean unregister;
			synchronized (this) {
				unregister = this.done;
			}
			if (unregister) {
				unregister();
			}
		}

		void wokenByQueue(QueueWatch watch) {
			synchronized (watch) {
				if (this.registeredOn == watch) {
					this.registeredOn = null;
				}
			}
			tryFirst();
		}

		private void unregister() {
			QueueWatch on = this.registeredOn;
			if (on != null) {
				on.unregister(this);
			}
		}

		/**
		 * Waits for a deletion of the key (or under the prefix) from a revision on, then
		 * takes the first's attempt again. The deletion of this waiter's own key at the
		 * given revision (its withdrawal; 0 for none) does not count.
		 */
		void watch(ByteSequence key, long fromRevision, boolean prefix, long ownWithdrawal) {
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
						if (event.getEventType() == WatchEvent.EventType.DELETE
								&& !(event.getKeyValue().getModRevision() == ownWithdrawal
										&& event.getKeyValue().getKey().equals(Waiter.this.lockKey))) {
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
			unregister();
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
			unregister();
			EtcdFairQueue.this.waiters.remove(this.lease.token(), this);
			if (!EtcdFairQueue.this.closed) {
				// Only this join's place: the template may join again with the same lease
				// (the same key) before this deletion lands.
				EtcdFairQueue.this.kv.txn()
					.If(new Cmp(this.place, Cmp.Op.EQUAL, CmpTarget.createRevision(this.revision)))
					.Then(Op.delete(this.place, DeleteOption.DEFAULT))
					.commit()
					.exceptionally((ex) -> {
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
