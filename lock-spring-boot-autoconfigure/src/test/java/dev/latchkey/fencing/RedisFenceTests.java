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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * {@link RedisFence} on a real Redis: a late write with an older token is refused and
 * changes nothing, a newer one is made, and concurrent writers with interleaved tokens
 * leave the highest token's value.
 */
@Timeout(60)
class RedisFenceTests {

	private static LettuceConnectionFactory connectionFactory;

	private static StringRedisTemplate redis;

	private static final String PREFIX = "fence-test-" + UUID.randomUUID() + ":";

	@BeforeAll
	static void connect() {
		connectionFactory = FencingTestSupport.redis();
		redis = new StringRedisTemplate(connectionFactory);
	}

	@AfterAll
	static void cleanUp() {
		if (connectionFactory != null) {
			List<String> keys = new ArrayList<>(redis.keys("*" + PREFIX + "*"));
			if (!keys.isEmpty()) {
				redis.delete(keys);
			}
			connectionFactory.destroy();
		}
	}

	@Test
	void lateWriteOfTheOlderTokenIsRejectedAndTheNewerIsAccepted() {
		RedisFence fence = new RedisFence(connectionFactory);
		String key = PREFIX + "two-holders";
		fence.set(key, "newer", 9);
		assertThatExceptionOfType(FencingTokenRejectedException.class).isThrownBy(() -> fence.set(key, "older", 5))
			.satisfies((ex) -> {
				assertThat(ex.getResource()).isEqualTo(key);
				assertThat(ex.getToken()).isEqualTo(5);
				assertThat(ex.getCurrentToken()).isEqualTo(9);
			});
		assertThat(redis.opsForValue().get(key)).isEqualTo("newer");
		fence.set(key, "newer again", 9);
		assertThat(redis.opsForValue().get(key)).isEqualTo("newer again");
		fence.set(key, "later", 12);
		assertThat(redis.opsForValue().get(key)).isEqualTo("later");
		assertThat(fence.currentToken(key)).hasValue(12);
		assertThat(redis.opsForValue().get("{" + key + "}:fence")).isEqualTo("12");
		assertThat(fence.currentToken(PREFIX + "never-written")).isEmpty();
	}

	@Test
	void fenceKeyIsInTheValuesClusterSlot() {
		assertThat(RedisFence.fenceKey("report:1")).isEqualTo("{report:1}:fence");
		assertThat(RedisFence.fenceKey("{user:7}:report")).isEqualTo("{user:7}:report:fence");
		assertThatIllegalArgumentException().isThrownBy(() -> RedisFence.fenceKey("odd}key"));
	}

	@Test
	void concurrentWritersWithInterleavedTokensEndWithTheHighestTokensValue() throws Exception {
		RedisFence fence = new RedisFence(connectionFactory);
		String key = PREFIX + "concurrent";
		int tokens = 400;
		FencingTestSupport.Outcome outcome = FencingTestSupport.writeConcurrently(8, tokens, Duration.ofSeconds(50),
				(token) -> fence.set(key, "value of " + token, token));
		assertThat(outcome.accepted() + outcome.rejected()).isEqualTo(tokens);
		assertThat(outcome.rejected()).isPositive();
		assertThat(redis.opsForValue().get(key)).isEqualTo("value of " + tokens);
		assertThat(fence.currentToken(key)).hasValue(tokens);
	}

}
