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

import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.MergedContextConfiguration;

/**
 * Sets {@code latchkey.backend=memory} below the test's own properties (so that a test
 * that names a backend gets it) and above the system properties, the environment and the
 * application's configuration files (so that none of them makes a test reach a lock
 * server or the host's lock directory); and registers the {@link LockRecorder} with its
 * {@link LockedMethodRecorder}.
 */
class LatchkeyTestContextCustomizer implements ContextCustomizer {

	static final String BACKEND_PROPERTY = "latchkey.backend";

	static final String PROPERTY_SOURCE_NAME = "latchkeyTestBackend";

	private static final String RECORDER_BEAN_NAME = "latchkeyLockRecorder";

	private static final String METHOD_RECORDER_BEAN_NAME = "dev.latchkey.test.context.internalLockedMethodRecorder";

	@Override
	public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration mergedConfig) {
		MutablePropertySources sources = context.getEnvironment().getPropertySources();
		MapPropertySource memory = new MapPropertySource(PROPERTY_SOURCE_NAME, Map.of(BACKEND_PROPERTY, "memory"));
		// Below every source of the test (inlined properties, property files, dynamic
		// properties, command-line arguments: all added in front of the system
		// properties), above every source of the application.
		if (sources.contains(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME)) {
			sources.addBefore(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME, memory);
		}
		else {
			sources.addLast(memory);
		}
		if (context instanceof BeanDefinitionRegistry registry) {
			registry.registerBeanDefinition(RECORDER_BEAN_NAME, new RootBeanDefinition(LockRecorder.class));
			RootBeanDefinition methods = new RootBeanDefinition(LockedMethodRecorder.class);
			methods.setRole(BeanDefinition.ROLE_INFRASTRUCTURE);
			registry.registerBeanDefinition(METHOD_RECORDER_BEAN_NAME, methods);
		}
	}

	@Override
	public boolean equals(@Nullable Object other) {
		return other != null && other.getClass() == getClass();
	}

	@Override
	public int hashCode() {
		return getClass().hashCode();
	}

}
