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

package dev.latchkey.interceptor;

import java.util.concurrent.Callable;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.ContextView;

import dev.latchkey.LockContext;
import dev.latchkey.LockHandle;
import dev.latchkey.LockLostException;
import dev.latchkey.ReactiveLockContext;
import dev.latchkey.annotation.LostPolicy;
import dev.latchkey.interceptor.LockedMethod.ReturnKind;

/**
 * Locking for methods that return a Reactor {@code Mono} or {@code Flux}. Only loaded
 * when Reactor is on the classpath.
 * <p>
 * The lease is acquired when the result is subscribed to (on the bounded-elastic
 * scheduler, since acquiring may wait and talk to the backend), the method is invoked
 * under it for each subscription, and the lease is released when the result completes,
 * fails or is cancelled. The leases are in the subscriber context
 * ({@link ReactiveLockContext}): a locked {@code Mono} or {@code Flux} subscribed inside
 * the pipeline re-enters them.
 */
final class ReactiveLocking {

	private ReactiveLocking() {
	}

	static @Nullable ReturnKind returnKind(Class<?> type) {
		if (Mono.class.isAssignableFrom(type)) {
			return ReturnKind.MONO;
		}
		if (Flux.class.isAssignableFrom(type)) {
			return ReturnKind.FLUX;
		}
		return null;
	}

	/**
	 * Wraps a reactive result.
	 * @param kind {@link ReturnKind#MONO} or {@link ReturnKind#FLUX}
	 * @param acquire acquires the lease; returns {@code null} to skip
	 * @param invoke invokes the method under the lease
	 * @param onLost the lost policy
	 * @return the {@code Mono} or {@code Flux} to return
	 */
	static Object lock(ReturnKind kind, Supplier<@Nullable LockHandle> acquire, InvocationUnderLease invoke,
			LostPolicy onLost) {
		if (kind == ReturnKind.MONO) {
			return Mono.deferContextual((context) -> Mono.usingWhen(acquire(context, acquire),
					(handle) -> guard(Mono.from(invoke(context, handle, invoke)), handle, onLost)
						.contextWrite((inner) -> ReactiveLockContext.with(inner, handle.lease())),
					ReactiveLocking::release, (handle, error) -> release(handle), ReactiveLocking::release));
		}
		return Flux.deferContextual((context) -> Flux.usingWhen(acquire(context, acquire),
				(handle) -> guard(Flux.from(invoke(context, handle, invoke)), handle, onLost)
					.contextWrite((inner) -> ReactiveLockContext.with(inner, handle.lease())),
				ReactiveLocking::release, (handle, error) -> release(handle), ReactiveLocking::release));
	}

	/**
	 * Acquires with the leases of the subscriber context bound, so that a lock the
	 * pipeline already holds is re-entered instead of waited for.
	 */
	private static Mono<LockHandle> acquire(ContextView context, Supplier<@Nullable LockHandle> acquire) {
		return Mono.fromCallable((Callable<@Nullable LockHandle>) () -> {
			try (LockContext.Binding binding = ReactiveLockContext.bind(context)) {
				return acquire.get();
			}
		}).subscribeOn(Schedulers.boundedElastic());
	}

	private static Publisher<?> invoke(ContextView context, LockHandle handle, InvocationUnderLease invoke) {
		try (LockContext.Binding binding = ReactiveLockContext.bind(context)) {
			return invoke.invoke(handle);
		}
	}

	private static <T> Mono<T> guard(Mono<T> result, LockHandle handle, LostPolicy onLost) {
		return (onLost == LostPolicy.CANCEL) ? result.takeUntilOther(lost(handle)) : result;
	}

	private static <T> Flux<T> guard(Flux<T> result, LockHandle handle, LostPolicy onLost) {
		return (onLost == LostPolicy.CANCEL) ? result.takeUntilOther(lost(handle)) : result;
	}

	private static Mono<Void> lost(LockHandle handle) {
		return Mono.create((sink) -> handle.onLost((LockLostException ex) -> sink.error(ex)));
	}

	private static Mono<Void> release(LockHandle handle) {
		return Mono.fromRunnable(handle::close);
	}

	/**
	 * Invokes the method under a held lease.
	 */
	@FunctionalInterface
	interface InvocationUnderLease {

		Publisher<?> invoke(LockHandle handle);

	}

}
