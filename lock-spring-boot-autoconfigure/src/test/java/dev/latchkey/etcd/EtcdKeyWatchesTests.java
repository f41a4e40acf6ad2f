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
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.etcd.jetcd.Client;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.LeaseSpec;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The watches of a repository's waiters: one per key, kept for a while after its last
 * subscriber leaves, so that a caller that waits for the key again soon does not pay a
 * new watch, and closed once idle for that while.
 */
@Timeout(60)
class EtcdKeyWatchesTests {

	private static final Duration TIMEOUT = EtcdLockRepository.DEFAULT_REQUEST_TIMEOUT;

	@RegisterExtension
	static final EtcdNamespace etcd = new EtcdNamespace("latchkey-watch-", TestServers::etcdEndpoints);

	@Test
	void aWatchOutlivesItsLastSubscriberForAWhileThenCloses() throws Exception {
		AtomicLong requests = new AtomicLong();
		EtcdKeys keys = new EtcdKeys(etcd.name());
		try (Client client = EtcdTestSupport.countingClient(requests);
				EtcdHeldLeases held = new EtcdHeldLeases(client.getKVClient(), keys, new EtcdRequests(TIMEOUT),
						Executors.defaultThreadFactory());
				EtcdKeyWatches watches = new EtcdKeyWatches(client.getWatchClient(), keys, "instance", TIMEOUT, held);
				EtcdLockRepository holder = new EtcdLockRepository(etcd.client(), etcd.name(), TIMEOUT)) {
			long before = requests.get();
			watches.subscribe("order:1", () -> {
			}).close();
			// One call: the watch.
			assertThat(requests.get() - before).isEqualTo(1);
			assertThat(watches.open()).isEqualTo(1);
			AtomicInteger releases = new AtomicInteger();
			try (ReleaseSubscription again = watches.subscribe("order:1", releases::incrementAndGet)) {
				// The idle watch serves the new subscriber: no new call.
				assertThat(requests.get() - before).isEqualTo(1);
				LeaseSpec lease = LeaseSpec.exclusive("order:1", "holder", UUID.randomUUID().toString(),
						Duration.ofSeconds(30));
				assertThat(holder.tryAcquire(lease)).isPresent();
				assertThat(holder.release(lease)).isTrue();
				Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> releases.get() >= 1);
			}
			// Idle for its linger time (5 s) once the last subscriber left: closed.
			Awaitility.await()
				.pollDelay(Duration.ofSeconds(4))
				.atMost(Duration.ofSeconds(30))
				.until(() -> watches.open() == 0);
			watches.subscribe("order:1", () -> {
			}).close();
			assertThat(requests.get() - before).isEqualTo(2);
		}
	}

}
