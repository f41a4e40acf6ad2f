package dev.latchkey.test;

import java.net.URI;

import org.junit.jupiter.api.Assertions;

/**
 * The addresses of the servers that backend tests run against, read from environment variables that
 * {@code scripts/services.sh} prints (and {@code scripts/test.sh} exports before it runs Maven). A test whose server
 * is not configured fails with a message that says how to start it, rather than being skipped unnoticed.
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
	 * The URL of the Redis server the tests may use: shared by test classes, so tests keep their keys apart.
	 * @return the URL from {@value #REDIS_URL}
	 */
	public static URI redisUrl() {
		return URI.create(required(REDIS_URL, "Redis"));
	}

	private static String required(String variable, String server) {
		String value = System.getenv(variable);
		if (value == null || value.isBlank()) {
			Assertions.fail(server + " tests need a " + server + " server, and " + variable + " is not set. Run the"
					+ " tests with 'scripts/test.sh' (it starts the servers on loopback and sets the variables), or run"
					+ " 'eval \"$(scripts/services.sh)\"' in your shell first, or set " + variable
					+ " to the server's URL yourself.");
		}
		return value.trim();
	}

}
