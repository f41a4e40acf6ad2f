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

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.test.util.TestSocketUtils;
import org.springframework.core.log.LogAccessor;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockContext;
import dev.latchkey.LockException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The etcd backend under faults of a cluster, each on an etcd cluster of the test's own:
 * a follower and then the leader killed while locks are held and contended, the whole
 * cluster stopped past the TTL, an unreachable cluster and bad credentials. A holder
 * killed or paused, and a single node paused or restarted, are
 * {@link FaultMatrixEtcdTests}'s.
 */
@Timeout(120)
class EtcdLockFaultTests {

	private static final LogAccessor logger = new LogAccessor(EtcdLockFaultTests.class);

	private static final String NAMESPACE = "latchkey-fault-test/";

	@TempDir
	Path temporary;

	private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

	@AfterEach
	void closeResources() throws Exception {
		List<AutoCloseable> reversed = new ArrayList<>(this.resources);
		Collections.reverse(reversed);
		for (AutoCloseable resource : reversed) {
			resource.close();
		}
	}

	@Test
	void killingAFollowerThenTheLeaderNeverGrantsALockTwiceAndWorkGoesOnWithAQuorum() throws Exception {
		EtcdCluster cluster = cluster(3);
		LockSettings settings = LockSettings.defaults().withTtl(Duration.ofSeconds(10));
		LockTemplate[] processes = { template(repository(cluster.endpoints()), settings.withOwner("a"), null),
				template(repository(cluster.endpoints()), settings.withOwner("b"), null) };
		List<LockLostEvent> lost = new CopyOnWriteArrayList<>();
		LockTemplate keeper = template(repository(cluster.endpoints()), settings.withOwner("keeper"), (event) -> {
			if (event instanceof LockLostEvent lockLost) {
				lost.add(lockLost);
			}
		});
		LockHandle held = keeper.exclusive("held-through-faults").acquire();
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger maxInside = new AtomicInteger();
		AtomicInteger runs = new AtomicInteger();
		AtomicInteger failures = new AtomicInteger();
		int[] counter = { 0 };
		List<Long> tokens = Collections.synchronizedList(new ArrayList<>());
		AtomicBoolean stop = new AtomicBoolean();
		ExecutorService workers = Executors.newFixedThreadPool(4);
		this.resources.add(workers::shutdownNow);
		List<Future<?>> running = new ArrayList<>();
		for (int t = 0; t < 4; t++) {
			LockTemplate template = processes[t % 2];
			running.add(workers.submit(() -> {
				while (!stop.get()) {
					try {
						template.exclusive("contended").waitTime(Duration.ofSeconds(5)).run(() -> {
							maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
							tokens.add(LockContext.fencingToken());
							int read = counter[0];
							sleep(2);
							counter[0] = read + 1;
							runs.incrementAndGet();
							inside.decrementAndGet();
						});
					}
					catch (LockException ex) {
						// A request to a killed member, or no leader for a moment: try
						// again.
						failures.incrementAndGet();
						sleep(50);
					}
				}
			}));
		}
		awaitMoreRuns(runs, 20);
		int leader = cluster.leader();
		int follower = (leader + 1) % cluster.size();
		cluster.kill(follower);
		awaitMoreRuns(runs, 30);
		cluster.restart(follower);
		cluster.awaitHealthy(follower);
		leader = cluster.leader();
		cluster.kill(leader);
		awaitMoreRuns(runs, 30);
		cluster.restart(leader);
		cluster.awaitHealthy(leader);
		awaitMoreRuns(runs, 10);
		stop.set(true);
		for (Future<?> worker : running) {
			worker.get(30, TimeUnit.SECONDS);
		}
		logger.info(() -> runs.get() + " contended runs through a follower's and the leader's death, " + failures.get()
				+ " failed attempts");
		assertThat(maxInside.get()).as("holders at once").isOne();
		assertThat(counter[0]).isEqualTo(runs.get());
		for (int i = 1; i < tokens.size(); i++) {
			assertThat(tokens.get(i)).as("fencing token of grant %d", i).isGreaterThan(tokens.get(i - 1));
		}
		assertThat(lost).as("losses of the lock held throughout").isEmpty();
		assertThat(held.lease().isValid()).isTrue();
		held.close();
	}

	@Test
	void holderReportsItsLeaseLostWhenTheWholeClusterStopsPastTheTtl() throws Exception {
		EtcdCluster cluster = cluster(3);
		EtcdLockRepository repository = repository(cluster.endpoints(), Duration.ofMillis(500));
		List<LockLostEvent> lost = new CopyOnWriteArrayList<>();
		long[] lostAt = { 0 };
		Duration ttl = Duration.ofSeconds(2);
		LockTemplate template = template(repository,
				LockSettings.defaults().withOwner("holder").withTtl(ttl).withRenewInterval(Duration.ofMillis(300)),
				(event) -> {
					if (event instanceof LockLostEvent lockLost) {
						lostAt[0] = System.nanoTime();
						lost.add(lockLost);
					}
				});
		LockHandle handle = template.exclusive("cluster-stopped").acquire();
		long heldToken = handle.fencingToken();
		long stoppedAt = System.nanoTime();
		for (int i = 0; i < cluster.size(); i++) {
			cluster.kill(i);
		}
		Awaitility.await().atMost(ttl.plusSeconds(5)).until(() -> !lost.isEmpty());
		logger.info(() -> "Holder reported its loss " + TimeUnit.NANOSECONDS.toMillis(lostAt[0] - stoppedAt)
				+ " ms after the cluster stopped");
		assertThat(lost).singleElement().satisfies((event) -> {
			assertThat(event.getKey()).isEqualTo("cluster-stopped");
			assertThat(event.getReason()).isEqualTo(LossReason.RENEWAL_FAILED);
		});
		assertThat(handle.lease().isValid()).isFalse();
		Thread.sleep(ttl.toMillis());
		long restartedAt = System.nanoTime();
		assertThat(lostAt[0]).as("loss reported while the cluster was down").isLessThan(restartedAt);
		for (int i = 0; i < cluster.size(); i++) {
			cluster.restart(i);
		}
		for (int i = 0; i < cluster.size(); i++) {
			cluster.awaitHealthy(i);
		}
		// Back with a quorum, the key frees (the lost holder's repository deletes it, or
		// etcd expires its lease) and the next grant is fenced above the lost one.
		EtcdLockRepository next = repository(cluster.endpoints());
		LeaseSpec spec = LeaseSpec.exclusive("cluster-stopped", "next", token(), Duration.ofSeconds(30));
		OptionalLong[] granted = { OptionalLong.empty() };
		Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
			try {
				granted[0] = next.tryAcquire(spec);
			}
			catch (LockBackendException ex) {
				return false;
			}
			return granted[0].isPresent();
		});
		assertThat(granted[0].getAsLong()).isGreaterThan(heldToken);
	}

	@Test
	void unreachableClusterFailsTheCallWithABackendException() throws IOException {
		URI nobody = URI.create("http://127.0.0.1:" + TestSocketUtils.findAvailableTcpPort());
		EtcdLockRepository repository = repository(List.of(nobody), Duration.ofSeconds(2));
		LeaseSpec lease = LeaseSpec.exclusive("unreachable", "owner", token(), Duration.ofSeconds(30));
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.tryAcquire(lease))
			.withMessageStartingWith("Granting a lease of 30 s at the etcd backend failed: ")
			.satisfies((ex) -> {
				logger.info(() -> "Unreachable cluster: " + ex.getMessage());
				assertThat(ex.getBackend()).isEqualTo("etcd");
			});
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.inspect("unreachable"))
			.withMessageStartingWith("Inspecting the lock at the etcd backend failed: ")
			.satisfies((ex) -> assertThat(ex.getKey()).isEqualTo("unreachable"));
		LockTemplate template = template(repository, LockSettings.defaults(), null);
		assertThatExceptionOfType(LockBackendException.class)
			.isThrownBy(() -> template.exclusive("unreachable").run(() -> {
				throw new AssertionError("Ran without the lock");
			}));
	}

	@Test
	void badCredentialsFailTheCallWithABackendExceptionThatSaysSo() throws Exception {
		EtcdCluster cluster = cluster(1);
		try (Client admin = EtcdTestSupport.client(cluster.endpoints())) {
			ByteSequence root = bytes("root");
			admin.getAuthClient().roleAdd(root).get(10, TimeUnit.SECONDS);
			admin.getAuthClient().userAdd(root, bytes("right")).get(10, TimeUnit.SECONDS);
			admin.getAuthClient().userGrantRole(root, root).get(10, TimeUnit.SECONDS);
			admin.getAuthClient().authEnable().get(10, TimeUnit.SECONDS);
		}
		Client wrong = Client.builder()
			.endpoints(cluster.endpoints())
			.user(bytes("root"))
			.password(bytes("wrong"))
			.build();
		this.resources.add(wrong);
		EtcdLockRepository repository = new EtcdLockRepository(wrong, NAMESPACE, Duration.ofSeconds(5));
		this.resources.add(repository);
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.inspect("secured"))
			.withMessageStartingWith("Inspecting the lock at the etcd backend failed: ")
			.withMessageContaining("authentication failed");
		Client right = Client.builder()
			.endpoints(cluster.endpoints())
			.user(bytes("root"))
			.password(bytes("right"))
			.build();
		this.resources.add(right);
		EtcdLockRepository authenticated = new EtcdLockRepository(right, NAMESPACE, Duration.ofSeconds(5));
		this.resources.add(authenticated);
		LeaseSpec lease = LeaseSpec.exclusive("secured", "owner", token(), Duration.ofSeconds(30));
		assertThat(authenticated.tryAcquire(lease)).isPresent();
		assertThat(authenticated.release(lease)).isTrue();
	}

	// Helpers

	private EtcdCluster cluster(int size) {
		EtcdCluster cluster = EtcdCluster.start(this.temporary.resolve("etcd-" + UUID.randomUUID()), size);
		this.resources.add(cluster);
		return cluster;
	}

	private EtcdLockRepository repository(List<URI> endpoints) {
		return repository(endpoints, Duration.ofSeconds(2));
	}

	private EtcdLockRepository repository(List<URI> endpoints, Duration requestTimeout) {
		Client client = EtcdTestSupport.client(endpoints);
		this.resources.add(client);
		EtcdLockRepository repository = new EtcdLockRepository(client, NAMESPACE, requestTimeout);
		this.resources.add(repository);
		return repository;
	}

	private LockTemplate template(EtcdLockRepository repository, LockSettings settings,
			@Nullable ApplicationEventPublisher events) {
		LockTemplate template = new LockTemplate(repository, settings,
				(events != null) ? new EventPublishingLockObserver(events) : null);
		this.resources.add(template);
		return template;
	}

	private static void awaitMoreRuns(AtomicInteger runs, int more) {
		int target = runs.get() + more;
		Awaitility.await()
			.atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(20))
			.until(() -> runs.get() >= target);
	}

	private static ByteSequence bytes(String text) {
		return ByteSequence.from(text, StandardCharsets.UTF_8);
	}

	private static String token() {
		return UUID.randomUUID().toString();
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
