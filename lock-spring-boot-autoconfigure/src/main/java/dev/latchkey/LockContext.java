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

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * The lease of the lock the current code runs under, for code called by an
 * {@code @Exclusive}, {@code @Shared} or {@code @Semaphore} method or by
 * {@link LockTemplate} {@code run}/{@code call}, on the same thread.
 *
 * <pre class="code">
 * &#64;Exclusive("inventory:#sku")
 * public void restock(String sku, int count) {
 *     for (Shelf shelf : shelves(sku)) {
 *         LockContext.assertHeld(); // stop if the lease was lost meanwhile
 *         warehouse.put(shelf, count, LockContext.fencingToken());
 *     }
 * }
 * </pre>
 * <p>
 * The context is bound to the thread that runs the guarded code; work handed to another
 * thread should take the {@link Lease} with it. Nested locks stack: the innermost lease
 * is the current one.
 *
 * @since 0.1.0
 */
public final class LockContext {

	private static final ThreadLocal<@Nullable ArrayDeque<Lease>> leases = new ThreadLocal<>();

	private LockContext() {
	}

	/**
	 * The innermost lease held by the current call chain.
	 * @return the lease, or empty outside guarded code
	 */
	public static Optional<Lease> current() {
		ArrayDeque<Lease> stack = leases.get();
		return (stack != null) ? Optional.ofNullable(stack.peekLast()) : Optional.empty();
	}

	/**
	 * The innermost lease held by the current call chain.
	 * @return the lease
	 * @throws IllegalStateException outside guarded code
	 */
	public static Lease lease() {
		return current().orElseThrow(() -> new IllegalStateException("No lock is held by the current call"));
	}

	/**
	 * The fencing token of the innermost lease.
	 * @return the fencing token
	 * @throws LockLostException if the lease was lost
	 * @throws IllegalStateException outside guarded code
	 */
	public static long fencingToken() {
		Lease lease = lease();
		lease.assertValid();
		return lease.fencingToken();
	}

	/**
	 * Checks that the innermost lease is still held.
	 * @throws LockLostException if the lease was lost or its validity ran out
	 * @throws IllegalStateException outside guarded code
	 */
	public static void assertHeld() {
		lease().assertValid();
	}

	/**
	 * Makes a lease the current one on this thread until the returned binding is closed.
	 * For integrations that run guarded code themselves; {@code @Exclusive},
	 * {@code @Semaphore} and {@link LockTemplate} bind for you.
	 *
	 * <pre class="code">
	 * try (LockContext.Binding binding = LockContext.bind(handle.lease())) {
	 *     work.run();
	 * }
	 * </pre>
	 * @param lease the lease
	 * @return the binding to close when the guarded code returns
	 */
	public static Binding bind(Lease lease) {
		ArrayDeque<Lease> stack = leases.get();
		if (stack == null) {
			stack = new ArrayDeque<>(4);
			leases.set(stack);
		}
		stack.addLast(lease);
		return () -> unbind(lease);
	}

	private static void unbind(Lease lease) {
		ArrayDeque<Lease> stack = leases.get();
		if (stack != null) {
			stack.removeLastOccurrence(lease);
			if (stack.isEmpty()) {
				leases.remove();
			}
		}
	}

	static @Nullable Lease find(String key, LeaseMode mode) {
		ArrayDeque<Lease> stack = leases.get();
		if (stack == null) {
			return null;
		}
		for (Iterator<Lease> it = stack.descendingIterator(); it.hasNext();) {
			Lease lease = it.next();
			if (lease.mode() == mode && lease.key().equals(key)) {
				return lease;
			}
		}
		return null;
	}

	/**
	 * A lease bound to the current thread, from {@link #bind(Lease)}.
	 */
	@FunctionalInterface
	public interface Binding extends AutoCloseable {

		/**
		 * Unbinds the lease.
		 */
		@Override
		void close();

	}

}
