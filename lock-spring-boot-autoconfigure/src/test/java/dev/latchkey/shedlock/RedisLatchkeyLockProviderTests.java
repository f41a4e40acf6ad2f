package dev.latchkey.shedlock;

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.redis.RedisNamespace;
import dev.latchkey.test.SharedStore;
import dev.latchkey.test.TestServers;

/**
 * {@link LatchkeyLockProvider} on the Redis backend, against the server of {@value TestServers#REDIS_URL}: each node a
 * repository of its own, in a namespace of the test's own.
 */
class RedisLatchkeyLockProviderTests extends LatchkeyLockProviderContractTests {

	@RegisterExtension
	static final RedisNamespace redis = new RedisNamespace("latchkey-shedlock-test");

	@Override
	protected SharedStore store() {
		return redis;
	}

}
