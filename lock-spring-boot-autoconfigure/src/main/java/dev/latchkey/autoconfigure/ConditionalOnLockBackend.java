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

package dev.latchkey.autoconfigure;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.context.annotation.Conditional;

import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

/**
 * Matches when {@code latchkey.backend} selects the given backend: it names it and the
 * backend can be used, or it is {@code auto} and chooses it. How the choice is made is
 * {@link BackendChoice}'s; each backend's rule is on its {@link Backend} constant.
 *
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
