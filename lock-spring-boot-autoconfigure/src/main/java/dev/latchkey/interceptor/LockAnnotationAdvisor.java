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

import org.aopalliance.aop.Advice;

import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;

import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.Semaphore;
import dev.latchkey.annotation.Shared;

/**
 * Applies the {@link LockInterceptor} to methods annotated with {@code @Exclusive},
 * {@code @Shared} or {@code @Semaphore}, declared on the class or on an interface or
 * superclass method it overrides.
 */
final class LockAnnotationAdvisor extends AbstractPointcutAdvisor {

	private static final long serialVersionUID = 1L;

	private final transient LockInterceptor interceptor;

	private final transient Pointcut pointcut;

	LockAnnotationAdvisor(LockInterceptor interceptor) {
		this.interceptor = interceptor;
		this.pointcut = new ComposablePointcut(new AnnotationMatchingPointcut(null, Exclusive.class, true))
			.union(new AnnotationMatchingPointcut(null, Semaphore.class, true))
			.union(new AnnotationMatchingPointcut(null, Shared.class, true));
	}

	@Override
	public Pointcut getPointcut() {
		return this.pointcut;
	}

	@Override
	public Advice getAdvice() {
		return this.interceptor;
	}

}
