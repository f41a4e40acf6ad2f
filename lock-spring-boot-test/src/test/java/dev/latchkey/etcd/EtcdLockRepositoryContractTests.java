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

package dev.latchkey.etcd;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.etcd.jetcd.kv.GetResponse;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockRepository;
import dev.latchkey.test.contract.CrossInstanceContract;
import dev.latchkey.test.contract.FairLockRepositoryContract;
import dev.latchkey.test.contract.LockRepositoryContract;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The backend contract for the etcd backend: each repository, the test's and its peers
 * (other application instances), is an {@link EtcdLockRepository} of its own in the same
 * {@link EtcdNamespace}. Fair locks are served in the order of their waiters' places, and
 * a waiter whose etcd lease is revoked leaves the queue.
 */
abstract class EtcdLockRepositoryContractTests extends LockRepositoryContract
		implements CrossInstanceContract, FairLockRepositoryContract {

	/**
	 * The namespace the repositories lock in, registered as an extension by the subclass.
	 * @return the namespace
	 */
	protected abstract EtcdNamespace namespace();

	@Override
	public LockRepository createRepository() {
		return new EtcdLockRepository(namespace().client(), namespace().name(), Duration.ofSeconds(5));
	}

	@Override
	public void killWaiter(LockRepository peer, LeaseSpec waiting) throws Exception {
		// What etcd does when the waiter's process dies: its etcd lease runs out and its
		// place in the queue, attached to it, is deleted. The place must be there first.
		EtcdKeys keys = new EtcdKeys(namespace().name());
		GetResponse place = namespace().client()
			.getKVClient()
			.get(keys.queueKey(waiting.key(), waiting.token()))
			.get(10, TimeUnit.SECONDS);
		assertThat(place.getKvs()).as("the queue place of %s", waiting.owner()).singleElement();
		namespace().client().getLeaseClient().revoke(place.getKvs().get(0).getLease()).get(10, TimeUnit.SECONDS);
	}

	@Override
	public Duration shortTtl() {
		// etcd counts lease TTLs in whole seconds.
		return Duration.ofSeconds(1);
	}

}
