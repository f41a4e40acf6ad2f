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

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanClassLoaderAware;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;

/**
 * Stops the start, before any bean is made, when the application has no
 * {@link LockRepository} because {@code latchkey.backend} could not select one: it names
 * a backend whose library or configuration is missing, or it is {@code auto} and several
 * backends are configured. Throws the {@link LockConfigurationException} of the
 * {@link BackendChoice}, which {@link LockConfigurationFailureAnalyzer} shows as what is
 * wrong and what to set:
 *
 * <pre class="code">
 * Description:
 * latchkey.backend is redis, but the application has no RedisConnectionFactory bean
 * Action:
 * Add org.springframework.boot:spring-boot-starter-data-redis and configure spring.data.redis.* ...
 * </pre>
 * <p>
 * A repository of the application's own makes the choice moot: then only a malformed
 * {@code latchkey.url} fails the start.
 */
class BackendChoiceCheck implements BeanFactoryPostProcessor, EnvironmentAware, BeanClassLoaderAware {

	private @Nullable Environment environment;

	private @Nullable ClassLoader classLoader;

	@Override
	public void setEnvironment(Environment environment) {
		this.environment = environment;
	}

	@Override
	public void setBeanClassLoader(ClassLoader classLoader) {
		this.classLoader = classLoader;
	}

	@Override
	public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
		if (this.environment == null) {
			return;
		}
		// A malformed latchkey.url fails the start even where the application's own
		// repository makes it moot: a value that cannot be read is never ignored.
		LockUrl.of(this.environment);
		if (BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beanFactory, LockRepository.class, true,
				false).length > 0) {
			return;
		}
		BackendChoice.Failure failure = BackendChoice
			.resolve(new BackendRule.Context(this.environment, beanFactory, this.classLoader))
			.failure();
		if (failure != null) {
			throw failure.toException();
		}
	}

}
