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

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.RegisterExtension;

import io.etcd.jetcd.kv.GetResponse;

import dev.latchkey.LockRepository;
import dev.latchkey.test.TestServers;
import dev.latchkey.test.contract.LossSignalContract;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The etcd backend passes the backend contract against the single etcd node of
 * {@value TestServers#ETCD_ENDPOINTS}, in a namespace of its own, so that runs sharing
 * the server do not meet; a revoked etcd lease is signalled as a loss.
 */
class EtcdLockRepositoryTests extends EtcdLockRepositoryContractTests implements LossSignalContract {

	@RegisterExtension
	static final EtcdNamespace etcd = new EtcdNamespace("latchkey-test-", TestServers::etcdEndpoints);

	@Override
	protected EtcdNamespace namespace() {
		return etcd;
	}

	@Override
	public void loseLeases(LockRepository repository, String key) throws Exception {
		// What etcd does to a lease whose keep-alives stopped reaching it: it revokes the
		// lease and deletes every key attached to it.
		EtcdKeys keys = new EtcdKeys(etcd.name());
		GetResponse holder = etcd.client().getKVClient().get(keys.lockKey(key)).get(10, TimeUnit.SECONDS);
		assertThat(holder.getKvs()).as("the etcd key of %s", key).singleElement();
		etcd.client().getLeaseClient().revoke(holder.getKvs().get(0).getLease()).get(10, TimeUnit.SECONDS);
	}

}
