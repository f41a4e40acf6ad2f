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

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockRepository;
import dev.latchkey.test.contract.CrossInstanceContract;
import dev.latchkey.test.contract.FairLockRepositoryContract;
import dev.latchkey.test.contract.LockRepositoryContract;
import dev.latchkey.test.TestServers;

/**
 * The Redis backend passes the backend contract against the Redis server of
 * {@value TestServers#REDIS_URL}, in a namespace of its own, so that runs sharing the
 * server do not meet.
 */
class RedisLockRepositoryTests extends LockRepositoryContract
		implements CrossInstanceContract, FairLockRepositoryContract {

	@RegisterExtension
	static final RedisNamespace redis = new RedisNamespace("latchkey-test");

	@Override
	public LockRepository createPeerRepository() {
		// Another application instance: a repository of its own on the same store.
		return redis.open();
	}

	@Override
	public LockRepository createRepository() {
		return redis.open();
	}

	@Override
	public void destroyRepository(LockRepository repository) {
		redis.close(repository);
	}

	@Override
	public void killWaiter(LockRepository peer, LeaseSpec waiting) {
		// What a dead waiter's place comes to: its deadline passes, as the waiter no
		// longer renews it.
		redis.expireFairPlace(waiting.key(), waiting.token());
	}

}
