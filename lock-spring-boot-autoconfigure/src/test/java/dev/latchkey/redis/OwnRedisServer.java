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
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.util.Assert;
import org.springframework.util.FileSystemUtils;

/**
 * A redis-server of a test class's own ({@link RedisServerProcess}), started before the
 * class's tests and stopped after them, with the connection factories the tests ask for:
 * for tests that read a server's command counts or change its data under the
 * repositories, which they must never do to the shared server.
 *
 * <pre class="code">
 * &#64;RegisterExtension
 * static final OwnRedisServer redis = new OwnRedisServer();
 *
 * RedisLockRepository holder = new RedisLockRepository(redis.connections(), "test");
 * RedisLockRepository other = new RedisLockRepository(redis.connections(1), "test");
 * redis.server().reply("INFO commandstats");
 * </pre>
 */
final class OwnRedisServer implements BeforeAllCallback, AfterAllCallback {

	private final List<LettuceConnectionFactory> factories = new ArrayList<>();

	private @Nullable Path directory;

	private @Nullable RedisServerProcess server;

	@Override
	public void beforeAll(ExtensionContext context) throws IOException {
		this.directory = Files.createTempDirectory("latchkey-redis-");
		this.server = RedisServerProcess.start(this.directory);
	}

	@Override
	public synchronized void afterAll(ExtensionContext context) {
		this.factories.forEach(LettuceConnectionFactory::destroy);
		this.factories.clear();
		if (this.server != null) {
			this.server.close();
			this.server = null;
		}
		if (this.directory != null) {
			try {
				FileSystemUtils.deleteRecursively(this.directory);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
			this.directory = null;
		}
	}

	/**
	 * The running server.
	 * @return the server
	 */
	RedisServerProcess server() {
		Assert.state(this.server != null, "The server runs only while the class's tests do");
		return this.server;
	}

	/**
	 * The connection factory of the class's tests: {@code connections(0)}.
	 * @return the factory
	 */
	LettuceConnectionFactory connections() {
		return connections(0);
	}

	/**
	 * The connection factory of an instance, made on first use: each instance has
	 * connections of its own, as separate processes would.
	 * @param instance the instance, from 0
	 * @return the factory
	 */
	synchronized LettuceConnectionFactory connections(int instance) {
		while (this.factories.size() <= instance) {
			this.factories.add(RedisTestSupport.connectionFactory(server().url()));
		}
		return this.factories.get(instance);
	}

}
