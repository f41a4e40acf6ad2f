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

import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The addresses of the servers that backend tests run against, read from environment
 * variables that {@code scripts/services.sh} prints (and {@code scripts/test.sh} exports
 * before it runs Maven). Where a variable is not set and a Docker engine answers,
 * Testcontainers starts the server instead (once per test JVM). A test whose server is
 * neither configured nor startable fails with a message that says how to start it, rather
 * than being skipped unnoticed.
 *
 * <pre class="code">
 * URI redis = TestServers.redisUrl();   // redis://127.0.0.1:6379
 * </pre>
 */
public final class TestServers {

	/**
	 * The environment variable that holds the Redis server's URL, for example
	 * {@code redis://127.0.0.1:6379}.
	 */
	public static final String REDIS_URL = "LATCHKEY_REDIS_URL";

	/**
	 * The environment variable that holds the JDBC URL of a PostgreSQL database the tests
	 * may use, user included, for example
	 * {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}.
	 */
	public static final String POSTGRES_URL = "LATCHKEY_POSTGRES_URL";

	/**
	 * The environment variable that holds the JDBC URL of a MariaDB (or MySQL) database
	 * the tests may use, user included, for example
	 * {@code jdbc:mariadb://127.0.0.1:3306/test?user=root}.
	 */
	public static final String MARIADB_URL = "LATCHKEY_MARIADB_URL";

	/**
	 * The environment variable that holds the endpoints of a single etcd node, for
	 * example {@code http://127.0.0.1:23790}.
	 */
	public static final String ETCD_ENDPOINTS = "LATCHKEY_TEST_ETCD_ENDPOINTS";

	/**
	 * The environment variable that holds the endpoints of a three-member etcd cluster,
	 * separated by commas.
	 */
	public static final String ETCD_CLUSTER_ENDPOINTS = "LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS";

	private TestServers() {
	}

	/**
	 * Servers in containers, for machines with a Docker engine and no configured servers.
	 */
	private static final class Containers {

		private static @Nullable GenericContainer<?> redis;

		static boolean dockerAvailable() {
			try {
				return DockerClientFactory.instance().isDockerAvailable();
			}
			catch (RuntimeException | LinkageError ex) {
				return false;
			}
		}

		static synchronized String redisUrl() {
			if (redis == null) {
				GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse("redis:7.0"))
					.withExposedPorts(6379);
				container.start();
				redis = container;
			}
			return "redis://" + redis.getHost() + ":" + redis.getMappedPort(6379);
		}

		private static @Nullable GenericContainer<?> postgres;

		private static @Nullable GenericContainer<?> mariadb;

		static synchronized String postgresUrl() {
			if (postgres == null) {
				GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse("postgres:15"))
					.withEnv("POSTGRES_HOST_AUTH_METHOD", "trust")
					.withEnv("POSTGRES_DB", "test")
					.withExposedPorts(5432);
				container.start();
				postgres = container;
			}
			return "jdbc:postgresql://" + postgres.getHost() + ":" + postgres.getMappedPort(5432)
					+ "/test?user=postgres";
		}

		static synchronized String mariadbUrl() {
			if (mariadb == null) {
				GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse("mariadb:10.11"))
					.withEnv("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "1")
					.withEnv("MARIADB_DATABASE", "test")
					.withExposedPorts(3306);
				container.start();
				mariadb = container;
			}
			return "jdbc:mariadb://" + mariadb.getHost() + ":" + mariadb.getMappedPort(3306) + "/test?user=root";
		}

	}

	/**
	 * The URL of the Redis server the tests may use: shared by test classes, so tests
	 * keep their keys apart.
	 * @return the URL from {@value #REDIS_URL}
	 */
	public static URI redisUrl() {
		return URI.create(required(REDIS_URL, "Redis", Containers::redisUrl));
	}

	/**
	 * The JDBC URL of the PostgreSQL database the tests may use: shared by test classes,
	 * so each test class makes a lock table of its own.
	 * @return the URL from {@value #POSTGRES_URL}
	 */
	public static String postgresUrl() {
		return required(POSTGRES_URL, "PostgreSQL", Containers::postgresUrl);
	}

	/**
	 * The JDBC URL of the MariaDB database the tests may use: shared by test classes, so
	 * each test class makes a lock table of its own.
	 * @return the URL from {@value #MARIADB_URL}
	 */
	public static String mariadbUrl() {
		return required(MARIADB_URL, "MariaDB", Containers::mariadbUrl);
	}

	/**
	 * The endpoints of the single etcd node the tests may use: shared by test classes, so
	 * tests keep their keys apart (in a namespace of their own). There is no container
	 * fallback for etcd: {@code scripts/services.sh} starts it.
	 * @return the endpoints from {@value #ETCD_ENDPOINTS}
	 */
	public static List<URI> etcdEndpoints() {
		return endpoints(required(ETCD_ENDPOINTS, "etcd", null));
	}

	/**
	 * The endpoints of the three-member etcd cluster the tests may use, shared like
	 * {@link #etcdEndpoints()}.
	 * @return the endpoints from {@value #ETCD_CLUSTER_ENDPOINTS}
	 */
	public static List<URI> etcdClusterEndpoints() {
		return endpoints(required(ETCD_CLUSTER_ENDPOINTS, "etcd cluster", null));
	}

	private static List<URI> endpoints(String value) {
		return Arrays.stream(value.split(","))
			.map(String::trim)
			.filter((endpoint) -> !endpoint.isEmpty())
			.map(URI::create)
			.toList();
	}

	private static String required(String variable, String server, @Nullable Supplier<String> container) {
		String value = System.getenv(variable);
		if ((value == null || value.isBlank()) && container != null && Containers.dockerAvailable()) {
			return container.get();
		}
		if (value == null || value.isBlank()) {
			org.assertj.core.api.Assertions.fail(server + " tests need a running " + server + ", and " + variable
					+ " is not set. Run the"
					+ " tests with 'scripts/test.sh' (it starts the servers on loopback and sets the variables), or run"
					+ " 'eval \"$(scripts/services.sh)\"' in your shell first, or set " + variable
					+ " to the server's URL yourself."
					+ ((container != null) ? " (With a Docker engine, Testcontainers would start it.)" : ""));
		}
		return value.trim();
	}

}
