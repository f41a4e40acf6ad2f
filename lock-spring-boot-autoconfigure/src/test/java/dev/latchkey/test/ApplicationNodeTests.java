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

package dev.latchkey.test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.Arguments;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Tests that start an application several times, as nodes that lock together on one
 * backend of {@link SharedBackends}; the nodes are closed after each test.
 *
 * <pre class="code">
 * &#64;ParameterizedTest(name = "{0}")
 * &#64;MethodSource(ApplicationNodeTests.BACKENDS)
 * void twoNodes(String backend, String[] properties) {
 *     ConfigurableApplicationContext nodeA = startNode(MyApplication.class, properties);
 *     ConfigurableApplicationContext nodeB = startNode(MyApplication.class, properties);
 * }
 * </pre>
 */
public abstract class ApplicationNodeTests {

	/**
	 * The {@code @MethodSource} of the backends: each test runs once per backend, with
	 * its name and its properties.
	 */
	public static final String BACKENDS = "dev.latchkey.test.ApplicationNodeTests#backends";

	@TempDir
	static Path temporary;

	private final List<ConfigurableApplicationContext> nodes = new ArrayList<>();

	static Stream<Arguments> backends() {
		return SharedBackends.arguments(temporary);
	}

	/**
	 * Starts a node: the application, not a web application, on a backend's properties.
	 * @param application the application's configuration
	 * @param backendProperties the backend's properties
	 * @param properties properties of the test's own
	 * @return the started node
	 */
	protected ConfigurableApplicationContext startNode(Class<?> application, String[] backendProperties,
			String... properties) {
		ConfigurableApplicationContext node = new SpringApplicationBuilder(application).web(WebApplicationType.NONE)
			.properties("spring.main.banner-mode=off")
			.properties(backendProperties)
			.properties(properties)
			.run();
		this.nodes.add(node);
		return node;
	}

	@AfterEach
	void stopNodes() {
		if (!this.nodes.isEmpty()) {
			SharedBackends.cleanUp(this.nodes.get(0));
		}
		this.nodes.forEach(ConfigurableApplicationContext::close);
	}

}
