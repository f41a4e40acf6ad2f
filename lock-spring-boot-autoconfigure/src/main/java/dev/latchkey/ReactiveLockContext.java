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
import java.util.List;
import java.util.Optional;

import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * The leases of a Reactor pipeline: the {@link LockContext} of a {@code Mono} or
 * {@code Flux} returned by an {@code @Exclusive} or {@code @Semaphore} method, kept in
 * the subscriber {@code Context} so that it follows the pipeline from thread to thread.
 *
 * <pre class="code">
 * &#64;Exclusive("inventory:#sku")
 * public Mono&lt;Void&gt; restock(String sku, int count) {
 *     return shelves(sku)
 *         .publishOn(Schedulers.parallel())
 *         .flatMap((shelf) -&gt; ReactiveLockContext.lease()
 *             .flatMap((lease) -&gt; warehouse.put(shelf, count, lease.fencingToken())))
 *         .then();
 * }
 * </pre>
 * <p>
 * A locked {@code Mono} or {@code Flux} subscribed inside the pipeline re-enters a lock
 * the pipeline holds instead of waiting for it. With Micrometer's
 * {@code context-propagation} library on the classpath and
 * {@code Hooks.enableAutomaticContextPropagation()}, {@link LockContext} itself answers
 * in the operators of the pipeline, on any thread.
 *
 * @since 0.1.0
 */
public final class ReactiveLockContext {

	/**
	 * The key of the leases in a Reactor {@code Context}, and of the {@link LockContext}
	 * accessor for Micrometer's context propagation.
	 */
	public static final String KEY = "dev.latchkey.LockContext";

	private ReactiveLockContext() {
	}

	/**
	 * The innermost lease of the subscriber context of the pipeline.
	 *
	 * <pre class="code">
	 * Mono&lt;Long&gt; token = ReactiveLockContext.lease().map(Lease::fencingToken);
	 * </pre>
	 * <p>
	 * @return the lease, or an empty {@code Mono} outside a locked pipeline
	 */
	public static Mono<Lease> lease() {
		return Mono.deferContextual((context) -> Mono.justOrEmpty(current(context)));
	}

	/**
	 * The innermost lease of a Reactor context.
	 *
	 * <pre class="code">
	 * Mono&lt;Long&gt; token = Mono.deferContextual((context) -&gt; Mono.justOrEmpty(
	 *         ReactiveLockContext.current(context).map(Lease::fencingToken)));
	 * </pre>
	 * <p>
	 * @param context the context
	 * @return the lease, or empty when the context holds none
	 */
	public static Optional<Lease> current(ContextView context) {
		List<Lease> leases = leases(context);
		return leases.isEmpty() ? Optional.empty() : Optional.of(leases.get(leases.size() - 1));
	}

	/**
	 * Adds a lease to a Reactor context, on top of those it holds: for integrations that
	 * hold a lease around a pipeline themselves.
	 *
	 * <pre class="code">
	 * pipeline.contextWrite((context) -&gt; ReactiveLockContext.with(context, handle.lease()))
	 * </pre>
	 * <p>
	 * @param context the context
	 * @param lease the lease
	 * @return the context with the lease as the innermost one
	 */
	public static Context with(Context context, Lease lease) {
		List<Lease> leases = new ArrayList<>(leases(context));
		leases.add(lease);
		return context.put(KEY, List.copyOf(leases));
	}

	/**
	 * Makes the leases of a Reactor context current on this thread until the returned
	 * binding is closed: for code that leaves the pipeline, or that acquires locks that
	 * should re-enter those of the pipeline.
	 *
	 * <pre class="code">
	 * Mono.deferContextual((context) -&gt; {
	 *     try (LockContext.Binding binding = ReactiveLockContext.bind(context)) {
	 *         return Mono.just(legacy.update()); // legacy.update() is &#64;Exclusive: re-entered
	 *     }
	 * });
	 * </pre>
	 * <p>
	 * @param context the context
	 * @return the binding to close
	 */
	public static LockContext.Binding bind(ContextView context) {
		return LockContext.bindAll(leases(context));
	}

	@SuppressWarnings("unchecked")
	private static List<Lease> leases(ContextView context) {
		Object leases = context.getOrDefault(KEY, null);
		return (leases instanceof List<?> list) ? (List<Lease>) list : List.of();
	}

}
