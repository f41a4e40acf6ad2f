package dev.latchkey.redis;

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;
import dev.latchkey.test.TestServers;

/**
 * The Redis backend passes the backend contract against the Redis server of {@value TestServers#REDIS_URL}, in a
 * namespace of its own, so that runs sharing the server do not meet.
 */
class RedisLockRepositoryTests extends LockRepositoryContractTests {

	@RegisterExtension
	static final RedisNamespace redis = new RedisNamespace("latchkey-test");

	@Override
	protected LockRepository createPeerRepository() {
		// Another application instance: a repository of its own on the same store.
		return redis.open();
	}

	@Override
	protected LockRepository createRepository() {
		return redis.open();
	}

	@Override
	protected void destroyRepository(LockRepository repository) {
		redis.close(repository);
	}

}
