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

import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;

import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.support.AopUtils;
import org.springframework.core.MethodClassKey;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.ReactiveAdapter;
import org.springframework.core.ReactiveAdapterRegistry;
import org.springframework.util.Assert;
import org.springframework.util.ReflectionUtils;

import dev.latchkey.LeaseMode;
import dev.latchkey.LockContext;
import dev.latchkey.LockHandle;
import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockOperation;
import dev.latchkey.LockTemplate;
import dev.latchkey.annotation.ContentionPolicy;
import dev.latchkey.annotation.LostPolicy;
import dev.latchkey.interceptor.LockedMethod.ReturnKind;

/**
 * Runs {@code @Exclusive}, {@code @Shared} and {@code @Semaphore} methods under their
 * lock, through {@link LockTemplate}.
 * <p>
 * A Kotlin {@code suspend} function reaches this interceptor as Spring AOP runs it: its
 * invocation returns a {@code Mono} (a {@code Flux} for a {@code Flow} result) and the
 * proxy awaits what the interceptor returns, so the lease is held as for a reactive
 * method, until the coroutine completes, and released when it is cancelled.
 */
final class LockInterceptor implements MethodInterceptor {

	private static final Object NOT_LOCKED = new Object();

	private final Supplier<LockTemplate> templates;

	private final LockedMethodParser parser;

	private final Map<MethodClassKey, Object> methods = new ConcurrentHashMap<>();

	LockInterceptor(Supplier<LockTemplate> templates, LockedMethodParser parser) {
		this.templates = templates;
		this.parser = parser;
	}

	/**
	 * Checks the fair methods against the backend (see
	 * {@link LockedMethodParser#checkFairness()}).
	 */
	void checkFairness() {
		this.parser.checkFairness();
	}

	/**
	 * Parses every locked method of a class, so that mistakes fail the application start.
	 * @param targetClass the bean class
	 */
	void prepare(Class<?> targetClass) {
		Map<Method, LockedMethod> locked = MethodIntrospector.selectMethods(targetClass,
				(MethodIntrospector.MetadataLookup<LockedMethod>) (method) -> LockedMethodParser.isLocked(method)
						? this.parser.parse(method) : null);
		locked.forEach((method, spec) -> this.methods.put(new MethodClassKey(method, targetClass), spec));
	}

	@Override
	public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
		LockedMethod spec = lockedMethod(invocation);
		if (spec == null) {
			return invocation.proceed();
		}
		LockOperation operation = operation(spec, invocation.getArguments());
		return switch (spec.returnKind()) {
			case SYNC, OPTIONAL -> invokeSync(invocation, spec, operation);
			case FUTURE -> invokeFuture(invocation, spec, operation);
			case MONO, FLUX -> ReactiveLocking.lock(spec.returnKind(), () -> acquire(spec, operation),
					(handle) -> (Publisher<?>) proceedReactive(invocation, handle), spec.onLost());
			case FLOW -> invokeFlow(invocation, spec, operation);
		};
	}

	private @Nullable LockedMethod lockedMethod(MethodInvocation invocation) {
		Object target = invocation.getThis();
		Class<?> targetClass = (target != null) ? AopUtils.getTargetClass(target) : null;
		MethodClassKey cacheKey = new MethodClassKey(invocation.getMethod(), targetClass);
		Object cached = this.methods.get(cacheKey);
		if (cached == null) {
			Method specific = AopUtils.getMostSpecificMethod(invocation.getMethod(), targetClass);
			cached = this.methods.get(new MethodClassKey(specific, targetClass));
			if (cached == null) {
				LockedMethod parsed = this.parser.parse(specific);
				cached = (parsed != null) ? parsed : NOT_LOCKED;
			}
			this.methods.put(cacheKey, cached);
		}
		return (cached != NOT_LOCKED) ? (LockedMethod) cached : null;
	}

	private LockOperation operation(LockedMethod spec, @Nullable Object[] arguments) {
		LockTemplate template = this.templates.get();
		String key = spec.keys().get(0).evaluate(arguments);
		LockOperation operation;
		if (spec.mode() == LeaseMode.SEMAPHORE) {
			operation = template.semaphore(key, spec.permits());
		}
		else if (spec.mode() == LeaseMode.SHARED) {
			operation = template.shared(key);
		}
		else if (spec.keys().size() == 1) {
			operation = template.exclusive(key);
		}
		else {
			String[] moreKeys = new String[spec.keys().size() - 1];
			for (int i = 0; i < moreKeys.length; i++) {
				moreKeys[i] = spec.keys().get(i + 1).evaluate(arguments);
			}
			operation = template.exclusive(key, moreKeys);
		}
		operation = operation.named(spec.name());
		if (spec.waitTime() != null) {
			operation = operation.waitTime(spec.waitTime());
		}
		if (spec.ttl() != null) {
			operation = operation.ttl(spec.ttl());
		}
		if (!spec.minHold().isZero()) {
			operation = operation.minHold(spec.minHold());
		}
		if (spec.maxHold() != null) {
			operation = operation.maxHold(spec.maxHold());
		}
		if (spec.onLost() == LostPolicy.NOTIFY) {
			operation = operation.onLost(LostPolicy.NOTIFY);
		}
		if (spec.fair()) {
			operation = operation.fair(true);
		}
		KeyTemplate holderDescription = spec.holderDescription();
		if (holderDescription != null) {
			String description = holderDescription.evaluate(arguments);
			try {
				operation = operation.description(description);
			}
			catch (IllegalArgumentException ex) {
				throw holderDescription.refused(ex);
			}
		}
		return operation;
	}

	private @Nullable Object invokeSync(MethodInvocation invocation, LockedMethod spec, LockOperation operation)
			throws Throwable {
		Supplier<@Nullable Object> proceed = () -> {
			try {
				return invocation.proceed();
			}
			catch (Throwable ex) {
				throw new ThrowableWrapper(ex);
			}
		};
		try {
			if (spec.onContention() == ContentionPolicy.SKIP) {
				return operation.call(proceed,
						() -> (spec.returnKind() == ReturnKind.OPTIONAL) ? Optional.empty() : null);
			}
			return operation.call(proceed);
		}
		catch (ThrowableWrapper wrapper) {
			throw wrapper.getCause();
		}
	}

	private @Nullable Object invokeFuture(MethodInvocation invocation, LockedMethod spec, LockOperation operation)
			throws Throwable {
		LockHandle handle;
		try {
			handle = acquire(spec, operation);
		}
		catch (LockNotAcquiredException ex) {
			return CompletableFuture.failedFuture(ex);
		}
		if (handle == null) {
			return CompletableFuture.completedFuture(null);
		}
		Object result;
		try (LockContext.Binding binding = LockContext.bind(handle)) {
			result = invocation.proceed();
		}
		catch (Throwable ex) {
			handle.close();
			throw ex;
		}
		if (result == null) {
			handle.close();
			return null;
		}
		CompletableFuture<?> future = ((CompletionStage<?>) result).toCompletableFuture();
		if (spec.onLost() == LostPolicy.CANCEL) {
			handle.onLost(future::completeExceptionally);
		}
		future.whenComplete((value, failure) -> handle.close());
		return (result instanceof CompletableFuture) ? result : future;
	}

	private @Nullable LockHandle acquire(LockedMethod spec, LockOperation operation) {
		return (spec.onContention() == ContentionPolicy.SKIP) ? operation.tryAcquire().orElse(null)
				: operation.acquire();
	}

	/**
	 * A Kotlin {@code Flow}, locked as the {@code Flux} that Spring's
	 * {@link ReactiveAdapterRegistry} turns it into, and turned back.
	 */
	private Object invokeFlow(MethodInvocation invocation, LockedMethod spec, LockOperation operation) {
		ReactiveAdapter adapter = ReactiveAdapterRegistry.getSharedInstance()
			.getAdapter(invocation.getMethod().getReturnType());
		Assert.state(adapter != null, "No ReactiveAdapter for Kotlin Flow: is kotlinx-coroutines-reactor missing?");
		Object flux = ReactiveLocking.lock(ReturnKind.FLUX, () -> acquire(spec, operation),
				(handle) -> adapter.toPublisher(proceedReactive(invocation, handle)), spec.onLost());
		return adapter.fromPublisher((Publisher<?>) flux);
	}

	private Object proceedReactive(MethodInvocation invocation, LockHandle handle) {
		// Each subscription invokes the method again, under its own lease.
		MethodInvocation current = (invocation instanceof ProxyMethodInvocation proxied) ? proxied.invocableClone()
				: invocation;
		try (LockContext.Binding binding = LockContext.bind(handle)) {
			Object result = current.proceed();
			if (result == null) {
				throw new IllegalStateException("Locked method returned null instead of a Mono, Flux or Flow");
			}
			return result;
		}
		catch (Throwable ex) {
			ReflectionUtils.rethrowRuntimeException(ex);
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * Carries a checked exception of the locked method through {@link Supplier}.
	 */
	private static final class ThrowableWrapper extends RuntimeException {

		private static final long serialVersionUID = 1L;

		ThrowableWrapper(Throwable cause) {
			super(null, cause, false, false);
		}

		@Override
		public synchronized Throwable getCause() {
			Throwable cause = super.getCause();
			return (cause != null) ? cause : this;
		}

	}

}
