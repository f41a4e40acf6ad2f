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

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

import org.springframework.util.Assert;

/**
 * The service provider interface every backend implements: atomic, single attempts
 * against the store that holds the locks. A repository never waits, loops or schedules;
 * waiting, renewal, reentrancy, events and metrics are written once, above it, in
 * {@link LockTemplate}.
 * <p>
 * Normal outcomes are return values: an empty result when a key is held elsewhere, a lost
 * token when a lease is no longer ours. Exceptions mean the backend itself failed
 * (unreachable, timed out, misconfigured) and should be {@link LockBackendException}s.
 * <p>
 * The backend's clock decides expiry. Every grant carries a fencing token that strictly
 * increases for each grant of the same key, across all modes. A key has one mode at a
 * time: exclusive, a semaphore's permits, or shared.
 * <p>
 * <strong>Read/write locks.</strong> A backend that supports them implements
 * {@link #tryAcquireShared}, {@link #tryAcquireWaiting} and {@link #stopWaiting}. Writers
 * are preferred: an exclusive caller that is refused and keeps waiting records a
 * <em>writer wait</em> on the key ({@link #tryAcquireWaiting}), identified by its token
 * and expiring its lease's TTL after the attempt, which further attempts of that caller
 * renew (at the latest once a third of the TTL has passed since it was last written: a
 * backend that needs a request of its own for that may skip it in between). While a key
 * has an unexpired writer wait, {@link #tryAcquireShared} admits no new shared holder, so
 * the shared holders drain and the writer gets in. The wait ends when its token is
 * granted, when the caller gives up ({@link #stopWaiting}), or when it expires, so a
 * waiter that died never keeps readers out for longer than its TTL. A backend that keeps
 * its own FIFO queue ({@link QueueingLockRepository}) gets the same order from the queue.
 *
 * <pre class="code">
 * LeaseSpec lease = LeaseSpec.exclusive("order:42", owner, token, Duration.ofSeconds(30));
 * OptionalLong fencingToken = repository.tryAcquire(lease);
 * if (fencingToken.isPresent()) {
 *     try {
 *         // guarded work
 *     }
 *     finally {
 *         repository.release(lease);
 *     }
 * }
 * </pre>
 * <p>
 * Every implementation must pass the backend contract test suite.
 *
 * @since 0.1.0
 */
public interface LockRepository {

	/**
	 * The short name of this backend, as used in events, metrics and
	 * {@code latchkey.backend}.
	 * @return the backend name, for example {@code "memory"}
	 */
	String backend();

	/**
	 * Tries once to acquire an exclusive lease. Succeeds when the key is free or its
	 * previous lease has expired.
	 * @param lease the lease to grant, of mode {@link LeaseMode#EXCLUSIVE}
	 * @return the fencing token of the grant, or empty when the key is held elsewhere
	 */
	OptionalLong tryAcquire(LeaseSpec lease);

	/**
	 * Tries once to acquire exclusive leases of several keys, all or none: every lease is
	 * granted, each with its own fencing token (which rises for its key as a
	 * {@link #tryAcquire} grant's does), or none is, when any key is held elsewhere. Like
	 * every method of this interface it never waits: a lock of several keys that waits
	 * does so key by key, in canonical order ({@link LockTemplate} does), and calls this
	 * method only for its first attempt.
	 * <p>
	 * The default takes the keys one after the other with {@link #tryAcquire}, in the
	 * order given, and releases what it took, in reverse order, as soon as one is held:
	 * all or none in its outcome, but not atomic, so another instance may for a moment
	 * find a key held that this call gives back. A backend that can do it in one round
	 * trip overrides it (one Redis script, one etcd transaction, one database
	 * transaction), and then no other instance ever sees part of the keys taken.
	 * <p>
	 * When this method throws, any of the leases may have been granted at the backend (an
	 * answer may have been lost): the caller releases each of them by its token, as
	 * {@code LockTemplate} does.
	 *
	 * <pre class="code">
	 * List&lt;LeaseSpec&gt; leases = List.of(LeaseSpec.exclusive("account:1", owner, token1, ttl),
	 *         LeaseSpec.exclusive("account:2", owner, token2, ttl));
	 * List&lt;Long&gt; fencingTokens = repository.tryAcquireAll(leases);
	 * if (!fencingTokens.isEmpty()) {
	 *     try {
	 *         // guarded work; fencingTokens.get(i) is the token of leases.get(i)
	 *     }
	 *     finally {
	 *         leases.forEach(repository::release);
	 *     }
	 * }
	 * </pre>
	 * @param leases the leases to grant, of mode {@link LeaseMode#EXCLUSIVE}, one per key
	 * (no key twice), at least one
	 * @return the fencing tokens of the grants, in the order of the leases, or an empty
	 * list when any key is held elsewhere (and then none is granted)
	 */
	default List<Long> tryAcquireAll(List<LeaseSpec> leases) {
		checkAll(leases);
		List<Long> fencingTokens = new ArrayList<>(leases.size());
		try {
			for (LeaseSpec lease : leases) {
				OptionalLong granted = tryAcquire(lease);
				if (granted.isEmpty()) {
					releaseTaken(leases, fencingTokens.size());
					return List.of();
				}
				fencingTokens.add(granted.getAsLong());
			}
		}
		catch (RuntimeException ex) {
			try {
				releaseTaken(leases, fencingTokens.size());
			}
			catch (RuntimeException releaseFailure) {
				ex.addSuppressed(releaseFailure);
			}
			throw ex;
		}
		return List.copyOf(fencingTokens);
	}

	/**
	 * Checks the argument of {@link #tryAcquireAll}: at least one lease, each exclusive,
	 * no key twice. Overrides of that method call it first.
	 * @param leases the leases to grant together
	 * @throws IllegalArgumentException if they cannot be granted together
	 */
	static void checkAll(List<LeaseSpec> leases) {
		Assert.notEmpty(leases, "tryAcquireAll needs at least one lease");
		Set<String> keys = new HashSet<>();
		for (LeaseSpec lease : leases) {
			Assert.isTrue(lease.mode() == LeaseMode.EXCLUSIVE,
					() -> "tryAcquireAll takes exclusive leases, not " + lease.mode() + " of '" + lease.key() + "'");
			Assert.isTrue(keys.add(lease.key()), () -> "tryAcquireAll takes each key once: '" + lease.key() + "'");
		}
	}

	private void releaseTaken(List<LeaseSpec> leases, int taken) {
		for (int i = taken - 1; i >= 0; i--) {
			release(leases.get(i));
		}
	}

	/**
	 * Tries once to acquire one permit of a counting semaphore. Succeeds when fewer than
	 * {@link LeaseSpec#limit()} unexpired permits are held.
	 * @param lease the permit to grant, of mode {@link LeaseMode#SEMAPHORE}
	 * @return the fencing token of the grant, or empty when all permits are held
	 */
	OptionalLong tryAcquirePermit(LeaseSpec lease);

	/**
	 * Tries once to acquire a shared lease: the read side of a read/write lock. Succeeds
	 * when the key is free or held shared, and no writer waits for it (see
	 * {@link #tryAcquireWaiting}). The default refuses: a backend without read/write
	 * locks throws a {@link LockConfigurationException} naming itself.
	 * @param lease the lease to grant, of mode {@link LeaseMode#SHARED}
	 * @return the fencing token of the grant, or empty when the key is held exclusively,
	 * in another mode, or a writer waits for it
	 * @throws LockConfigurationException if the backend has no read/write locks
	 */
	default OptionalLong tryAcquireShared(LeaseSpec lease) {
		throw new LockConfigurationException("The " + backend() + " backend does not support shared (read/write) locks",
				"Use @Exclusive (LockTemplate.exclusive) for this key, or a backend with read/write locks");
	}

	/**
	 * Tries once to acquire an exclusive lease for a caller that keeps waiting if it is
	 * refused: as {@link #tryAcquire}, and a refusal records (or renews) a writer wait
	 * for the lease's token, expiring the lease's TTL from now, during which no new
	 * shared lease of the key is granted. A grant of the token removes its wait. The
	 * default is {@link #tryAcquire}: a backend without shared leases has nothing to hold
	 * back.
	 * @param lease the lease to grant, of mode {@link LeaseMode#EXCLUSIVE}
	 * @return the fencing token of the grant, or empty when the key is held elsewhere
	 */
	default OptionalLong tryAcquireWaiting(LeaseSpec lease) {
		return tryAcquire(lease);
	}

	/**
	 * Removes the writer wait that {@link #tryAcquireWaiting} recorded for a lease's
	 * token, when its caller gives up waiting; nothing if there is none. The default does
	 * nothing.
	 * @param lease the lease whose caller no longer waits
	 */
	default void stopWaiting(LeaseSpec lease) {
	}

	/**
	 * Renews a batch of leases in one call: each lease still held extends to the
	 * backend's now plus its own {@link LeaseSpec#ttl()}. The traffic of one call must
	 * not grow with the number of leases (one script, one statement, one shared lease).
	 * @param leases the leases to renew
	 * @return the tokens of the leases that are no longer held (expired or taken), which
	 * were not renewed
	 */
	Set<String> renew(Collection<LeaseSpec> leases);

	/**
	 * The most leases one {@link #renew} call should name: a hint for backends whose
	 * renewal costs the server work per lease, so that no one call holds it for long. The
	 * core's lease keeper renews a larger batch in several calls, one after the other,
	 * and times each lease's renewal from when its own call was sent, so that a lease in
	 * a late call keeps the validity it would have had in a call of its own. The default
	 * is no limit, for backends whose renewal costs the same whatever the number of
	 * leases.
	 *
	 * <pre class="code">
	 * int perCall = repository.renewalBatchSize(); // Redis: 2,000
	 * </pre>
	 * @return the most leases per renewal call, at least 1
	 * @since 0.2.0
	 */
	default int renewalBatchSize() {
		return Integer.MAX_VALUE;
	}

	/**
	 * Releases a lease, only if it is still held by its token: never deletes another
	 * owner's lease. Waiters of the key are notified.
	 * @param lease the lease to release
	 * @return {@code true} if the lease was held and is now released, {@code false} if it
	 * was no longer held
	 */
	boolean release(LeaseSpec lease);

	/**
	 * Releases an exclusive lease, as {@link #release(LeaseSpec)} does, while another
	 * caller of this process waits for its key, and keeps this process in line for that
	 * caller in the same request: the backend records the caller's writer wait (see
	 * {@link #tryAcquireWaiting}) and, if the release wakes another instance's waiters,
	 * keeps this process in the key's wake line, behind the instances already in it. That
	 * is what the caller's own refused attempt would have done, so the caller waits for a
	 * release without asking while the key is held here, which saves that attempt.
	 * {@code LockTemplate} calls it only when {@link #keepsWaitersInLine()} answers
	 * {@code true}; the default releases the lease.
	 *
	 * <pre class="code">
	 * boolean released = repository.keepsWaitersInLine() ? repository.release(lease, nextWaiter)
	 *         : repository.release(lease);
	 * </pre>
	 * @param lease the exclusive lease to release
	 * @param waiter the lease of the next caller of this process that waits for the key,
	 * of mode {@link LeaseMode#EXCLUSIVE}
	 * @return {@code true} if the lease was held and is now released, {@code false} if it
	 * was no longer held (nothing is recorded for the waiter then)
	 * @since 0.2.0
	 */
	default boolean release(LeaseSpec lease, LeaseSpec waiter) {
		return release(lease);
	}

	/**
	 * Whether {@link #handOver} may give this exclusive lease's key to a waiter of this
	 * process now. Answered from what the repository knows, without a request, so that
	 * {@code LockTemplate} sets its next waiter aside for a hand-over only where one can
	 * be made. The default answers {@code false}.
	 *
	 * <pre class="code">
	 * OptionalLong handed = repository.handsOver(lease) ? repository.handOver(lease, nextWaiter)
	 *         : OptionalLong.empty();
	 * </pre>
	 * @param lease the exclusive lease about to be released
	 * @return whether a hand-over may be tried
	 * @since 0.2.0
	 */
	default boolean handsOver(LeaseSpec lease) {
		return false;
	}

	/**
	 * Gives an exclusive lease's key straight to the next caller of this process that
	 * waits for it, in one request: the lease ends and the waiter's begins, with a new
	 * fencing token, as if the lease were released and the waiter's attempt granted at
	 * once, but with no moment between them in which the key is free. A backend hands
	 * over only while no other instance waits for the key (it says how it knows), so an
	 * instance cannot keep a key from the others' waiters by handing it round its own
	 * callers. {@code LockTemplate} calls it, when {@link #handsOver} answers
	 * {@code true}, instead of {@link #release(LeaseSpec, LeaseSpec)}, and gives the
	 * grant to the waiter.
	 *
	 * <pre class="code">
	 * OptionalLong handed = repository.handOver(lease, nextWaiter);
	 * if (handed.isEmpty()) {
	 *     repository.release(lease, nextWaiter); // still held: release as usual
	 * }
	 * </pre>
	 * @param lease the exclusive lease to end
	 * @param waiter the lease of the next caller of this process that waits for the key,
	 * of mode {@link LeaseMode#EXCLUSIVE}
	 * @return the fencing token of the waiter's grant, or empty when the key was not
	 * handed over: nothing changed then (the lease is held still, if it was), and the
	 * caller releases it as usual. The default answers empty.
	 * @since 0.2.0
	 */
	default OptionalLong handOver(LeaseSpec lease, LeaseSpec waiter) {
		return OptionalLong.empty();
	}

	/**
	 * Whether {@link #release(LeaseSpec, LeaseSpec)} keeps this process in line for its
	 * next waiter. When it does, a caller of this process that becomes the first waiter
	 * for a key while another caller of this process holds it, granted from the same
	 * line, waits for that holder's release (or its next poll) before asking, instead of
	 * asking at once and being refused. The default answers {@code false}: the first
	 * waiter asks at once, as a refused attempt is what keeps this process in the key's
	 * line on a backend that wakes one instance per release.
	 *
	 * <pre class="code">
	 * boolean waitsForLocalHolder = repository.keepsWaitersInLine();
	 * </pre>
	 * @return whether a release keeps this process in line for its next waiter
	 * @since 0.2.0
	 */
	default boolean keepsWaitersInLine() {
		return false;
	}

	/**
	 * Releases every lease on a key, whoever holds it: an operator's tool (the
	 * {@code locks} endpoint's delete operation), never used by the core. The key's
	 * fencing counter is bumped, so that the next grant's token is higher than any the
	 * evicted holders could still present; their next renewal reports their leases lost.
	 * Waiters of the key are notified.
	 * @param key the lock key, prefix included
	 * @return {@code true} if the key was held and is now free
	 */
	boolean forceRelease(String key);

	/**
	 * Describes one key.
	 * @param key the lock key
	 * @return the key's holders, or empty when nobody holds it
	 */
	Optional<LockInfo> inspect(String key);

	/**
	 * Lists the held keys: those of every instance where the backend can tell, else those
	 * of this instance.
	 * @return the held keys, ordered by key
	 */
	List<LockInfo> list();

	/**
	 * How many requests wait for a key now, across every instance: an optional ability,
	 * for backends that see their waiters (the socket backend's arbiter keeps their
	 * queues). The default answers empty: the backend cannot tell.
	 *
	 * <pre class="code">
	 * repository.waiters("order:42").ifPresent((n) -&gt; log.info(n + " waiting"));
	 * </pre>
	 * @param key the lock key
	 * @return the number of waiters, or empty when the backend cannot tell
	 */
	default OptionalInt waiters(String key) {
		return OptionalInt.empty();
	}

	/**
	 * Whether this backend itself wakes this process's waiters (those it told through
	 * {@link #subscribe}) when this process releases a key: a backend that chooses which
	 * instance's waiters a release wakes, and wakes no other. {@code LockTemplate} then
	 * leaves waking to it; otherwise, as by default, it wakes this process's waiters of a
	 * key right after releasing it, which is quicker than a notification.
	 *
	 * <pre class="code">
	 * if (!repository.wakesWaitersOfItsOwnReleases()) {
	 *     wakeLocalWaiters(lease.key());
	 * }
	 * </pre>
	 * @return whether a release made by this process wakes only the waiters the backend
	 * chooses, this process's included
	 */
	default boolean wakesWaitersOfItsOwnReleases() {
		return false;
	}

	/**
	 * Subscribes to the release notifications of one key, so that waiting is woken by the
	 * backend rather than by polling. The listener may be called from any thread, must
	 * return quickly and may be called spuriously.
	 * @param key the lock key
	 * @param onRelease called when a lease on the key is released
	 * @return the subscription, to close when no longer waiting;
	 * {@link ReleaseSubscription#NONE} if the backend cannot notify
	 */
	ReleaseSubscription subscribe(String key, Runnable onRelease);

	/**
	 * Subscribes to the backend's signal that held leases may have been lost all at once,
	 * for example because the connection that owned them closed. The core then renews its
	 * leases at once, rather than at the next renewal, and learns from {@link #renew}
	 * which are lost. The default answers {@link ReleaseSubscription#NONE}: losses are
	 * found at the next renewal.
	 * @param onPossibleLoss called, from any thread, when leases may have been lost
	 * @return the subscription, closed when the core stops
	 */
	default ReleaseSubscription subscribeToLoss(Runnable onPossibleLoss) {
		return ReleaseSubscription.NONE;
	}

}
