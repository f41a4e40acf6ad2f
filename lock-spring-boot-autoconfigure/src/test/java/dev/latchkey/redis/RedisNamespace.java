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

import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.latchkey.LockRepository;
import dev.latchkey.test.SharedStore;
import dev.latchkey.test.TestServers;

/**
 * A namespace of its own on the Redis server of {@value TestServers#REDIS_URL} for one
 * test class, so that runs sharing the server do not meet: a JUnit extension that
 * connects before the class's tests and, after them, deletes every key written in the
 * namespace (leases expire by themselves, fencing counters do not) and disconnects.
 *
 * <pre class="code">
 * &#64;RegisterExtension
 * static final RedisNamespace redis = new RedisNamespace("latchkey-test");
 * </pre>
 */
public final class RedisNamespace implements SharedStore, BeforeAllCallback, AfterAllCallback {

	private final String namespace;

	private @Nullable LettuceConnectionFactory connectionFactory;

	/**
	 * Makes a namespace.
	 * @param prefix the start of the namespace's name; a random suffix follows it
	 */
	public RedisNamespace(String prefix) {
		this.namespace = prefix + "-" + UUID.randomUUID();
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		this.connectionFactory = RedisTestSupport.connectionFactory(TestServers.redisUrl());
	}

	@Override
	public void afterAll(ExtensionContext context) {
		LettuceConnectionFactory factory = this.connectionFactory;
		if (factory != null) {
			StringRedisTemplate redis = new StringRedisTemplate(factory);
			try (Cursor<String> keys = redis
				.scan(ScanOptions.scanOptions().match("{" + this.namespace + ":*").build())) {
				keys.forEachRemaining(redis::delete);
			}
			factory.destroy();
			this.connectionFactory = null;
		}
	}

	/**
	 * A repository on this namespace: each is another application instance on the same
	 * store.
	 * @return a new repository
	 */
	@Override
	public LockRepository open() {
		LettuceConnectionFactory factory = this.connectionFactory;
		if (factory == null) {
			throw new IllegalStateException("Not connected: register the namespace with @RegisterExtension");
		}
		return new RedisLockRepository(factory, this.namespace);
	}

	/**
	 * Ends a fair waiter's place in its key's queue as the death of its process would:
	 * its deadline passes now.
	 * @param key the lock key the waiter is queued for
	 * @param token the token of the waiter's lease
	 */
	public void expireFairPlace(String key, String token) {
		LettuceConnectionFactory factory = this.connectionFactory;
		if (factory == null) {
			throw new IllegalStateException("Not connected: register the namespace with @RegisterExtension");
		}
		RedisTestSupport.expireFairPlace(factory, this.namespace, key, token);
	}

	@Override
	public LockRepository openPeer(LockRepository first) {
		return open();
	}

	@Override
	public void close(LockRepository repository) {
		((RedisLockRepository) repository).close();
	}

}
