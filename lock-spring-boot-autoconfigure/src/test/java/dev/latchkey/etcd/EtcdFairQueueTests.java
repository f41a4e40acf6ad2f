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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.QueueingLockRepository.QueuedGrant;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cost of a fair hand-off on etcd, counted at each instance's client: once the
 * waiters are queued (each has joined, one transaction, and its instance watches the
 * key's queue), a release wakes the next waiter alone, so a hand-off costs the release
 * and the next waiter's one attempt, however many wait. Through templates, fair callers
 * of several instances are served in order, and one that gives up leaves the queue.
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
				Client client = EtcdTestSupport.countingClient(calls);
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

	@Test
	void fairCallersOfSeveralTemplatesAreServedInOrderAndOneThatGivesUpLeavesTheQueue() throws Exception {
		List<EtcdLockRepository> repositories = new ArrayList<>();
		List<LockTemplate> templates = new ArrayList<>();
		try {
			for (int i = 0; i < 4; i++) {
				EtcdLockRepository repository = new EtcdLockRepository(etcd.client(), etcd.name(),
						Duration.ofSeconds(5));
				repositories.add(repository);
				templates.add(new LockTemplate(repository,
						LockSettings.defaults().withOwner("instance-" + i).withFair(true)));
			}
			String key = "templates";
			List<String> served = new CopyOnWriteArrayList<>();
			List<Thread> threads = new ArrayList<>();
			LockHandle holder = templates.get(0).exclusive(key).acquire();
			try {
				for (int i = 1; i < 4; i++) {
					int index = i;
					// The second waiter gives up after 2 s, while the holder still holds.
					Duration waitTime = (i == 2) ? Duration.ofSeconds(2) : Duration.ofSeconds(30);
					Thread thread = new Thread(() -> {
						boolean ran = templates.get(index).exclusive(key).waitTime(waitTime).tryRun(() -> {
							served.add("instance-" + index);
						});
						if (!ran) {
							served.add("gave up: instance-" + index);
						}
					}, "fair-" + i);
					thread.start();
					threads.add(thread);
					int places = i;
					Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> queuePlaces(key) == places);
				}
				Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> served.contains("gave up: instance-2"));
				assertThat(queuePlaces(key)).as("places once the second waiter gave up").isEqualTo(2);
			}
			finally {
				holder.close();
			}
			for (Thread thread : threads) {
				thread.join(30_000);
			}
			assertThat(served).containsExactly("gave up: instance-2", "instance-1", "instance-3");
			assertThat(queuePlaces(key)).as("places once everyone was served").isZero();
		}
		finally {
			templates.forEach(LockTemplate::close);
			repositories.forEach(EtcdLockRepository::close);
		}
	}

	private static long queuePlaces(String key) throws Exception {
		EtcdKeys keys = new EtcdKeys(etcd.name());
		return etcd.client()
			.getKVClient()
			.get(keys.queuePrefix(key), GetOption.builder().isPrefix(true).withCountOnly(true).build())
			.get(10, TimeUnit.SECONDS)
			.getCount();
	}

	private static LeaseSpec lease(String key, String owner) {
		return LeaseSpec.exclusive(key, owner, owner + "-token", Duration.ofSeconds(30)).withFair(true);
	}

}
