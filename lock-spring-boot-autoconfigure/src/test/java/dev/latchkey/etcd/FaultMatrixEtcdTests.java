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

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.etcd.jetcd.Client;

import dev.latchkey.LockRepository;
import dev.latchkey.test.FaultMatrix;

/**
 * The {@link FaultMatrix} on the etcd backend, on a single etcd node of the test's own
 * (its data on disk, so a restart keeps leases and revisions).
 */
class FaultMatrixEtcdTests extends FaultMatrix {

	private EtcdCluster cluster;

	private Client client;

	private EtcdLockRepository repository;

	@Override
	protected void startBackend(Path temporary) {
		this.cluster = EtcdCluster.start(temporary.resolve("etcd"), 1);
		this.client = EtcdTestSupport.client(this.cluster.endpoints());
		this.repository = new EtcdLockRepository(this.client, NAMESPACE + "/", Duration.ofSeconds(1));
	}

	@Override
	protected void stopBackend() {
		if (this.repository != null) {
			this.repository.close();
		}
		if (this.client != null) {
			this.client.close();
		}
		if (this.cluster != null) {
			this.cluster.close();
		}
	}

	@Override
	protected String childBackend() {
		return "etcd|" + this.cluster.endpoint(0);
	}

	@Override
	protected InetSocketAddress serverAddress() {
		URI endpoint = this.cluster.endpoint(0);
		return new InetSocketAddress(endpoint.getHost(), endpoint.getPort());
	}

	@Override
	protected String childBackendThrough(int port) {
		return "etcd|http://127.0.0.1:" + port;
	}

	@Override
	protected LockRepository repository() {
		return this.repository;
	}

	@Override
	protected boolean honoursFairLocks() {
		return true;
	}

	@Override
	protected boolean freesKeyOfCrashedHolderAtOnce() {
		return false;
	}

	@Override
	protected Duration crashRecoveryBound() {
		// etcd expires the holder's lease by its own clock, counting whole seconds from
		// the last keep-alive.
		return TTL.plusSeconds(3);
	}

	@Override
	protected Duration remainingTtlPrecision() {
		// etcd tells a lease's remaining TTL in whole seconds, rounded up.
		return Duration.ofSeconds(1);
	}

	@Override
	protected int leakCycles() {
		// Every acquisition and release is a Raft commit with a disk flush.
		return 2_000;
	}

	@Override
	protected int clockRounds() {
		// Processes under libfaketime talk to etcd slowly (their requests often time
		// out): fewer rounds.
		return 4;
	}

	@Override
	protected Server server() {
		return Server.of(() -> List.of(this.cluster.pid(0)), () -> {
			this.cluster.kill(0);
			this.cluster.restart(0);
			this.cluster.awaitHealthy(0);
		});
	}

}
