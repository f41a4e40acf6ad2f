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

package dev.latchkey.socket;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.Lease;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.QueueingLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The owner records that keep a socket repository's leases held, seen from another
 * process's repository on the same lock directory: one request per TTL class renews any
 * number of leases; a lease its holder stops renewing is freed at its TTL while its
 * record lives on; a force-release is reported as exactly the lease it evicted; a record
 * that expired frees its leases for good, but not a lease that its own expiry still
 * holds; and a new arbiter takes the records back with the leases that name them.
 */
@Timeout(90)
class SocketOwnerRecordTests {

	private static final LogAccessor logger = new LogAccessor(SocketOwnerRecordTests.class);

	@TempDir
	Path temporary;

	private final List<SocketLockRepository> repositories = new ArrayList<>();

	private SocketLockRepository arbiter;

	private SocketLockRepository holder;

	@BeforeEach
	void repositories() {
		this.arbiter = repository("arbiter");
		assertThat(this.arbiter.isArbiter()).isTrue();
		// The holder talks to the arbiter over the socket, as another process would.
		this.holder = repository("holder");
		assertThat(this.holder.isArbiter()).isFalse();
	}

	@AfterEach
	void close() {
		this.repositories.forEach(SocketLockRepository::close);
	}

	@Test
	void tenThousandHeldLeasesAreRenewedByOneRequestPerInterval() throws Exception {
		Duration ttl = Duration.ofSeconds(3);
		String[] keys = IntStream.range(0, 10_001).mapToObj((i) -> "held-" + i).toArray(String[]::new);
		try (LockTemplate locks = new LockTemplate(this.holder, LockSettings.defaults().withTtl(ttl))) {
			LockHandle handle = locks.exclusive(keys[0], Arrays.copyOfRange(keys, 1, keys.length))
				.waitTime(Duration.ZERO)
				.acquire();
			// Renewed every second (a third of the TTL); counted once every lease was
			// renewed at least once.
			Thread.sleep(1_500);
			long before = this.arbiter.stats().requests();
			Thread.sleep(3_000);
			// Less the STATS request that read the first count.
			long requests = this.arbiter.stats().requests() - before - 1;
			logger.info(() -> "Requests in 3 s renewing " + keys.length + " leases: " + requests);
			// One request per renewal, 3 in 3 s (4 when a renewal falls on each end).
			// Renewed lease by lease, 4,096 per frame, they took 3 per renewal: 9 or
			// more.
			assertThat(requests).isBetween(1L, 5L);
			assertThat(handle.leases()).hasSize(keys.length).allMatch(Lease::isValid);
			// Past their own expiry, held through their record.
			for (String key : List.of(keys[0], keys[5_000], keys[10_000])) {
				assertThat(this.arbiter.tryAcquire(lease(key, "other", ttl))).as(key).isEmpty();
			}
			handle.close();
			assertThat(this.arbiter.tryAcquire(lease(keys[5_000], "other", ttl))).isPresent();
		}
	}

	@Test
	void aLeaseItsHolderStopsRenewingIsFreedAtItsTtlWhileItsRecordLivesOn() {
		Duration ttl = Duration.ofSeconds(1);
		LeaseSpec abandoned = lease("abandoned", "holder", ttl);
		LeaseSpec renewed = lease("renewed", "holder", ttl);
		assertThat(this.holder.tryAcquire(abandoned)).isPresent();
		assertThat(this.holder.tryAcquire(renewed)).isPresent();
		long start = System.nanoTime();
		LeaseSpec next = lease("abandoned", "other", Duration.ofSeconds(30));
		Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
			assertThat(this.holder.renew(List.of(renewed))).isEmpty();
			return this.arbiter.tryAcquire(next).isPresent();
		});
		assertThat(Duration.ofNanos(System.nanoTime() - start)).as("freed no sooner than its TTL")
			.isGreaterThanOrEqualTo(ttl);
		assertThat(this.holder.renew(List.of(renewed, abandoned))).containsExactly(abandoned.token());
		assertThat(this.arbiter.inspect("renewed")).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("holder"));
	}

	@Test
	void aForceReleaseIsReportedAtTheNextRenewalAsExactlyTheLeaseItEvicted() {
		Duration ttl = Duration.ofSeconds(30);
		List<LeaseSpec> held = hold("forced", 5, ttl);
		LeaseSpec permit = LeaseSpec.semaphore("forced-permits", 2, "holder", token(), ttl);
		assertThat(this.holder.tryAcquirePermit(permit)).isPresent();
		assertThat(this.arbiter.forceRelease(held.get(2).key())).isTrue();
		assertThat(this.arbiter.forceRelease(permit.key())).isTrue();
		List<LeaseSpec> all = new ArrayList<>(held);
		all.add(permit);
		assertThat(this.holder.renew(all)).containsExactlyInAnyOrder(held.get(2).token(), permit.token());
		assertThat(this.holder.renew(all)).as("told once, and the others kept")
			.containsExactlyInAnyOrder(held.get(2).token(), permit.token());
		for (LeaseSpec kept : List.of(held.get(0), held.get(4))) {
			assertThat(this.arbiter.inspect(kept.key())).isPresent();
		}
	}

	@Test
	void aRecordThatExpiredFreesItsLeasesForGoodAndTheNextLeaseNamesANewOne() {
		Duration ttl = Duration.ofMillis(500);
		List<LeaseSpec> held = hold("expired", 5, ttl);
		// As if the holder had been paused past its TTL: nothing renews the record.
		LeaseSpec taken = lease(held.get(0).key(), "other", Duration.ofSeconds(30));
		Awaitility.await()
			.atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(20))
			.until(() -> this.arbiter.tryAcquire(taken).isPresent());
		Set<String> tokens = new HashSet<>(held.stream().map(LeaseSpec::token).toList());
		assertThat(this.holder.renew(held)).as("every lease of the record is reported lost")
			.containsExactlyInAnyOrderElementsOf(tokens);
		assertThat(this.holder.renew(held)).containsExactlyInAnyOrderElementsOf(tokens);
		LeaseSpec next = lease("expired-next", "holder", ttl);
		assertThat(this.holder.tryAcquire(next)).isPresent();
		assertThat(this.holder.renew(List.of(next))).isEmpty();
		assertThat(this.arbiter.inspect(held.get(1).key())).isEmpty();
		assertThat(this.holder.release(held.get(0))).as("the lost lease cannot release its next holder").isFalse();
		assertThat(this.arbiter.inspect(held.get(0).key())).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("other"));
	}

	@Test
	void aLeaseGrantedJustBeforeItsIdleRecordWouldHaveExpiredIsKept() throws InterruptedException {
		Duration ttl = Duration.ofSeconds(3);
		LeaseSpec first = lease("idle-first", "holder", ttl);
		assertThat(this.holder.tryAcquire(first)).isPresent();
		assertThat(this.holder.release(first)).isTrue();
		// Nothing renews the record, which has 0.8 s left when the next lease names it.
		Thread.sleep(2_200);
		LeaseSpec late = lease("idle-late", "holder", ttl);
		assertThat(this.holder.tryAcquire(late)).isPresent();
		Thread.sleep(1_300);
		assertThat(this.holder.renew(List.of(late))).as("renewed past its record's first expiry").isEmpty();
		Thread.sleep(2_000);
		assertThat(this.arbiter.tryAcquire(lease("idle-late", "other", ttl))).isEmpty();
		assertThat(this.holder.renew(List.of(late))).isEmpty();
	}

	@Test
	void aQueuedLeaseWhoseRecordExpiredWhileItWaitedIsKeptByItsOwnExpiry() throws Exception {
		Duration ttl = Duration.ofSeconds(1);
		LeaseSpec blocking = lease("queued", "other", Duration.ofSeconds(30));
		assertThat(this.arbiter.tryAcquire(blocking)).isPresent();
		LeaseSpec waiting = lease("queued", "holder", ttl);
		CompletableFuture<QueueingLockRepository.QueuedGrant> grant = this.holder.acquireQueued(waiting);
		// The holder renews nothing meanwhile: the record its request named expires.
		Thread.sleep(2_000);
		assertThat(this.arbiter.release(blocking)).isTrue();
		assertThat(grant.get(5, TimeUnit.SECONDS).fencingToken()).isPositive();
		for (int i = 0; i < 8; i++) {
			assertThat(this.holder.renew(List.of(waiting))).as("renewal %d", i).isEmpty();
			Thread.sleep(ttl.dividedBy(4).toMillis());
		}
		assertThat(this.arbiter.tryAcquire(lease("queued", "other", ttl))).isEmpty();
	}

	@Test
	void aNewArbiterTakesBackTheRecordsWithTheLeasesThatNameThem() throws InterruptedException {
		Duration ttl = Duration.ofSeconds(1);
		List<LeaseSpec> held = hold("taken-over", 20, ttl);
		SocketLockRepository other = repository("other");
		assertThat(other.inspect(held.get(0).key())).isPresent();
		// The arbiter hands over; the holder and the other repository elect a successor,
		// and the holder re-asserts its leases there, naming their record.
		this.arbiter.close();
		long end = System.nanoTime() + ttl.multipliedBy(4).toNanos();
		while (System.nanoTime() - end < 0) {
			try {
				assertThat(this.holder.renew(held)).as("no lease lost").isEmpty();
			}
			catch (LockBackendException ex) {
				// The election under way: the core retries until the leases run out.
			}
			Thread.sleep(ttl.dividedBy(4).toMillis());
		}
		assertThat(this.holder.renew(held)).isEmpty();
		assertThat(this.holder.isArbiter() || other.isArbiter()).isTrue();
		for (LeaseSpec lease : held) {
			assertThat(other.tryAcquire(lease(lease.key(), "other", ttl))).as(lease.key()).isEmpty();
		}
		// Renewed no longer, they are freed with the record.
		LeaseSpec next = lease(held.get(7).key(), "other", Duration.ofSeconds(30));
		Awaitility.await()
			.atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(20))
			.until(() -> other.tryAcquire(next).isPresent());
	}

	private List<LeaseSpec> hold(String prefix, int count, Duration ttl) {
		List<LeaseSpec> held = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			LeaseSpec lease = lease(prefix + "-" + i, "holder", ttl);
			assertThat(this.holder.tryAcquire(lease)).isPresent();
			held.add(lease);
		}
		return held;
	}

	private SocketLockRepository repository(String name) {
		SocketLockRepository repository = new SocketLockRepository(this.temporary.resolve("locks"), name,
				Duration.ofSeconds(5));
		this.repositories.add(repository);
		// The first request connects, and elects an arbiter if there is none.
		repository.waiters("warm-up");
		return repository;
	}

	private static LeaseSpec lease(String key, String owner, Duration ttl) {
		return LeaseSpec.exclusive(key, owner, token(), ttl);
	}

	private static String token() {
		return UUID.randomUUID().toString();
	}

}
