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

import org.springframework.data.redis.connection.RedisPassword;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Latchkey's own Lettuce connection, made from {@code latchkey.url}. Apart from
 * {@link LockRedisConnection} so that Lettuce is loaded only when it is used.
 */
final class LatchkeyLettuceConnection {

	private LatchkeyLettuceConnection() {
	}

	static LockRedisConnection connect(LockUrl.Redis url) {
		RedisStandaloneConfiguration server = new RedisStandaloneConfiguration(url.host(), url.port());
		server.setDatabase(url.database());
		if (url.username() != null) {
			server.setUsername(url.username());
		}
		if (url.password() != null) {
			server.setPassword(RedisPassword.of(url.password()));
		}
		LettuceClientConfiguration.LettuceClientConfigurationBuilder client = LettuceClientConfiguration.builder();
		if (url.ssl()) {
			client.useSsl();
		}
		LettuceConnectionFactory factory = new LettuceConnectionFactory(server, client.build());
		factory.afterPropertiesSet();
		factory.start();
		return new LockRedisConnection(factory, factory::destroy);
	}

}
