package dev.latchkey.fencing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
 * {@link RedisFence} on a real Redis: a late write with an older token is refused and changes nothing, a newer one is
 * made, and concurrent writers with interleaved tokens leave the highest token's value.
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
		int writers = 8;
		int tokens = 400;
		List<Long> shuffled = new ArrayList<>();
		for (long token = 1; token <= tokens; token++) {
			shuffled.add(token);
		}
		Collections.shuffle(shuffled);
		AtomicInteger next = new AtomicInteger();
		AtomicInteger accepted = new AtomicInteger();
		AtomicInteger rejected = new AtomicInteger();
		ExecutorService executor = Executors.newFixedThreadPool(writers);
		CountDownLatch start = new CountDownLatch(1);
		try {
			List<Future<?>> results = new ArrayList<>();
			for (int w = 0; w < writers; w++) {
				results.add(executor.submit(() -> {
					start.await();
					for (int i; (i = next.getAndIncrement()) < tokens;) {
						long token = shuffled.get(i);
						try {
							fence.set(key, "value of " + token, token);
							accepted.incrementAndGet();
						}
						catch (FencingTokenRejectedException ex) {
							rejected.incrementAndGet();
						}
					}
					return null;
				}));
			}
			start.countDown();
			for (Future<?> result : results) {
				result.get(50, TimeUnit.SECONDS);
			}
		}
		finally {
			executor.shutdownNow();
		}
		assertThat(accepted.get() + rejected.get()).isEqualTo(tokens);
		assertThat(rejected.get()).isPositive();
		assertThat(redis.opsForValue().get(key)).isEqualTo("value of " + tokens);
		assertThat(fence.currentToken(key)).hasValue(tokens);
	}

}
