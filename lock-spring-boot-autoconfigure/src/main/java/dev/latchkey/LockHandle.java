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

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * <p>
 * A handle of {@linkplain LockTemplate#exclusive(String, String...) several keys} holds
 * one lease per key, each with its own fencing token:
 *
 * <pre class="code">
 * try (LockHandle lock = locks.exclusive("account:" + from, "account:" + to).acquire()) {
 *     ledger.debit(from, amount, lock.fencingToken("account:" + from));
 *     ledger.credit(to, amount, lock.fencingToken("account:" + to));
 * }
 * </pre>
 * <p>
 * It is lost as soon as any of its leases is lost (the others are then given up too), and
 * closing it releases them all.
 *
 * @since 0.1.0
 */
public final class LockHandle implements AutoCloseable {

	// A field set through a VarHandle rather than an AtomicBoolean: a handle lives as
	// long as its lease, and an application may hold a hundred thousand of them.
	private static final VarHandle CLOSED;

	static {
		try {
			CLOSED = MethodHandles.lookup().findVarHandle(LockHandle.class, "closed", boolean.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final DefaultLease lease;

	private final boolean reentrant;

	private final Duration minHold;

	/**
	 * The handle of each key, in canonical order, when this handle holds several keys;
	 * empty for one key.
	 */
	private final List<LockHandle> parts;

	@SuppressWarnings("unused") // set through CLOSED
	private volatile boolean closed;

	LockHandle(DefaultLease lease, boolean reentrant, Duration minHold) {
		this.lease = lease;
		this.reentrant = reentrant;
		this.minHold = minHold;
		this.parts = List.of();
	}

	/**
	 * A handle of several keys.
	 * @param parts each key's handle, in canonical order; two or more
	 */
	LockHandle(List<LockHandle> parts) {
		this.lease = parts.get(0).lease;
		this.reentrant = parts.stream().allMatch(LockHandle::isReentrant);
		this.minHold = Duration.ZERO;
		this.parts = List.copyOf(parts);
	}

	/**
	 * The lease this handle holds.
	 * @return the lease
	 * @throws IllegalStateException if this handle holds several keys; use
	 * {@link #leases()}
	 */
	public Lease lease() {
		assertSingleKey("lease()", "leases()");
		return this.lease;
	}

	/**
	 * The leases this handle holds, one per key, in the canonical order in which they
	 * were taken (ordered by their {@linkplain Lease#key() full key}).
	 *
	 * <pre class="code">
	 * lock.leases().forEach((lease) -&gt; log.info(lease.key() + " at " + lease.fencingToken()));
	 * </pre>
	 * @return the leases; one for a handle of one key
	 */
	public List<Lease> leases() {
		return List.copyOf(defaultLeases());
	}

	DefaultLease defaultLease() {
		return this.lease;
	}

	List<DefaultLease> defaultLeases() {
		if (this.parts.isEmpty()) {
			return List.of(this.lease);
		}
		List<DefaultLease> leases = new ArrayList<>(this.parts.size());
		for (LockHandle part : this.parts) {
			leases.add(part.lease);
		}
		return leases;
	}

	/**
	 * The fencing token of the lease.
	 * @return the fencing token
	 * @throws IllegalStateException if this handle holds several keys; use
	 * {@link #fencingToken(String)}
	 */
	public long fencingToken() {
		assertSingleKey("fencingToken()", "fencingToken(key)");
		return this.lease.fencingToken();
	}

	/**
	 * The fencing token of the lease on one of this handle's keys.
	 *
	 * <pre class="code">
	 * ledger.debit(from, amount, lock.fencingToken("account:" + from));
	 * </pre>
	 * @param key the key as it was given to the template, without the configured prefix
	 * @return the fencing token of that key's lease
	 * @throws IllegalArgumentException if this handle does not hold that key
	 */
	public long fencingToken(String key) {
		for (DefaultLease held : defaultLeases()) {
			if (held.hasKey(key)) {
				return held.fencingToken();
			}
		}
		throw new IllegalArgumentException("This handle holds no lock on '" + key + "'; it holds " + keys());
	}

	/**
	 * Whether this handle re-entered a lease already held by the current call chain.
	 * @return {@code true} if closing it releases nothing (for several keys: if the call
	 * chain held every one of them already)
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
	 * <p>
	 * For a handle of several keys, the action runs once, when the first of its leases is
	 * lost.
	 * @param action the action, given the exception that describes the loss
	 */
	public void onLost(Consumer<LockLostException> action) {
		if (this.parts.isEmpty()) {
			this.lease.onLost(action);
			return;
		}
		AtomicBoolean ran = new AtomicBoolean();
		Consumer<LockLostException> once = (lost) -> {
			if (ran.compareAndSet(false, true)) {
				action.accept(lost);
			}
		};
		for (LockHandle part : this.parts) {
			// A key the call chain held already is the outer call's to watch: an action
			// registered on it would outlive this handle.
			if (!part.reentrant) {
				part.lease.onLost(once);
			}
		}
	}

	boolean hasSeveralKeys() {
		return !this.parts.isEmpty();
	}

	boolean isLost() {
		if (this.parts.isEmpty()) {
			return this.lease.isLost();
		}
		for (DefaultLease held : defaultLeases()) {
			if (held.isLost()) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Why this handle was lost: the exception of its first lease that was lost.
	 */
	LockLostException lostException() {
		for (DefaultLease held : defaultLeases()) {
			if (held.isLost()) {
				return held.lostException();
			}
		}
		return this.lease.lostException();
	}

	/**
	 * Makes the observations of the holds current on this thread while synchronous work
	 * runs; for several keys, one after the other, closed in reverse.
	 */
	LockObserver.Scope openHoldScope() {
		if (this.parts.isEmpty()) {
			return this.lease.openHoldScope();
		}
		List<LockObserver.Scope> scopes = new ArrayList<>(this.parts.size());
		for (LockHandle part : this.parts) {
			scopes.add(part.lease.openHoldScope());
		}
		return () -> {
			for (int i = scopes.size() - 1; i >= 0; i--) {
				scopes.get(i).close();
			}
		};
	}

	/**
	 * Releases the lease, unless this handle is reentrant. Never throws: a failed release
	 * is logged, and the lease then expires at the backend. A handle of several keys
	 * releases each lease it took, in reverse order.
	 */
	@Override
	public void close() {
		if (!CLOSED.compareAndSet(this, false, true)) {
			return;
		}
		if (this.parts.isEmpty()) {
			if (!this.reentrant) {
				this.lease.release(this.minHold);
			}
			return;
		}
		for (int i = this.parts.size() - 1; i >= 0; i--) {
			this.parts.get(i).close();
		}
	}

	private void assertSingleKey(String method, String instead) {
		if (!this.parts.isEmpty()) {
			throw new IllegalStateException("This handle holds " + this.parts.size() + " keys " + keys() + "; use "
					+ instead + " rather than " + method);
		}
	}

	private List<String> keys() {
		return defaultLeases().stream().map(DefaultLease::key).toList();
	}

	@Override
	public String toString() {
		if (!this.parts.isEmpty()) {
			return "LockHandle" + this.parts.stream().map((part) -> part.lease).toList()
					+ (this.reentrant ? ", reentrant" : "");
		}
		return "LockHandle[" + this.lease + (this.reentrant ? ", reentrant" : "") + "]";
	}

}
