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

package dev.latchkey.redis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.data.redis.connection.RedisSentinelConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.test.util.TestSocketUtils;

import dev.latchkey.LockRepository;
import dev.latchkey.test.contract.CrossInstanceContract;
import dev.latchkey.test.contract.LockRepositoryContract;

/**
 * The Redis backend passes the backend contract through Sentinel: a primary and one
 * sentinel that monitors it, both on free loopback ports, started and stopped by the
 * test; the connection factory finds the primary by asking the sentinel, as an
 * application configured with {@code spring.data.redis.sentinel.*} does.
 */
class RedisSentinelLockRepositoryTests extends LockRepositoryContract implements CrossInstanceContract {

	private static final String NAMESPACE = "latchkey-sentinel-test-" + UUID.randomUUID();

	private static final String MASTER = "latchkey";

	@TempDir
	static Path temporary;

	private static RedisServerProcess primary;

	private static Process sentinel;

	private static LettuceConnectionFactory connectionFactory;

	@BeforeAll
	static void startSentinel() throws Exception {
		primary = RedisServerProcess.start(temporary);
		int sentinelPort = TestSocketUtils.findAvailableTcpPort();
		Path configuration = temporary.resolve("sentinel.conf");
		// Sentinel rewrites its configuration file, so it must be a file of its own.
		Files.writeString(configuration, String.join("\n", "port " + sentinelPort, "bind 127.0.0.1",
				"sentinel monitor " + MASTER + " 127.0.0.1 " + primary.port() + " 1", ""));
		try {
			sentinel = new ProcessBuilder("redis-server", configuration.toString(), "--sentinel")
				.redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(temporary.resolve("sentinel.log").toFile()))
				.start();
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not run redis-server --sentinel, which this test starts on a port of"
					+ " its own: install redis-server (scripts/services.sh does) and put it on the PATH", ex);
		}
		RedisSentinelConfiguration sentinels = new RedisSentinelConfiguration(MASTER,
				Set.of("127.0.0.1:" + sentinelPort));
		LettuceClientConfiguration client = LettuceClientConfiguration.builder()
			.commandTimeout(Duration.ofSeconds(2))
			.build();
		connectionFactory = new LettuceConnectionFactory(sentinels, client);
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		Awaitility.await("the sentinel naming the primary")
			.atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(100))
			.ignoreExceptions()
			.until(() -> {
				try (var connection = connectionFactory.getConnection()) {
					return "PONG".equals(connection.ping());
				}
			});
	}

	@AfterAll
	static void stopSentinel() throws Exception {
		if (connectionFactory != null) {
			connectionFactory.destroy();
		}
		if (sentinel != null) {
			sentinel.destroyForcibly().waitFor();
		}
		if (primary != null) {
			primary.close();
		}
	}

	@Override
	public LockRepository createRepository() {
		return new RedisLockRepository(connectionFactory, NAMESPACE);
	}

}
