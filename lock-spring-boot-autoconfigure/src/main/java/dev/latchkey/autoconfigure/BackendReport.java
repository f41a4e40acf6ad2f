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

import java.util.stream.Collectors;

import org.springframework.beans.factory.annotation.AnnotatedBeanDefinition;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.core.log.LogAccessor;
import org.springframework.core.type.MethodMetadata;

import dev.latchkey.LockRepository;
import dev.latchkey.socket.SocketLockRepository;

/**
 * The one line logged at startup that names the backend Latchkey uses and why it was
 * chosen, so that a first run shows where locks live without reading the condition
 * report:
 *
 * <pre class="code">
 * Latchkey: using the socket backend (latchkey.backend=auto, no RedisConnectionFactory bean, DataSource bean or latchkey.etcd.endpoints configured); lock directory /tmp/latchkey-alice
 * </pre>
 */
final class BackendReport {

	private static final LogAccessor logger = new LogAccessor(LatchkeyAutoConfiguration.class);

	private BackendReport() {
	}

	static void log(LockRepository repository, LatchkeyProperties properties,
			ConfigurableListableBeanFactory beanFactory) {
		logger.info(() -> describe(repository, properties, beanFactory));
	}

	static String describe(LockRepository repository, LatchkeyProperties properties,
			ConfigurableListableBeanFactory beanFactory) {
		String backend = repository.backend();
		StringBuilder line = new StringBuilder("Latchkey: using the ").append(backend).append(" backend (");
		if (!madeByLatchkey(beanFactory)) {
			line.append("the application's own LockRepository bean, ").append(repository.getClass().getName());
		}
		else {
			Environment environment = beanFactory.getBean(ConfigurableApplicationContext.ENVIRONMENT_BEAN_NAME,
					Environment.class);
			BackendChoice choice = BackendChoice
				.resolve(new BackendRule.Context(environment, beanFactory, beanFactory.getBeanClassLoader()));
			if (choice.url() != null) {
				line.append("latchkey.url=").append(choice.url());
			}
			else {
				line.append("latchkey.backend=")
					.append(choice.automatic() ? "auto, " + choice.why() : properties.getBackend().value());
			}
		}
		line.append(")");
		if (repository instanceof SocketLockRepository socket) {
			line.append("; lock directory ").append(socket.getDirectory());
		}
		else if ("redis".equals(backend) && madeByLatchkey(beanFactory)) {
			line.append("; namespace ").append(properties.getRedis().getNamespace());
		}
		else if ("etcd".equals(backend) && madeByLatchkey(beanFactory)
				&& !properties.getEtcd().getEndpoints().isEmpty()) {
			line.append("; endpoints ")
				.append(properties.getEtcd()
					.getEndpoints()
					.stream()
					.map(Object::toString)
					.collect(Collectors.joining(",")));
		}
		return line.toString();
	}

	/**
	 * Whether the repository comes from one of Latchkey's backend configurations, rather
	 * than from the application.
	 */
	private static boolean madeByLatchkey(ConfigurableListableBeanFactory beanFactory) {
		for (String name : beanFactory.getBeanNamesForType(LockRepository.class, true, false)) {
			if (!beanFactory.containsBeanDefinition(name)) {
				continue;
			}
			BeanDefinition definition = beanFactory.getBeanDefinition(name);
			if (definition instanceof AnnotatedBeanDefinition annotated) {
				MethodMetadata factoryMethod = annotated.getFactoryMethodMetadata();
				if (factoryMethod != null && factoryMethod.getDeclaringClassName()
					.startsWith(LatchkeyAutoConfiguration.class.getPackageName() + ".")) {
					return true;
				}
			}
		}
		return false;
	}

}
