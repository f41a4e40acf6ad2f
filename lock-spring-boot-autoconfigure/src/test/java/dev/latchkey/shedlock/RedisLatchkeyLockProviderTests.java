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

package dev.latchkey.shedlock;

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.redis.RedisNamespace;
import dev.latchkey.test.SharedStore;
import dev.latchkey.test.TestServers;

/**
 * {@link LatchkeyLockProvider} on the Redis backend, against the server of
 * {@value TestServers#REDIS_URL}: each node a repository of its own, in a namespace of
 * the test's own.
 */
class RedisLatchkeyLockProviderTests extends LatchkeyLockProviderContractTests {

	@RegisterExtension
	static final RedisNamespace redis = new RedisNamespace("latchkey-shedlock-test");

	@Override
	protected SharedStore store() {
		return redis;
	}

}
