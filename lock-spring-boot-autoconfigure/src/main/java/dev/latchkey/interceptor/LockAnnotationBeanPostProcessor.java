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

import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;
import org.springframework.util.StringValueResolver;
import org.springframework.util.function.SingletonSupplier;

import dev.latchkey.LockTemplate;

/**
 * Proxies beans that have {@code @Exclusive}, {@code @Shared} or {@code @Semaphore}
 * methods, so that each call runs under its lock. Registered by Latchkey's
 * auto-configuration; register it yourself only without Spring Boot:
 *
 * <pre class="code">
 * &#64;Bean
 * static LockAnnotationBeanPostProcessor lockAnnotationBeanPostProcessor(ObjectProvider&lt;LockTemplate&gt; locks) {
 *     return new LockAnnotationBeanPostProcessor(locks::getObject);
 * }
 * </pre>
 * <p>
 * The annotations of each bean are parsed when the bean is created, so a broken key
 * template or attribute fails the application start and names the method; so does
 * {@code @Exclusive(fair = true)} on a backend that does not honour it, checked once the
 * application's singletons exist. The lock advisor is put before the bean's existing
 * advisors: a lock is taken before a {@code @Transactional} transaction begins and
 * released after it commits.
 *
 * @since 0.1.0
 */
public class LockAnnotationBeanPostProcessor extends AbstractBeanFactoryAwareAdvisingPostProcessor
		implements EnvironmentAware, SmartInitializingSingleton {

	private static final long serialVersionUID = 1L;

	private final transient Supplier<LockTemplate> templates;

	private transient LockInterceptor interceptor;

	/**
	 * Creates a post-processor.
	 * @param templates supplies the template locks are taken through, when the first
	 * locked bean needs it
	 */
	public LockAnnotationBeanPostProcessor(Supplier<LockTemplate> templates) {
		this.templates = SingletonSupplier.of(templates);
		this.interceptor = createInterceptor(null);
		this.advisor = new LockAnnotationAdvisor(this.interceptor);
		setBeforeExistingAdvisors(true);
	}

	@Override
	public void setEnvironment(Environment environment) {
		// Strict: a placeholder that names no property fails the start rather than
		// becoming a literal.
		this.interceptor = createInterceptor(environment::resolveRequiredPlaceholders);
		this.advisor = new LockAnnotationAdvisor(this.interceptor);
	}

	private LockInterceptor createInterceptor(@Nullable StringValueResolver placeholders) {
		return new LockInterceptor(this.templates, new LockedMethodParser(placeholders, this.templates));
	}

	/**
	 * Checks the fair locks of the beans made so far against the backend, and those of
	 * later beans as they are made.
	 * @throws dev.latchkey.LockConfigurationException if the backend does not honour fair
	 * locks
	 */
	@Override
	public void afterSingletonsInstantiated() {
		this.interceptor.checkFairness();
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (isEligible(bean, beanName)) {
			this.interceptor.prepare(AopUtils.getTargetClass(bean));
		}
		return super.postProcessAfterInitialization(bean, beanName);
	}

}
