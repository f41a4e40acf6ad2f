package dev.latchkey.redis;

import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;
import dev.latchkey.test.TestServers;

/**
 * The Redis backend passes the backend contract against the Redis server of {@value TestServers#REDIS_URL}, in a
 * namespace of its own, so that runs sharing the server do not meet.
 */
class RedisLockRepositoryTests extends LockRepositoryContractTests {

	private static final String NAMESPACE = "latchkey-test-" + UUID.randomUUID();

	private static LettuceConnectionFactory connectionFactory;

	@BeforeAll
	static void connect() {
		connectionFactory = RedisTestSupport.connectionFactory(TestServers.redisUrl());
	}

	@AfterAll
	static void deleteNamespaceAndDisconnect() {
		if (connectionFactory != null) {
			// Leases expire by themselves, fencing counters do not: leave the shared server as it was.
			StringRedisTemplate redis = new StringRedisTemplate(connectionFactory);
			try (Cursor<String> keys = redis.scan(ScanOptions.scanOptions().match("{" + NAMESPACE + ":*").build())) {
				keys.forEachRemaining(redis::delete);
			}
			connectionFactory.destroy();
		}
	}

	@Override
	protected LockRepository createRepository() {
		return new RedisLockRepository(connectionFactory, NAMESPACE);
	}

}
