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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.LockBackendException;
import dev.latchkey.ReleaseSubscription;

/**
 * The etcd leases of one repository: one per <em>time-to-live class</em> (a lock's TTL
 * rounded up to whole seconds, as etcd counts them), granted on first use and kept alive
 * by jetcd's keep-alive stream, so that the keep-alive traffic depends on the number of
 * distinct TTLs in use, never on the number of held locks. A lease that etcd reports
 * expired or revoked, or whose keep-alive went unanswered for its TTL, is dropped from
 * the pool and its loss announced to the loss listeners; so is, once per outage, a
 * keep-alive stream that failed.
 */
final class EtcdLeasePool implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(EtcdLeasePool.class);

	private final Lease leaseClient;

	private final EtcdRequests requests;

	private final Object monitor = new Object();

	private final Map<Long, SharedLease> leases = new ConcurrentHashMap<>();

	private final List<Runnable> lossListeners = new CopyOnWriteArrayList<>();

	private volatile boolean closed;

	EtcdLeasePool(Lease leaseClient, EtcdRequests requests) {
		this.leaseClient = leaseClient;
		this.requests = requests;
	}

	/**
	 * The live shared lease of a TTL's class, granted now if there is none.
	 * @throws dev.latchkey.LockBackendException if etcd does not grant it, or the pool is
	 * closed
	 */
	SharedLease lease(Duration ttl) {
		long seconds = ttlClass(ttl);
		SharedLease shared = this.leases.get(seconds);
		if (shared != null && shared.alive) {
			return shared;
		}
		synchronized (this.monitor) {
			if (this.closed) {
				throw EtcdRequests.closed();
			}
			shared = this.leases.get(seconds);
			if (shared != null && shared.alive) {
				return shared;
			}
			long id = this.requests
				.call(() -> "Granting a lease of " + seconds + " s", () -> this.leaseClient.grant(seconds))
				.getID();
			shared = new SharedLease(seconds, id);
			this.leases.put(seconds, shared);
			shared.keepAlive();
			return shared;
		}
	}

	/**
	 * Keeps a shared lease alive once, now: renewal's proof that the keys attached to it
	 * still exist, which also resets its TTL at etcd from now.
	 * @return {@code true} if etcd kept it alive; {@code false} if it had ended (it is
	 * then dropped from the pool, and its loss announced)
	 * @throws dev.latchkey.LockBackendException if etcd does not answer
	 */
	boolean keepAliveOnce(SharedLease shared) {
		if (!shared.alive) {
			return false;
		}
		long ttl;
		try {
			ttl = this.requests
				.call(() -> "Keeping etcd lease " + Long.toHexString(shared.id) + " alive",
						() -> this.leaseClient.keepAliveOnce(shared.id))
				.getTTL();
		}
		catch (LockBackendException ex) {
			if (!EtcdRequests.isLeaseNotFound(ex)) {
				throw ex;
			}
			ttl = 0;
		}
		if (ttl > 0) {
			return true;
		}
		shared.expired("etcd reports it expired or revoked");
		return false;
	}

	/**
	 * Whether a lease of the given TTL belongs on the shared lease of another class than
	 * this one.
	 */
	static boolean isOtherClass(Duration ttl, SharedLease shared) {
		return ttlClass(ttl) != shared.seconds;
	}

	/**
	 * The TTL class of a lease: its TTL in whole seconds, rounded up, as etcd grants
	 * leases.
	 * @param ttl the lease's TTL
	 * @return the seconds of the etcd lease that carries it
	 */
	static long ttlClass(Duration ttl) {
		return Math.max(1, (ttl.toMillis() + 999) / 1000);
	}

	ReleaseSubscription subscribeToLoss(Runnable onPossibleLoss) {
		Runnable listener = onPossibleLoss::run;
		this.lossListeners.add(listener);
		return () -> this.lossListeners.remove(listener);
	}

	private void possibleLoss() {
		for (Runnable listener : this.lossListeners) {
			try {
				listener.run();
			}
			catch (RuntimeException ex) {
				logger.warn(ex, "Loss listener failed");
			}
		}
	}

	/**
	 * Stops the keep-alives and revokes the leases, which deletes every key attached to
	 * them.
	 */
	@Override
	public void close() {
		List<SharedLease> granted;
		synchronized (this.monitor) {
			this.closed = true;
			granted = new ArrayList<>(this.leases.values());
			this.leases.clear();
		}
		for (SharedLease shared : granted) {
			shared.revoke();
		}
	}

	/**
	 * One etcd lease that the keys of every lock of one TTL class are attached to, kept
	 * alive by jetcd's keep-alive stream.
	 */
	final class SharedLease implements StreamObserver<LeaseKeepAliveResponse> {

		final long seconds;

		final long id;

		volatile boolean alive = true;

		private volatile boolean answering = true;

		private @Nullable CloseableClient keepAlive;

		SharedLease(long seconds, long id) {
			this.seconds = seconds;
			this.id = id;
		}

		void keepAlive() {
			this.keepAlive = EtcdLeasePool.this.leaseClient.keepAlive(this.id, this);
		}

		@Override
		public void onNext(LeaseKeepAliveResponse response) {
			this.answering = true;
		}

		@Override
		public void onError(Throwable failure) {
			if (EtcdRequests.isLeaseNotFound(failure)) {
				expired("etcd reports it expired or revoked");
				return;
			}
			// jetcd restarts the stream itself; tell the core once per outage, so it
			// verifies its leases now.
			logger.debug(failure, () -> "Keep-alive of etcd lease " + Long.toHexString(this.id) + " failed");
			if (this.answering) {
				this.answering = false;
				possibleLoss();
			}
		}

		@Override
		public void onCompleted() {
			// jetcd completes a keep-alive when the lease's TTL passed without an answer:
			// etcd has expired it.
			expired("its keep-alive went unanswered for its TTL");
		}

		/**
		 * Drops the lease from the pool and tells the loss listeners that the locks on it
		 * are lost.
		 */
		void expired(String why) {
			if (!this.alive) {
				return;
			}
			this.alive = false;
			EtcdLeasePool.this.leases.remove(this.seconds, this);
			closeKeepAlive();
			if (!EtcdLeasePool.this.closed) {
				logger.warn(() -> "etcd lease " + Long.toHexString(this.id) + " (TTL " + this.seconds + " s) is lost: "
						+ why + "; the locks on it are lost");
				possibleLoss();
			}
		}

		void revoke() {
			this.alive = false;
			closeKeepAlive();
			try {
				EtcdLeasePool.this.leaseClient.revoke(this.id).get(1, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			catch (ExecutionException | TimeoutException | RuntimeException ex) {
				logger.debug(ex, () -> "Could not revoke etcd lease " + Long.toHexString(this.id)
						+ "; it expires after its TTL");
			}
		}

		private void closeKeepAlive() {
			CloseableClient keepAlive = this.keepAlive;
			if (keepAlive != null) {
				try {
					keepAlive.close();
				}
				catch (RuntimeException ex) {
					logger.debug(ex, "Closing a keep-alive failed");
				}
			}
		}

	}

}
