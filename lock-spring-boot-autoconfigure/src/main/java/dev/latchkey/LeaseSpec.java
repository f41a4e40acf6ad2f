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

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * What a backend is asked to grant, renew or release: one lease on one key.
 * <p>
 * A lease is identified by its {@code token}, a value unique to one acquisition;
 * ownership belongs to the token, never to a thread. The {@code owner} is descriptive
 * only (shown by inspection); backends compare tokens.
 *
 * <pre class="code">
 * LeaseSpec lease = LeaseSpec.exclusive("order:42", "billing@host-1:4711", token, Duration.ofSeconds(30));
 * OptionalLong fencingToken = repository.tryAcquire(lease);
 *
 * LeaseSpec described = lease.withDescription("nightly import 2026-12-05");
 * </pre>
 * <p>
 * A backend stores the {@code description}, if any, with the holder when it grants the
 * lease, and gives it back in {@link LockInfo.Holder#description()} from
 * {@link LockRepository#inspect(String)} and {@link LockRepository#list()}.
 *
 * @param key the lock key, with the configured prefix already applied
 * @param mode whether the key is held exclusively, as a semaphore permit or shared
 * @param permits the number of holders allowed at once: the semaphore's permits, 1 for
 * the other modes
 * @param owner the human-readable name of the owning instance
 * @param token the unique token of this acquisition
 * @param ttl how long the backend keeps the lease without a renewal
 * @param description what the holder is doing, shown beside its owner by inspection, or
 * {@code null} for none: at most {@value #MAX_DESCRIPTION_LENGTH} characters, no control
 * characters (an empty one is taken as none)
 * @param fair whether the caller asks to be served first come, first served across
 * instances (see {@link #withFair(boolean)}); only a backend whose
 * {@link QueueingLockRepository#isFair(LeaseMode)} answers {@code true} for the mode
 * honours it
 * @since 0.1.0
 */
public record LeaseSpec(String key, LeaseMode mode, int permits, String owner, String token, Duration ttl,
		@Nullable String description, boolean fair) {

	/**
	 * The longest {@link #description() description} a lease takes, in characters
	 * ({@code char}s).
	 */
	public static final int MAX_DESCRIPTION_LENGTH = 200;

	public LeaseSpec {
		Assert.hasText(key, "Lock key must not be empty");
		Assert.notNull(mode, "Lease mode must not be null");
		Assert.isTrue(permits >= 1, () -> "Permits must be at least 1, was " + permits);
		Assert.isTrue(mode == LeaseMode.SEMAPHORE || permits == 1, "Only a semaphore's lease has more than 1 permit");
		Assert.hasText(owner, "Owner must not be empty");
		Assert.hasText(token, "Token must not be empty");
		Assert.notNull(ttl, "TTL must not be null");
		Assert.isTrue(!ttl.isNegative() && !ttl.isZero(), () -> "TTL must be positive, was " + ttl);
		description = checkDescription(description);
	}

	/**
	 * A lease without a description.
	 * @param key the lock key, with the configured prefix already applied
	 * @param mode whether the key is held exclusively, as a semaphore permit or shared
	 * @param permits the number of holders allowed at once
	 * @param owner the human-readable name of the owning instance
	 * @param token the unique token of this acquisition
	 * @param ttl how long the backend keeps the lease without a renewal
	 */
	public LeaseSpec(String key, LeaseMode mode, int permits, String owner, String token, Duration ttl) {
		this(key, mode, permits, owner, token, ttl, null, false);
	}

	/**
	 * A lease that does not ask for fairness.
	 * @param key the lock key, with the configured prefix already applied
	 * @param mode whether the key is held exclusively, as a semaphore permit or shared
	 * @param permits the number of holders allowed at once
	 * @param owner the human-readable name of the owning instance
	 * @param token the unique token of this acquisition
	 * @param ttl how long the backend keeps the lease without a renewal
	 * @param description what the holder is doing, or {@code null} for none
	 */
	public LeaseSpec(String key, LeaseMode mode, int permits, String owner, String token, Duration ttl,
			@Nullable String description) {
		this(key, mode, permits, owner, token, ttl, description, false);
	}

	/**
	 * Checks a holder description, as {@link #withDescription(String)} and
	 * {@link LockOperation#description(String)} do: {@code null} or empty means none;
	 * otherwise at most {@value #MAX_DESCRIPTION_LENGTH} characters, without control
	 * characters (U+0000 to U+001F, U+007F to U+009F) or unpaired surrogates, which
	 * backends would store differently or logs and the endpoint would not show.
	 * @param description the description, or {@code null}
	 * @return the description, or {@code null} for none
	 * @throws IllegalArgumentException if the description is too long or holds a
	 * character it must not
	 */
	public static @Nullable String checkDescription(@Nullable String description) {
		if (description == null || description.isEmpty()) {
			return null;
		}
		if (description.length() > MAX_DESCRIPTION_LENGTH) {
			throw new IllegalArgumentException("Lock description of " + description.length()
					+ " characters is longer than the maximum of " + MAX_DESCRIPTION_LENGTH + ": '"
					+ LockKeys.excerpt(description) + "...'; shorten the description");
		}
		for (int i = 0; i < description.length(); i++) {
			char c = description.charAt(i);
			if (Character.isHighSurrogate(c) && i + 1 < description.length()
					&& Character.isLowSurrogate(description.charAt(i + 1))) {
				i++;
			}
			else if (Character.isISOControl(c) || Character.isSurrogate(c)) {
				throw new IllegalArgumentException("Lock description '" + LockKeys.excerpt(description)
						+ "' contains the " + (Character.isISOControl(c) ? "control character" : "unpaired surrogate")
						+ String.format(" U+%04X", (int) c) + " at index " + i
						+ "; write the description on one line, without control characters (U+0000 to U+001F,"
						+ " U+007F to U+009F) or unpaired surrogates");
			}
		}
		return description;
	}

	/**
	 * An exclusive lease.
	 * @param key the lock key
	 * @param owner the owner name
	 * @param token the unique token of this acquisition
	 * @param ttl how long the backend keeps the lease without a renewal
	 * @return the lease specification
	 */
	public static LeaseSpec exclusive(String key, String owner, String token, Duration ttl) {
		return new LeaseSpec(key, LeaseMode.EXCLUSIVE, 1, owner, token, ttl);
	}

	/**
	 * One permit of a counting semaphore.
	 * @param key the semaphore key
	 * @param permits the number of permits the semaphore has
	 * @param owner the owner name
	 * @param token the unique token of this acquisition
	 * @param ttl how long the backend keeps the permit without a renewal
	 * @return the lease specification
	 */
	public static LeaseSpec semaphore(String key, int permits, String owner, String token, Duration ttl) {
		return new LeaseSpec(key, LeaseMode.SEMAPHORE, permits, owner, token, ttl);
	}

	/**
	 * A shared lease: the read side of a read/write lock, held by any number of owners at
	 * once while no exclusive lease holds the key.
	 * @param key the lock key
	 * @param owner the owner name
	 * @param token the unique token of this acquisition
	 * @param ttl how long the backend keeps the lease without a renewal
	 * @return the lease specification
	 */
	public static LeaseSpec shared(String key, String owner, String token, Duration ttl) {
		return new LeaseSpec(key, LeaseMode.SHARED, 1, owner, token, ttl);
	}

	/**
	 * The same lease with another time-to-live, for example to shorten it to a minimum
	 * hold time.
	 * @param ttl the new time-to-live
	 * @return a copy with the given time-to-live
	 */
	public LeaseSpec withTtl(Duration ttl) {
		return new LeaseSpec(this.key, this.mode, this.permits, this.owner, this.token, ttl, this.description,
				this.fair);
	}

	/**
	 * The same lease with a description of what its holder does, which the backend stores
	 * with the holder and inspection shows.
	 *
	 * <pre class="code">
	 * LeaseSpec lease = LeaseSpec.exclusive("import", owner, token, ttl).withDescription("nightly import 2026-12-05");
	 * </pre>
	 * @param description the description, or {@code null} (or empty) for none
	 * @return a copy with the given description
	 * @throws IllegalArgumentException if the description is longer than
	 * {@value #MAX_DESCRIPTION_LENGTH} characters or holds a control character
	 */
	public LeaseSpec withDescription(@Nullable String description) {
		return new LeaseSpec(this.key, this.mode, this.permits, this.owner, this.token, this.ttl, description,
				this.fair);
	}

	/**
	 * The same lease, asking to be served first come, first served across instances, or
	 * not. A backend that queues fair leases ({@link QueueingLockRepository#isFair} for
	 * the lease's mode) grants the key to its fair waiters strictly in the order they
	 * joined its queue; other backends ignore it, and {@link LockTemplate} refuses to ask
	 * them for it.
	 *
	 * <pre class="code">
	 * LeaseSpec lease = LeaseSpec.exclusive("ledger", owner, token, ttl).withFair(true);
	 * CompletableFuture&lt;QueuedGrant&gt; grant = queueing.acquireQueued(lease);
	 * </pre>
	 * @param fair whether the lease asks for fairness
	 * @return a copy that asks for fairness or not
	 */
	public LeaseSpec withFair(boolean fair) {
		return new LeaseSpec(this.key, this.mode, this.permits, this.owner, this.token, this.ttl, this.description,
				fair);
	}

}
