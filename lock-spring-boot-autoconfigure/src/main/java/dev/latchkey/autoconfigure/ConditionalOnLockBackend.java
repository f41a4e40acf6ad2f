package dev.latchkey.autoconfigure;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.context.annotation.Conditional;

import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

/**
 * Matches when {@code latchkey.backend} selects the given backend: it names it and the backend can be used, or it is
 * {@code auto} and chooses it. How the choice is made is {@link BackendChoice}'s; each backend's rule is on its
 * {@link Backend} constant.
 * <pre class="code">
 * &#64;Configuration(proxyBeanMethods = false)
 * &#64;ConditionalOnMissingBean(LockRepository.class)
 * &#64;ConditionalOnLockBackend(Backend.REDIS)
 * static class Redis { ... }
 * </pre>
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ ElementType.TYPE, ElementType.METHOD })
@Documented
@Conditional(OnLockBackendCondition.class)
@interface ConditionalOnLockBackend {

	/**
	 * The backend.
	 * @return the backend
	 */
	Backend value();

}
