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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A held lock, for try-with-resources: closing it releases the lease (after the minimum
 * hold time, if one is set). Closing is idempotent and may happen on any thread.
 *
 * <pre class="code">
 * try (LockHandle lock = locks.exclusive("order:42").waitTime(Duration.ofSeconds(2)).acquire()) {
 *     store.save(order, lock.fencingToken());
 * }
 * </pre>
 * <p>
 * A handle taken where the current call chain already holds the same key re-enters that
 * lease: it is {@linkplain #isReentrant() reentrant} and closing it releases nothing.
 *
 * @since 0.1.0
 */
public final class LockHandle implements AutoCloseable {

	private final DefaultLease lease;

	private final boolean reentrant;

	private final Duration minHold;

	private final AtomicBoolean closed = new AtomicBoolean();

	LockHandle(DefaultLease lease, boolean reentrant, Duration minHold) {
		this.lease = lease;
		this.reentrant = reentrant;
		this.minHold = minHold;
	}

	/**
	 * The lease this handle holds.
	 * @return the lease
	 */
	public Lease lease() {
		return this.lease;
	}

	DefaultLease defaultLease() {
		return this.lease;
	}

	/**
	 * The fencing token of the lease.
	 * @return the fencing token
	 */
	public long fencingToken() {
		return this.lease.fencingToken();
	}

	/**
	 * Whether this handle re-entered a lease already held by the current call chain.
	 * @return {@code true} if closing it releases nothing
	 */
	public boolean isReentrant() {
		return this.reentrant;
	}

	/**
	 * Registers an action to run if the lease is lost, on the thread that detects the
	 * loss (at once if it is already lost). Use it to stop work that runs elsewhere:
	 *
	 * <pre class="code">
	 * handle.onLost(lost -&gt; future.completeExceptionally(lost));
	 * </pre>
	 * @param action the action, given the exception that describes the loss
	 */
	public void onLost(Consumer<LockLostException> action) {
		this.lease.onLost(action);
	}

	/**
	 * Releases the lease, unless this handle is reentrant. Never throws: a failed release
	 * is logged, and the lease then expires at the backend.
	 */
	@Override
	public void close() {
		if (this.closed.compareAndSet(false, true) && !this.reentrant) {
			this.lease.release(this.minHold);
		}
	}

	@Override
	public String toString() {
		return "LockHandle[" + this.lease + (this.reentrant ? ", reentrant" : "") + "]";
	}

}
