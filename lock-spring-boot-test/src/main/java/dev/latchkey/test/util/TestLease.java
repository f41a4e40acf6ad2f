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

package dev.latchkey.test.util;

import java.time.Duration;
import java.util.Optional;

import dev.latchkey.Lease;
import dev.latchkey.LeaseMode;
import dev.latchkey.LockContext;
import dev.latchkey.LockLostException;
import dev.latchkey.LossReason;

/**
 * A lease that no backend granted, bound to the current thread as if an
 * {@code @Exclusive} method held it: for unit tests of code that calls
 * {@link LockContext#assertHeld()} or {@link LockContext#fencingToken()}, with no
 * application context and no backend.
 *
 * <pre class="code">
 * &#64;Test
 * void restockWritesWithTheFencingToken() {
 *     try (TestLease lease = TestLease.bind("inventory:sku-1", 42)) {
 *         shelves.restockUnderLock("sku-1", 5); // calls LockContext.assertHeld() and fencingToken()
 *     }
 *     assertThat(warehouse.lastToken("sku-1")).isEqualTo(42);
 * }
 *
 * &#64;Test
 * void restockStopsOnceTheLeaseIsLost() {
 *     try (TestLease lease = TestLease.bind("inventory:sku-1")) {
 *         lease.lose();
 *         assertThatExceptionOfType(LockLostException.class)
 *             .isThrownBy(() -&gt; shelves.restockUnderLock("sku-1", 5));
 *     }
 * }
 * </pre>
 * <p>
 * Outside a {@code try} block that binds one, {@code LockContext.assertHeld()} throws
 * {@link IllegalStateException}, as in production code called without its lock. A lease
 * is bound to the thread that bound it, and leases nest as locks do.
 *
 * @since 0.1.0
 */
public final class TestLease implements Lease, AutoCloseable {

	private static final Duration TTL = Duration.ofSeconds(30);

	private final String key;

	private final long fencingToken;

	private final long grantedAt = System.nanoTime();

	private final LockContext.Binding binding;

	private volatile boolean lost;

	private volatile boolean released;

	private TestLease(String key, long fencingToken) {
		this.key = key;
		this.fencingToken = fencingToken;
		this.binding = LockContext.bind(this);
	}

	/**
	 * Binds an exclusive lease of a key, with fencing token 1, to the current thread.
	 * @param key the lock key
	 * @return the lease, to close when the code under test returns
	 */
	public static TestLease bind(String key) {
		return bind(key, 1);
	}

	/**
	 * Binds an exclusive lease of a key, with a given fencing token, to the current
	 * thread.
	 * @param key the lock key
	 * @param fencingToken the fencing token {@link LockContext#fencingToken()} answers
	 * @return the lease, to close when the code under test returns
	 */
	public static TestLease bind(String key, long fencingToken) {
		return new TestLease(key, fencingToken);
	}

	/**
	 * Makes the lease lost, as when another owner took the key: from now on
	 * {@link LockContext#assertHeld()} and {@link LockContext#fencingToken()} throw
	 * {@link LockLostException}.
	 */
	public void lose() {
		this.lost = true;
	}

	/**
	 * Unbinds the lease from the current thread; it is then released.
	 */
	@Override
	public void close() {
		this.released = true;
		this.binding.close();
	}

	@Override
	public String key() {
		return this.key;
	}

	@Override
	public String name() {
		return this.key;
	}

	@Override
	public LeaseMode mode() {
		return LeaseMode.EXCLUSIVE;
	}

	@Override
	public int permits() {
		return 1;
	}

	@Override
	public String owner() {
		return "test";
	}

	@Override
	public long fencingToken() {
		return this.fencingToken;
	}

	@Override
	public Duration ttl() {
		return TTL;
	}

	@Override
	public long renewals() {
		return 0;
	}

	@Override
	public Duration remainingTtl() {
		return isValid() ? TTL : Duration.ZERO;
	}

	@Override
	public Duration heldFor() {
		return Duration.ofNanos(System.nanoTime() - this.grantedAt);
	}

	/**
	 * No limit: a test lease is held until the test releases or loses it.
	 */
	@Override
	public Optional<Duration> maxHold() {
		return Optional.empty();
	}

	@Override
	public boolean isValid() {
		return !this.lost && !this.released;
	}

	@Override
	public void assertValid() {
		if (this.released) {
			throw new IllegalStateException("Lease of '" + this.key + "' was released");
		}
		if (this.lost) {
			throw new LockLostException(this.key, LossReason.NOT_OWNER, null);
		}
	}

	@Override
	public String toString() {
		return "TestLease[key=" + this.key + ", fencingToken=" + this.fencingToken + ", lost=" + this.lost + "]";
	}

}
