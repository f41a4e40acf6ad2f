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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.ReleaseSubscription;
import dev.latchkey.support.ReleaseListeners;

/**
 * The release notifications of one repository: one etcd watch per key, shared by the
 * key's local waiters, for deletions of the key's holders, which come from releases,
 * force-releases and expired leases alike, and of the places in its wake line. A release
 * that also deletes a place in the line (in the same transaction, so in the same
 * response) wakes that place's instance alone: the other instances let it pass, and the
 * one whose place it was wakes its waiters even though no holder of its own went.
 * <p>
 * A watch stays open for a while after its last subscriber left, as the fair queue's
 * watches do: a caller that waits for the key again soon (one thread of an instance that
 * takes the key over and over, under contention) finds it there, rather than paying a new
 * watch per wait.
 */
final class EtcdKeyWatches implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(EtcdKeyWatches.class);

	/**
	 * How long a watch nobody subscribes to stays open.
	 */
	private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(5);

	private final Watch watchClient;

	private final EtcdKeys keys;

	private final String instance;

	private final Duration createTimeout;

	private final EtcdHeldLeases held;

	private final ReleaseListeners listeners = new ReleaseListeners();

	private final Object monitor = new Object();

	private final Map<String, KeyWatch> watches = new HashMap<>();

	private boolean closed;

	/**
	 * Makes the watches of a repository.
	 * @param held the repository's held leases, whose sweep thread closes idle watches
	 */
	EtcdKeyWatches(Watch watchClient, EtcdKeys keys, String instance, Duration createTimeout, EtcdHeldLeases held) {
		this.watchClient = watchClient;
		this.keys = keys;
		this.instance = instance;
		this.createTimeout = createTimeout;
		this.held = held;
	}

	/**
	 * Runs {@code onRelease} whenever a holder of the key goes, until the subscription is
	 * closed; returns once etcd confirmed the watch or the create timeout passed.
	 * @throws dev.latchkey.LockBackendException if the watches are closed
	 */
	ReleaseSubscription subscribe(String key, Runnable onRelease) {
		ReleaseSubscription listener = this.listeners.add(key, onRelease);
		KeyWatch watch;
		synchronized (this.monitor) {
			if (this.closed) {
				listener.close();
				throw EtcdRequests.closed();
			}
			watch = this.watches.get(key);
			if (watch == null || watch.isClosed()) {
				watch = new KeyWatch(key);
				this.watches.put(key, watch);
			}
			watch.users++;
		}
		KeyWatch subscribed = watch;
		ReleaseSubscription subscription = new ReleaseSubscription() {

			private final AtomicBoolean closed = new AtomicBoolean();

			@Override
			public void close() {
				if (this.closed.compareAndSet(false, true)) {
					listener.close();
					unwatch(subscribed);
				}
			}

		};
		subscribed.awaitCreated(this.createTimeout);
		return subscription;
	}

	/**
	 * Lets go of a subscriber's watch: the watch of its last subscriber is closed once it
	 * has been idle for the linger time.
	 */
	private void unwatch(KeyWatch watch) {
		synchronized (this.monitor) {
			if (--watch.users > 0) {
				return;
			}
			watch.idleSince = System.nanoTime();
			if (watch.closeScheduled) {
				return;
			}
			watch.closeScheduled = true;
		}
		this.held.schedule(() -> lingered(watch), LINGER_NANOS);
	}

	/**
	 * Closes a watch that stayed idle for the linger time; checks again later when it was
	 * used meanwhile and is idle once more.
	 */
	private void lingered(KeyWatch watch) {
		synchronized (this.monitor) {
			watch.closeScheduled = false;
			if (watch.users > 0) {
				return;
			}
			long idle = System.nanoTime() - watch.idleSince;
			if (idle < LINGER_NANOS && !watch.isClosed()) {
				watch.closeScheduled = true;
				this.held.schedule(() -> lingered(watch), LINGER_NANOS - idle);
				return;
			}
			this.watches.remove(watch.key, watch);
		}
		watch.close();
	}

	/**
	 * The watches open now, idle ones included.
	 * @return the number of watches
	 */
	int open() {
		synchronized (this.monitor) {
			return this.watches.size();
		}
	}

	/**
	 * Closes every watch; a subscription after this fails.
	 */
	@Override
	public void close() {
		List<KeyWatch> open;
		synchronized (this.monitor) {
			if (this.closed) {
				return;
			}
			this.closed = true;
			open = new ArrayList<>(this.watches.values());
			this.watches.clear();
		}
		open.forEach(KeyWatch::close);
	}

	/**
	 * Wakes this repository's waiters of a key at once, as a release notification would.
	 * @param key the lock key
	 */
	void released(String key) {
		this.listeners.released(key);
	}

	/**
	 * One watch of a key's range for deletions, shared by the key's local subscribers.
	 */
	private final class KeyWatch implements Watch.Listener {

		final String key;

		// Guarded by the monitor.
		int users;

		// When the last subscriber left (System.nanoTime()); guarded by the monitor.
		long idleSince;

		// Whether a check for closing it is scheduled; guarded by the monitor.
		boolean closeScheduled;

		private final CompletableFuture<Void> created = new CompletableFuture<>();

		private final AtomicBoolean closed = new AtomicBoolean();

		private final Watch.Watcher watcher;

		private final ByteSequence holders;

		private final ByteSequence wakeLine;

		private final ByteSequence place;

		KeyWatch(String key) {
			this.key = key;
			EtcdKeys keys = EtcdKeyWatches.this.keys;
			this.holders = keys.holdersPrefix(key);
			this.wakeLine = keys.wakePrefix(key);
			this.place = keys.placeKey(key, EtcdKeyWatches.this.instance);
			// The holders (ns k \0), writer waits, queue and wake line (up to ns k \3):
			// one range, so that a release's deletions come in one response.
			WatchOption option = WatchOption.builder()
				.withRange(keys.watchEnd(key))
				.withNoPut(true)
				.withCreateNotify(true)
				.build();
			this.watcher = EtcdKeyWatches.this.watchClient.watch(this.holders, option, this);
		}

		/**
		 * Waits until etcd confirmed the watch, so that no release after the subscription
		 * is missed. A watch that is not confirmed in time stays (jetcd keeps trying);
		 * waiters poll meanwhile.
		 */
		void awaitCreated(Duration timeout) {
			try {
				this.created.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			catch (ExecutionException | TimeoutException ex) {
				logger.debug(ex, () -> "Watch of '" + this.key + "' not confirmed within " + timeout);
			}
		}

		@Override
		public void onNext(WatchResponse response) {
			if (response.isCreatedNotify()) {
				this.created.complete(null);
				return;
			}
			boolean holderGone = false;
			boolean placeGone = false;
			boolean otherPlaceGone = false;
			for (WatchEvent event : response.getEvents()) {
				if (event.getEventType() != WatchEvent.EventType.DELETE) {
					continue;
				}
				ByteSequence deleted = event.getKeyValue().getKey();
				if (deleted.startsWith(this.holders)) {
					holderGone = true;
				}
				else if (deleted.equals(this.place)) {
					placeGone = true;
				}
				else if (deleted.startsWith(this.wakeLine)) {
					otherPlaceGone = true;
				}
			}
			// A place deleted alone is a grant's, a withdrawal's or an expiry's: it wakes
			// nobody. Writer waits and the fair queue (which has its own watch) neither.
			if (placeGone || (holderGone && !otherPlaceGone)) {
				EtcdKeyWatches.this.listeners.released(this.key);
			}
		}

		@Override
		public void onError(Throwable failure) {
			// jetcd resumes the watch where it stopped; wake the waiters anyway, in case
			// the resumption misses a release.
			logger.debug(failure, () -> "Watch of '" + this.key + "' failed");
			EtcdKeyWatches.this.listeners.released(this.key);
		}

		@Override
		public void onCompleted() {
			this.closed.set(true);
			EtcdKeyWatches.this.listeners.released(this.key);
		}

		boolean isClosed() {
			return this.closed.get();
		}

		void close() {
			this.closed.set(true);
			try {
				this.watcher.close();
			}
			catch (RuntimeException ex) {
				logger.debug(ex, "Closing a watch failed");
			}
		}

	}

}
