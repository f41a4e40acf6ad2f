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

package dev.latchkey.fencing;

import java.util.List;
import java.util.OptionalLong;

import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.util.Assert;

/**
 * Fences writes to Redis with a lock's fencing tokens: {@link #set(String, String, long)}
 * sets a string value only if its token is not older than the newest token that has set
 * it, and stores the token with it, in one Lua script; a stale write throws
 * {@link FencingTokenRejectedException} and changes nothing.
 *
 * <pre class="code">
 * RedisFence fence = new RedisFence(connectionFactory);
 *
 * &#64;Exclusive("report:#month")
 * public void publish(String month, String report) {
 *     fence.set("report:" + month, report, LockContext.fencingToken());
 * }
 * </pre>
 * <p>
 * The value is a plain string at the key (read it with {@code GET}); the token is kept in
 * a companion key in the same Cluster slot: {@code {key}:fence}, or {@code key:fence}
 * when the key already has a hash tag. Neither expires: a fence that expired would let an
 * older token in again (turn on persistence where that matters, as for the lock backend's
 * counters). A token equal to the stored one is accepted: one holder may write several
 * times under one lease. Redis runs scripts one at a time, so concurrent writers are
 * ordered by the script, whatever the order of their calls.
 * <p>
 * What it does not do: it fences only writes made through it, of one value per key.
 * Tokens of different lock keys are not comparable: fence a key with the tokens of one
 * lock key only.
 *
 * @since 0.1.0
 */
public class RedisFence {

	// KEYS: value, fence. ARGV: value, token. Answers the token when the value was set,
	// else the newer stored token.
	private static final RedisScript<Long> SET = RedisScript.of("""
			local stored = tonumber(redis.call('GET', KEYS[2]))
			local token = tonumber(ARGV[2])
			if stored and stored > token then
				return stored
			end
			redis.call('SET', KEYS[2], ARGV[2])
			redis.call('SET', KEYS[1], ARGV[1])
			return token
			""", Long.class);

	private final StringRedisTemplate redis;

	/**
	 * Makes a fence.
	 * @param connectionFactory the connection factory of the Redis the fenced values are
	 * written to
	 */
	public RedisFence(RedisConnectionFactory connectionFactory) {
		Assert.notNull(connectionFactory, "RedisConnectionFactory must not be null");
		this.redis = new StringRedisTemplate(connectionFactory);
	}

	/**
	 * Sets a value if the token is not older than the newest token that has set it, and
	 * stores the token.
	 * @param key the key of the value
	 * @param value the value
	 * @param token the fencing token of the lease the write is made under
	 * @throws FencingTokenRejectedException if a newer token has set the value
	 */
	public void set(String key, String value, long token) {
		Assert.hasText(key, "Key must not be empty");
		Assert.notNull(value, "Value must not be null");
		Assert.isTrue(token > 0, () -> "A fencing token is positive, was " + token);
		Long answer = this.redis.execute(SET, List.of(key, fenceKey(key)), value, Long.toString(token));
		if (answer == null || answer != token) {
			throw new FencingTokenRejectedException(key, token, (answer != null) ? answer : 0);
		}
	}

	/**
	 * The newest token that has set a key's value.
	 *
	 * <pre class="code">
	 * long fence = fence.currentToken("report:2025-01").orElse(0);
	 * </pre>
	 * @param key the key of the value
	 * @return the stored token, or empty when nothing was set through the fence yet
	 */
	public OptionalLong currentToken(String key) {
		String stored = this.redis.opsForValue().get(fenceKey(key));
		return (stored != null) ? OptionalLong.of(Long.parseLong(stored)) : OptionalLong.empty();
	}

	/**
	 * The key that holds a value's token: in the value's Cluster slot.
	 * @param key the key of the value
	 * @return {@code {key}:fence}, or {@code key:fence} when the key has a hash tag
	 * @throws IllegalArgumentException if the key has a {@code '}'} but no hash tag
	 */
	public static String fenceKey(String key) {
		int open = key.indexOf('{');
		int close = (open >= 0) ? key.indexOf('}', open + 1) : -1;
		if (close > open + 1) {
			return key + ":fence";
		}
		Assert.isTrue(key.indexOf('}') < 0, () -> "Key '" + key + "' has a '}' but no hash tag: give it a hash tag"
				+ " ({...}) or no braces, so that its fence can be kept in its Cluster slot");
		return "{" + key + "}:fence";
	}

}
