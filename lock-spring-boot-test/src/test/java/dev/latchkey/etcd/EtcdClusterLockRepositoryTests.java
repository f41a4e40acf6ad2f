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

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.test.TestServers;

/**
 * The etcd backend passes the backend contract against the three-member etcd cluster of
 * {@value TestServers#ETCD_CLUSTER_ENDPOINTS} (the client spreads requests over every
 * member), in a namespace of its own, so that runs sharing the cluster do not meet.
 */
class EtcdClusterLockRepositoryTests extends EtcdLockRepositoryContractTests {

	@RegisterExtension
	static final EtcdNamespace etcd = new EtcdNamespace("latchkey-cluster-test-", TestServers::etcdClusterEndpoints);

	@Override
	protected EtcdNamespace namespace() {
		return etcd;
	}

	@Override
	protected int multiKeyRounds() {
		// Every request is a Raft round across three members, and the rounds contend:
		// 1,000 rounds of two acquisitions and two releases took 45 seconds on a loaded
		// two-core machine, 2,000 more than the test allows.
		return 500;
	}

}
