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
import java.util.UUID;
import java.util.stream.Stream;

import javax.sql.DataSource;

import org.junit.jupiter.params.provider.Arguments;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The properties that put an application on a backend several application contexts share,
 * for tests that start an application twice as two nodes: the socket backend in a
 * directory of the test's, Redis (a namespace of its own) and PostgreSQL (a table of its
 * own, dropped by {@link #cleanUp}).
 *
 * <pre class="code">
 * &#64;ParameterizedTest(name = "{0}")
 * &#64;MethodSource("backends")
 * void twoNodes(String backend, String[] properties) { ... }
 *
 * static Stream&lt;Arguments&gt; backends() {
 *     return SharedBackends.arguments(temporary);
 * }
 * </pre>
 */
public final class SharedBackends {

	private SharedBackends() {
	}

	/**
	 * One argument set per backend: its name (as {@code LockRepository.backend()} gives
	 * it) and its properties.
	 * @param socketDirectory a directory for the socket backend's lock directory
	 * @return the arguments
	 */
	public static Stream<Arguments> arguments(Path socketDirectory) {
		String suffix = UUID.randomUUID().toString().substring(0, 8);
		return Stream.of(
				Arguments.of("socket",
						new String[] { "latchkey.backend=socket",
								"latchkey.socket.directory=" + socketDirectory.resolve("locks-" + suffix) }),
				Arguments.of("redis",
						new String[] { "latchkey.backend=redis", "spring.data.redis.url=" + TestServers.redisUrl(),
								"latchkey.redis.namespace=latchkey-nodes-" + suffix }),
				Arguments.of("jdbc",
						new String[] { "latchkey.backend=jdbc", "spring.datasource.url=" + TestServers.postgresUrl(),
								"latchkey.jdbc.initialize-schema=always",
								"latchkey.jdbc.table-name=latchkey_nodes_" + suffix }));
	}

	/**
	 * Drops what {@link #arguments} made in a shared server that does not go away by
	 * itself: the JDBC backend's table. Call it before closing the first node.
	 * @param context a node
	 */
	public static void cleanUp(ConfigurableApplicationContext context) {
		String table = context.getEnvironment().getProperty("latchkey.jdbc.table-name");
		if (table != null) {
			JdbcTemplate jdbc = new JdbcTemplate(context.getBean(DataSource.class));
			jdbc.execute("DROP TABLE IF EXISTS " + table);
			jdbc.execute("DROP SEQUENCE IF EXISTS " + table + "_FENCING");
		}
	}

}
