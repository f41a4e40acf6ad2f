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

import org.jspecify.annotations.Nullable;

import org.springframework.beans.BeanWrapper;
import org.springframework.beans.BeanWrapperImpl;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.util.ClassUtils;

import dev.latchkey.LockConfigurationException;

/**
 * The {@link RedisConnectionFactory} the Redis backend uses: the application's, or, when
 * it has none and {@code latchkey.url} gives the address, one that Latchkey makes, owns
 * and closes with the context. Latchkey's own is never a {@code RedisConnectionFactory}
 * bean, so it neither stands in for Spring Boot's nor is used by the application.
 * <p>
 * With both the application's factory and a URL, the URL must name the server the factory
 * connects to; otherwise the start fails rather than leaving two clients that point to
 * different servers.
 */
final class LockRedisConnection implements AutoCloseable {

	private static final String LETTUCE_CLASS = "io.lettuce.core.RedisClient";

	private final RedisConnectionFactory connectionFactory;

	private final @Nullable Runnable closer;

	LockRedisConnection(RedisConnectionFactory connectionFactory, @Nullable Runnable closer) {
		this.connectionFactory = connectionFactory;
		this.closer = closer;
	}

	/**
	 * The connection for the given configuration.
	 * @param applicationFactory the application's connection factory, or {@code null}
	 * @param url {@code latchkey.url}, or {@code null}
	 * @param classLoader the application's class loader
	 * @return the connection
	 * @throws LockConfigurationException when the URL names another server than the
	 * application's factory, or when Latchkey cannot make a client
	 */
	static LockRedisConnection of(@Nullable RedisConnectionFactory applicationFactory, LockUrl.@Nullable Redis url,
			@Nullable ClassLoader classLoader) {
		if (applicationFactory != null) {
			if (url != null) {
				checkSameServer(applicationFactory, url);
			}
			return new LockRedisConnection(applicationFactory, null);
		}
		if (url == null) {
			throw new IllegalStateException("The Redis backend was chosen with neither a connection factory nor a URL");
		}
		if (!ClassUtils.isPresent(LETTUCE_CLASS, classLoader)) {
			throw new LockConfigurationException("latchkey.url is a redis URL (" + url
					+ ") and the application has no RedisConnectionFactory, but Lettuce, with which Latchkey connects,"
					+ " is not on the class path",
					"Add io.lettuce:lettuce-core (org.springframework.boot:spring-boot-starter-data-redis brings it),"
							+ " or define a RedisConnectionFactory bean");
		}
		return LatchkeyLettuceConnection.connect(url);
	}

	private static void checkSameServer(RedisConnectionFactory factory, LockUrl.Redis url) {
		BeanWrapper properties = new BeanWrapperImpl(factory);
		String topology = null;
		if (isTrue(properties, "redisSentinelAware")) {
			topology = "a Redis Sentinel setup";
		}
		else if (isTrue(properties, "clusterAware") || isTrue(properties, "redisClusterAware")) {
			topology = "a Redis Cluster";
		}
		String action = "Latchkey uses the application's RedisConnectionFactory when there is one: remove latchkey.url"
				+ " (or write latchkey.backend=redis instead), or make spring.data.redis.* point to " + url.address();
		if (topology != null) {
			throw new LockConfigurationException("latchkey.url names the single Redis server " + url.address()
					+ ", but the application's RedisConnectionFactory connects to " + topology, action);
		}
		if (!properties.isReadableProperty("hostName") || !properties.isReadableProperty("port")) {
			throw new LockConfigurationException(
					"latchkey.url is " + url + ", but the application's RedisConnectionFactory ("
							+ factory.getClass().getName()
							+ ") does not tell which server it connects to, so Latchkey cannot check that they agree",
					action);
		}
		String host = String.valueOf(properties.getPropertyValue("hostName"));
		int port = (int) properties.getPropertyValue("port");
		int database = properties.isReadableProperty("database") ? (int) properties.getPropertyValue("database") : 0;
		boolean ssl = isTrue(properties, "useSsl");
		String address = (ssl ? "rediss://" : "redis://") + host + ":" + port + "/" + database;
		if (port != url.port() || database != url.database() || ssl != url.ssl() || !Hosts.same(host, url.host())) {
			throw new LockConfigurationException("latchkey.url is " + url.address()
					+ ", but the application's RedisConnectionFactory connects to " + address, action);
		}
	}

	private static boolean isTrue(BeanWrapper properties, String name) {
		return properties.isReadableProperty(name) && Boolean.TRUE.equals(properties.getPropertyValue(name));
	}

	RedisConnectionFactory connectionFactory() {
		return this.connectionFactory;
	}

	/**
	 * Whether Latchkey made the connection factory, from {@code latchkey.url}.
	 * @return whether it is Latchkey's own
	 */
	boolean isOwned() {
		return this.closer != null;
	}

	/**
	 * Closes Latchkey's own connection factory; leaves the application's alone.
	 */
	@Override
	public void close() {
		if (this.closer != null) {
			this.closer.run();
		}
	}

}
