package dev.latchkey.integration;

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.redis.RedisNamespace;
import dev.latchkey.test.SharedStore;
import dev.latchkey.test.TestServers;

/**
 * {@link LatchkeyLockRegistry} on the Redis backend, against the server of {@value TestServers#REDIS_URL}: each node a
 * repository of its own, in a namespace of the test's own.
 */
class RedisLatchkeyLockRegistryTests extends LatchkeyLockRegistryContractTests {

	@RegisterExtension
	static final RedisNamespace redis = new RedisNamespace("latchkey-integration-test");

	@Override
	protected SharedStore store() {
		return redis;
	}

}
