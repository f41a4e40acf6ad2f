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

import java.util.concurrent.CompletableFuture;

/**
 * An extra ability of a backend that keeps its own first-in, first-out queue of waiters
 * per key and grants a key to the next waiter itself when it frees: a hand-off then costs
 * one message instead of a release notification followed by a new attempt.
 * {@code LockTemplate} uses it for every wait longer than zero.
 *
 * <pre class="code">
 * CompletableFuture&lt;QueuedGrant&gt; grant = repository.acquireQueued(lease);
 * try {
 *     long fencingToken = grant.get(5, TimeUnit.SECONDS).fencingToken();
 * }
 * catch (TimeoutException ex) {
 *     if (!repository.cancelQueued(lease)) {
 *         long fencingToken = grant.join().fencingToken(); // granted meanwhile: the lease is ours
 *     }
 * }
 * </pre>
 * <p>
 * A backend that also offers this must keep {@link #tryAcquire} and
 * {@link #tryAcquirePermit} fair for the leases it queues: a key with queued waiters is
 * not free for a single attempt of such a lease.
 * <p>
 * A backend may queue only some leases ({@link #queues(LeaseSpec)}): the etcd, Redis and
 * memory backends queue the exclusive leases that ask for fairness
 * ({@link LeaseSpec#fair()}, see {@code dev.latchkey.support.FairExclusiveQueueing}) and
 * let the others wait as every backend does. {@link #isFair(LeaseMode)} says for which
 * modes a fair lease is served strictly first come, first served across instances; that
 * is what {@code fair = true} ({@code LockOperation.fair}, {@code latchkey.fair}) needs.
 *
 * @since 0.1.0
 */
public interface QueueingLockRepository extends LockRepository {

	/**
	 * Whether this backend queues a lease when its caller waits: {@code LockTemplate}
	 * then waits with {@link #acquireQueued}, otherwise with single attempts woken by
	 * release notifications. The default queues every lease.
	 *
	 * <pre class="code">
	 * if (repository.queues(lease)) {
	 *     CompletableFuture&lt;QueuedGrant&gt; grant = repository.acquireQueued(lease);
	 * }
	 * </pre>
	 * @param lease the lease a caller waits for
	 * @return whether it waits in the backend's queue
	 */
	default boolean queues(LeaseSpec lease) {
		return true;
	}

	/**
	 * Whether a lease of the mode that asks for fairness ({@link LeaseSpec#fair()}) is
	 * granted strictly in the order its request joined the queue, across every instance
	 * on the backend. The default answers {@code true}: a backend that queues every lease
	 * serves its queue in order.
	 *
	 * <pre class="code">
	 * boolean fairExclusive = repository.isFair(LeaseMode.EXCLUSIVE);
	 * </pre>
	 * @param mode the lease mode
	 * @return whether fair leases of that mode are served first come, first served
	 */
	default boolean isFair(LeaseMode mode) {
		return true;
	}

	/**
	 * Acquires the lease at once if the key is free, or queues the request behind the
	 * key's earlier waiters.
	 * @param lease the lease to acquire, of either mode
	 * @return completes with the grant when the lease is granted; completes exceptionally
	 * if the backend fails or loses the queue (the caller may queue again)
	 */
	CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease);

	/**
	 * Withdraws a queued request.
	 * @param lease the lease that was queued
	 * @return {@code true} if it was withdrawn before being granted; {@code false} if it
	 * had been granted (the lease is then held, and the future of {@link #acquireQueued}
	 * completes with its fencing token) or was no longer queued
	 */
	boolean cancelQueued(LeaseSpec lease);

	/**
	 * A queued request's grant. The grant may be read long after it was made (the
	 * waiter's process was paused, say): its validity runs from when the backend made it,
	 * not from when it is read, so a grant read after its TTL is known to be stale.
	 *
	 * @param fencingToken the fencing token of the grant
	 * @param grantedAtNanos when the backend started the lease's TTL, on this process's
	 * {@link System#nanoTime()} clock; a backend that cannot tell answers when the
	 * request was sent, which is never later
	 */
	record QueuedGrant(long fencingToken, long grantedAtNanos) {
	}

}
