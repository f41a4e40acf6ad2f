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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * The lease of the lock the current code runs under, for code called by an
 * {@code @Exclusive}, {@code @Shared} or {@code @Semaphore} method or by
 * {@link LockTemplate} {@code run}/{@code call}.
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
 * Nested locks stack: the innermost lease is the current one, and a lock on a key the
 * context already holds (same mode, same {@link LockTemplate}) is re-entered instead of
 * acquired again. The context follows the work, not the thread, where the work says how:
 * <ul>
 * <li>on the thread that runs the guarded code, always;</li>
 * <li>in a Reactor pipeline returned by a locked method: the leases are in the subscriber
 * {@code Context} ({@link ReactiveLockContext}), so nested locked
 * {@code Mono}/{@code Flux} methods re-enter, and with Micrometer's
 * {@code context-propagation} library and
 * {@code Hooks.enableAutomaticContextPropagation()} this class answers on every thread of
 * the pipeline;</li>
 * <li>on another thread (a {@code CompletableFuture} stage, an executor, a virtual
 * thread) only when the task is wrapped: {@link #wrap(Executor)},
 * {@link #wrap(Runnable)}, {@link #wrap(Callable)}, or Micrometer's
 * {@code ContextSnapshot} (a {@code ThreadLocalAccessor} for this class is registered
 * when {@code context-propagation} is on the classpath).</li>
 * </ul>
 * A thread started or pooled inside guarded code does not inherit the context: an
 * inherited lease would stay with a pooled thread and let unrelated work re-enter a lock
 * it never took.
 * <p>
 * Under a lock of several keys, ask for each key's token by its key:
 *
 * <pre class="code">
 * &#64;Exclusive({ "account:#from", "account:#to" })
 * public void transfer(String from, String to, long cents) {
 *     ledger.debit(from, cents, LockContext.fencingToken("account:" + from));
 *     ledger.credit(to, cents, LockContext.fencingToken("account:" + to));
 * }
 * </pre>
 * <p>
 * There each key's lease is bound, in canonical order, so the innermost lease is that of
 * the last key in that order.
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
	 * The fencing token of the lease the current call chain holds on a key, the innermost
	 * one if several calls hold it; for locks of several keys.
	 * @param key the key as given to the template or evaluated from the annotation's
	 * template, without the configured prefix
	 * @return the fencing token
	 * @throws LockLostException if that lease was lost
	 * @throws IllegalStateException if the current call chain holds no lock on the key
	 */
	public static long fencingToken(String key) {
		ArrayDeque<Lease> stack = leases.get();
		if (stack != null) {
			for (Iterator<Lease> it = stack.descendingIterator(); it.hasNext();) {
				Lease lease = it.next();
				if (lease instanceof DefaultLease held && held.hasKey(key)) {
					lease.assertValid();
					return lease.fencingToken();
				}
			}
		}
		throw new IllegalStateException("No lock on '" + key + "' is held by the current call");
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

	/**
	 * Makes the leases of a handle current on this thread until the returned binding is
	 * closed: one lease, or each key's lease of a lock of several keys, in canonical
	 * order. For integrations that run guarded code themselves.
	 *
	 * <pre class="code">
	 * try (LockContext.Binding binding = LockContext.bind(handle)) {
	 *     work.run();
	 * }
	 * </pre>
	 * @param handle the held lock
	 * @return the binding to close when the guarded code returns
	 */
	public static Binding bind(LockHandle handle) {
		if (!handle.hasSeveralKeys()) {
			return bind(handle.defaultLease());
		}
		List<Lease> held = handle.leases();
		List<Binding> bindings = new ArrayList<>(held.size());
		for (Lease lease : held) {
			bindings.add(bind(lease));
		}
		return () -> {
			for (int i = bindings.size() - 1; i >= 0; i--) {
				bindings.get(i).close();
			}
		};
	}

	private static void unbind(Lease lease) {
		ArrayDeque<Lease> stack = leases.get();
		if (stack != null) {
			// An empty stack stays with the thread: dropping it would cost a new stack
			// and a
			// new thread-local entry on every call. It holds nothing of the
			// application's.
			stack.removeLastOccurrence(lease);
		}
	}

	/**
	 * Wraps a task so that it runs under the leases held here, now, on whichever thread
	 * runs it: for work handed to another thread that should see this context, or
	 * re-enter its locks. The leases stay the caller's: the task must finish before the
	 * guarded code returns, or find them released.
	 *
	 * <pre class="code">
	 * &#64;Exclusive("report:#id")
	 * public void build(String id) {
	 *     Thread worker = Thread.ofVirtual().start(LockContext.wrap(() -&gt; render(id)));
	 *     worker.join();
	 * }
	 * </pre>
	 * <p>
	 * @param task the task
	 * @return the task, bound to the current leases when it runs; the task itself when no
	 * lease is held
	 */
	public static Runnable wrap(Runnable task) {
		List<Lease> captured = snapshot();
		if (captured.isEmpty()) {
			return task;
		}
		return () -> {
			try (Binding binding = bindAll(captured)) {
				task.run();
			}
		};
	}

	/**
	 * Wraps a task so that it runs under the leases held here, now, on whichever thread
	 * runs it, as {@link #wrap(Runnable)} does.
	 *
	 * <pre class="code">
	 * Future&lt;Long&gt; token = executor.submit(LockContext.wrap(() -&gt; LockContext.fencingToken()));
	 * </pre>
	 * <p>
	 * @param <T> the result type
	 * @param task the task
	 * @return the task, bound to the current leases when it runs
	 */
	public static <T extends @Nullable Object> Callable<T> wrap(Callable<T> task) {
		List<Lease> captured = snapshot();
		if (captured.isEmpty()) {
			return task;
		}
		return () -> {
			try (Binding binding = bindAll(captured)) {
				return task.call();
			}
		};
	}

	/**
	 * Wraps a supplier so that it runs under the leases held here, now, as
	 * {@link #wrap(Runnable)} does; for {@code CompletableFuture.supplyAsync}.
	 *
	 * <pre class="code">
	 * CompletableFuture&lt;Long&gt; token = CompletableFuture.supplyAsync(
	 *         LockContext.wrapSupplier(LockContext::fencingToken), executor);
	 * </pre>
	 * <p>
	 * @param <T> the result type
	 * @param supplier the supplier
	 * @return the supplier, bound to the current leases when it runs
	 */
	public static <T extends @Nullable Object> Supplier<T> wrapSupplier(Supplier<T> supplier) {
		List<Lease> captured = snapshot();
		if (captured.isEmpty()) {
			return supplier;
		}
		return () -> {
			try (Binding binding = bindAll(captured)) {
				return supplier.get();
			}
		};
	}

	/**
	 * Wraps an executor so that each task runs under the leases held where it was handed
	 * over ({@code execute} called): the way to let the dependent stages of a
	 * {@code CompletableFuture} started inside guarded code see its context and re-enter
	 * its locks.
	 *
	 * <pre class="code">
	 * &#64;Exclusive("order:#id")
	 * public CompletableFuture&lt;Receipt&gt; settle(String id) {
	 *     Executor locked = LockContext.wrap(executor);
	 *     return CompletableFuture.supplyAsync(() -&gt; charge(id), locked)
	 *         .thenApplyAsync((charge) -&gt; orders.ship(id, charge), locked); // orders.ship is &#64;Exclusive("order:#id"): re-entered
	 * }
	 * </pre>
	 * <p>
	 * @param executor the executor
	 * @return an executor that runs each task under the leases of its submitter
	 */
	public static Executor wrap(Executor executor) {
		return (task) -> executor.execute(wrap(task));
	}

	/**
	 * The leases held by the current thread, outermost first.
	 * @return an immutable copy, empty outside guarded code
	 */
	static List<Lease> snapshot() {
		ArrayDeque<Lease> stack = leases.get();
		return (stack != null) ? List.copyOf(stack) : List.of();
	}

	/**
	 * Binds leases, outermost first, on top of those of the current thread.
	 * @param captured the leases
	 * @return the binding that unbinds them
	 */
	static Binding bindAll(List<Lease> captured) {
		if (captured.isEmpty()) {
			return () -> {
			};
		}
		ArrayDeque<Lease> stack = leases.get();
		if (stack == null) {
			stack = new ArrayDeque<>(Math.max(4, captured.size()));
			leases.set(stack);
		}
		int size = stack.size();
		stack.addAll(captured);
		return () -> {
			ArrayDeque<Lease> current = leases.get();
			if (current != null) {
				while (current.size() > size) {
					current.removeLast();
				}
				if (current.isEmpty()) {
					leases.remove();
				}
			}
		};
	}

	/**
	 * Replaces the leases of the current thread, for context propagation.
	 * @param captured the leases, outermost first; empty to clear
	 */
	static void restore(List<Lease> captured) {
		if (captured.isEmpty()) {
			leases.remove();
		}
		else {
			leases.set(new ArrayDeque<>(captured));
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
	 * A lease bound to the current thread, from {@link #bind(Lease)} or
	 * {@link ReactiveLockContext#bind(reactor.util.context.ContextView)}.
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
