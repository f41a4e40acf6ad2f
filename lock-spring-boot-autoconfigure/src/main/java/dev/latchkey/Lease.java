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

import java.time.Duration;
import java.util.Optional;

/**
 * A lease this process holds on a key: what the guarded code sees. Ownership belongs to
 * the lease, not to a thread, so a lease may be used and released on any thread.
 *
 * <pre class="code">
 * &#64;Exclusive("ledger:#account")
 * public void post(String account, Entry entry) {
 *     Lease lease = LockContext.lease();
 *     ledgerStore.write(entry, lease.fencingToken()); // the store rejects writes with an older token
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public interface Lease {

	/**
	 * The lock key, with the configured prefix.
	 * @return the lock key
	 */
	String key();

	/**
	 * The lock's name, as used in events and metrics.
	 * @return the lock's name
	 */
	String name();

	/**
	 * Whether the key is held exclusively or as a semaphore permit.
	 * @return the lease mode
	 */
	LeaseMode mode();

	/**
	 * How many holders the key allows at once: 1 for an exclusive lease, the permits of a
	 * semaphore.
	 * @return the number of permits
	 */
	int permits();

	/**
	 * The owner name of this process.
	 * @return the owner name
	 */
	String owner();

	/**
	 * The fencing token of this grant: it strictly increases for each grant of the same
	 * key, so a downstream store can reject writes from a holder whose lease was taken
	 * over.
	 * @return the fencing token
	 */
	long fencingToken();

	/**
	 * The lease's time-to-live at the backend.
	 * @return the time-to-live
	 */
	Duration ttl();

	/**
	 * How many times the lease has been renewed at the backend since it was granted.
	 * @return the number of successful renewals
	 */
	long renewals();

	/**
	 * The time until the backend expires the lease unless it is renewed again, as this
	 * process estimates it from its last renewal (the backend's clock decides; this
	 * estimate errs early by the request's round trip).
	 * @return the estimated remaining time-to-live, zero once past
	 */
	Duration remainingTtl();

	/**
	 * How long the lease has been held.
	 * @return the time since it was granted
	 */
	Duration heldFor();

	/**
	 * The longest this lease may be held ({@code maxHold}, {@code latchkey.max-hold}):
	 * when {@link #heldFor()} reaches it, renewal stops and the lease is lost with
	 * {@link LossReason#MAX_HOLD_EXCEEDED}.
	 *
	 * <pre class="code">
	 * lease.maxHold().ifPresent((max) -&gt; log.info("must finish within " + max.minus(lease.heldFor())));
	 * </pre>
	 * @return the maximum hold time, or empty when the lease has no limit
	 */
	Optional<Duration> maxHold();

	/**
	 * What the holder said it does ({@link LockOperation#description(String)}, the
	 * {@code description} of an annotation), as the backend stores it with the lease.
	 *
	 * <pre class="code">
	 * lease.description().ifPresent((text) -&gt; log.info("holding " + lease.key() + " for " + text));
	 * </pre>
	 * @return the description, or empty when the lease has none
	 */
	default Optional<String> description() {
		return Optional.empty();
	}

	/**
	 * Whether this process still holds the lease: not released, not lost, and within its
	 * local validity deadline (which ends a safety margin before the backend could expire
	 * it) and its {@link #maxHold() maximum hold time}.
	 * @return {@code true} while the lease may be relied on
	 */
	boolean isValid();

	/**
	 * Throws unless {@link #isValid()}.
	 * @throws LockLostException if the lease was lost or its validity ran out
	 * @throws IllegalStateException if the lease was released
	 */
	void assertValid();

}
