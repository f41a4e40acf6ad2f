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

package dev.latchkey.test.context;

import java.lang.reflect.Method;

import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.support.AopUtils;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.util.function.SingletonSupplier;

import dev.latchkey.LockContext;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.Semaphore;

/**
 * Tells the {@link LockRecorder} which method each lock of an {@code @Exclusive} or
 * {@code @Semaphore} method was taken for. Its advice runs inside Latchkey's own (an
 * advisor added to a proxy after it, or one Latchkey's post-processor puts its own
 * before), so that the method's lease is current when it runs.
 */
class LockedMethodRecorder extends AbstractBeanFactoryAwareAdvisingPostProcessor {

	private static final long serialVersionUID = 1L;

	private transient @Nullable BeanFactory beanFactory;

	LockedMethodRecorder() {
		SingletonSupplier<LockRecorder> recorder = SingletonSupplier
			.of(() -> (this.beanFactory != null) ? this.beanFactory.getBean(LockRecorder.class) : null);
		MethodInterceptor interceptor = (invocation) -> record(recorder.get(), invocation);
		this.advisor = new DefaultPointcutAdvisor(
				new ComposablePointcut(new AnnotationMatchingPointcut(null, Exclusive.class, true))
					.union(new AnnotationMatchingPointcut(null, Semaphore.class, true)),
				interceptor);
		setBeforeExistingAdvisors(false);
	}

	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		super.setBeanFactory(beanFactory);
		this.beanFactory = beanFactory;
	}

	private static @Nullable Object record(@Nullable LockRecorder recorder, MethodInvocation invocation)
			throws Throwable {
		if (recorder != null) {
			Object target = invocation.getThis();
			Method method = (target != null)
					? AopUtils.getMostSpecificMethod(invocation.getMethod(), AopUtils.getTargetClass(target))
					: invocation.getMethod();
			LockContext.current().ifPresent((lease) -> recorder.lockedBy(lease.key(), lease.fencingToken(), method));
		}
		return invocation.proceed();
	}

}
