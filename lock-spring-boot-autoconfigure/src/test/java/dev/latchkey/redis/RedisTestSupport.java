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

import java.net.URI;
import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connection factories for the Redis tests.
 */
final class RedisTestSupport {

	private RedisTestSupport() {
	}

	/**
	 * A started Lettuce connection factory for a {@code redis://host:port} URL, with a
	 * command timeout short enough that a dead server fails a call well within the tests'
	 * lease TTLs.
	 * @param url the server's URL
	 * @return the started factory, to destroy after use
	 */
	static LettuceConnectionFactory connectionFactory(URI url) {
		return connectionFactory(url, null, null);
	}

	/**
	 * A started Lettuce connection factory that logs in as an ACL user.
	 * @param url the server's URL
	 * @param username the user, or {@code null} for the default user
	 * @param password the user's password, or {@code null}
	 * @return the started factory, to destroy after use
	 */
	static LettuceConnectionFactory connectionFactory(URI url, @Nullable String username, @Nullable String password) {
		return connectionFactory(url, username, password, Duration.ofSeconds(2));
	}

	/**
	 * A started Lettuce connection factory with a command timeout of the caller's choice.
	 * @param url the server's URL
	 * @param commandTimeout how long a command may wait for the server's reply
	 * @return the started factory, to destroy after use
	 */
	static LettuceConnectionFactory connectionFactory(URI url, Duration commandTimeout) {
		return connectionFactory(url, null, null, commandTimeout);
	}

	private static LettuceConnectionFactory connectionFactory(URI url, @Nullable String username,
			@Nullable String password, Duration commandTimeout) {
		RedisStandaloneConfiguration server = new RedisStandaloneConfiguration(url.getHost(),
				(url.getPort() > 0) ? url.getPort() : 6379);
		server.setUsername(username);
		if (password != null) {
			server.setPassword(password);
		}
		LettuceClientConfiguration client = LettuceClientConfiguration.builder().commandTimeout(commandTimeout).build();
		LettuceConnectionFactory factory = new LettuceConnectionFactory(server, client);
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

	/**
	 * Ends a fair waiter's place in its key's queue as the death of its process would:
	 * its deadline passes now.
	 * @param factory a connection factory for the repository's server or Cluster
	 * @param namespace the repository's namespace
	 * @param key the lock key the waiter is queued for
	 * @param token the token of the waiter's lease
	 */
	static void expireFairPlace(RedisConnectionFactory factory, String namespace, String key, String token) {
		StringRedisTemplate redis = new StringRedisTemplate(factory);
		String queued = "{" + namespace + ":" + key + "}:queued";
		List<Object> places = redis.opsForHash()
			.keys(queued)
			.stream()
			// Not what a release needs to grant the place the key ('>' and the place).
			.filter((place) -> place.toString().endsWith(" " + token) && !place.toString().startsWith(">"))
			.toList();
		assertThat(places).as("the queue place of the lease %s", token).singleElement();
		redis.opsForHash().put(queued, places.get(0), "0");
	}

}
