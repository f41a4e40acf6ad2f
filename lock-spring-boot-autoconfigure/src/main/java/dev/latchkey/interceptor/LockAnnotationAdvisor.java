package dev.latchkey.interceptor;

import org.aopalliance.aop.Advice;

import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;

import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.Semaphore;

/**
 * Applies the {@link LockInterceptor} to methods annotated with {@code @Exclusive} or {@code @Semaphore}, declared on
 * the class or on an interface or superclass method it overrides.
 */
final class LockAnnotationAdvisor extends AbstractPointcutAdvisor {

	private static final long serialVersionUID = 1L;

	private final transient LockInterceptor interceptor;

	private final transient Pointcut pointcut;

	LockAnnotationAdvisor(LockInterceptor interceptor) {
		this.interceptor = interceptor;
		this.pointcut = new ComposablePointcut(new AnnotationMatchingPointcut(null, Exclusive.class, true))
			.union(new AnnotationMatchingPointcut(null, Semaphore.class, true));
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
