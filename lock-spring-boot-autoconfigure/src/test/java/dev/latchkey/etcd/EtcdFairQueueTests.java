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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import io.etcd.jetcd.Client;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.LeaseSpec;
import dev.latchkey.QueueingLockRepository.QueuedGrant;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cost of a fair hand-off on etcd, counted at each instance's client: once the
 * waiters are queued (each has joined, one transaction, and its instance watches the
 * key's queue), a release wakes the next waiter alone, so a hand-off costs the release
 * and the next waiter's one attempt, however many wait.
 */
class EtcdFairQueueTests {

	private static final int WAITERS = 5;

	@RegisterExtension
	static final EtcdNamespace etcd = new EtcdNamespace("latchkey-fair-", TestServers::etcdEndpoints);

	@Test
	void aReleaseWakesOnlyTheNextFairWaiterSoAHandOffCostsTwoRequestsOnceQueued() throws Exception {
		AtomicLong calls = new AtomicLong();
		List<Client> clients = new ArrayList<>();
		List<EtcdLockRepository> repositories = new ArrayList<>();
		try {
			for (int i = 0; i <= WAITERS; i++) {
				Client client = Client.builder()
					.endpoints(TestServers.etcdEndpoints())
					.interceptor(new ClientInterceptor() {
						@Override
						public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options,
								Channel next) {
							calls.incrementAndGet();
							return next.newCall(method, options);
						}
					})
					.build();
				clients.add(client);
				repositories.add(new EtcdLockRepository(client, etcd.name(), Duration.ofSeconds(5)));
			}
			String key = "hand-off";
			LeaseSpec holder = lease(key, "owner-holder");
			long last = repositories.get(0).tryAcquire(holder).orElseThrow();
			List<LeaseSpec> leases = new ArrayList<>();
			List<CompletableFuture<QueuedGrant>> grants = new ArrayList<>();
			for (int i = 1; i <= WAITERS; i++) {
				LeaseSpec lease = lease(key, "owner-" + i);
				leases.add(lease);
				grants.add(repositories.get(i).acquireQueued(lease));
			}
			// Queued, their watches open: from now on only hand-offs.
			Thread.sleep(500);
			long before = calls.get();
			assertThat(repositories.get(0).release(holder)).isTrue();
			for (int i = 0; i < WAITERS; i++) {
				assertThat(grants.get(i)).as("waiter %d", i + 1).succeedsWithin(Duration.ofSeconds(10));
				long token = grants.get(i).get().fencingToken();
				assertThat(token).isGreaterThan(last);
				last = token;
				assertThat(repositories.get(i + 1).release(leases.get(i))).isTrue();
			}
			long handOffs = WAITERS;
			// Each hand-off: the release, and the next waiter's one attempt; then the
			// last
			// release. A release that woke every waiter would cost an attempt per waiter
			// behind it as well.
			assertThat(calls.get() - before).as("requests of %d hand-offs and the last release", handOffs)
				.isEqualTo(2 * handOffs + 1);
		}
		finally {
			repositories.forEach(EtcdLockRepository::close);
			clients.forEach(Client::close);
		}
	}

	private static LeaseSpec lease(String key, String owner) {
		return LeaseSpec.exclusive(key, owner, owner + "-token", Duration.ofSeconds(30)).withFair(true);
	}

}
