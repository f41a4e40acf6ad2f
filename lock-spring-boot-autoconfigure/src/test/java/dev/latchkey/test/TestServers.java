package dev.latchkey.test;

import java.net.URI;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assertions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The addresses of the servers that backend tests run against, read from environment variables that
 * {@code scripts/services.sh} prints (and {@code scripts/test.sh} exports before it runs Maven). Where a variable is
 * not set and a Docker engine answers, Testcontainers starts the server instead (once per test JVM). A test whose
 * server is neither configured nor startable fails with a message that says how to start it, rather than being
 * skipped unnoticed.
 * <pre class="code">
 * URI redis = TestServers.redisUrl();   // redis://127.0.0.1:6379
 * </pre>
 */
public final class TestServers {

	/**
	 * The environment variable that holds the Redis server's URL, for example {@code redis://127.0.0.1:6379}.
	 */
	public static final String REDIS_URL = "LATCHKEY_REDIS_URL";

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

	}

	/**
	 * The URL of the Redis server the tests may use: shared by test classes, so tests keep their keys apart.
	 * @return the URL from {@value #REDIS_URL}
	 */
	public static URI redisUrl() {
		return URI.create(required(REDIS_URL, "Redis", Containers::redisUrl));
	}

	private static String required(String variable, String server, Supplier<String> container) {
		String value = System.getenv(variable);
		if ((value == null || value.isBlank()) && Containers.dockerAvailable()) {
			return container.get();
		}
		if (value == null || value.isBlank()) {
			Assertions.fail(server + " tests need a " + server + " server, and " + variable + " is not set. Run the"
					+ " tests with 'scripts/test.sh' (it starts the servers on loopback and sets the variables), or run"
					+ " 'eval \"$(scripts/services.sh)\"' in your shell first, or set " + variable
					+ " to the server's URL yourself. (With a Docker engine, Testcontainers would start it.)");
		}
		return value.trim();
	}

}
