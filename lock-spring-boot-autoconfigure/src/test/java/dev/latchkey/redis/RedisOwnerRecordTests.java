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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.data.redis.core.StringRedisTemplate;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockInfo;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The owner records that keep a repository's exclusive leases held on a Redis that is not
 * a Cluster, seen from another instance on its own connection: a record that is gone
 * frees every lock that names it, for good; a lease its holder stops renewing is freed at
 * its deadline although its record lives on; a lock key's own expiry is pushed back
 * before it comes; and a lease moved to a TTL of its own (a minimum hold) keeps it.
 */
@Timeout(60)
class RedisOwnerRecordTests {

	@RegisterExtension
	static final OwnRedisServer redis = new OwnRedisServer();

	private String namespace;

	private RedisLockRepository holder;

	private RedisLockRepository other;

	@BeforeEach
	void repositories() {
		this.namespace = "owner-test-" + UUID.randomUUID();
		this.holder = new RedisLockRepository(redis.connections(), this.namespace);
		this.other = new RedisLockRepository(redis.connections(1), this.namespace);
	}

	@AfterEach
	void close() {
		this.holder.close();
		this.other.close();
	}

	@Test
	void exclusiveLeasesOfOneTtlNameOneOwnerRecordWhoseTtlTheLocksReport() {
		List<LeaseSpec> held = hold("one-record", 20, Duration.ofSeconds(30));
		assertThat(ownerRecords()).hasSize(1);
		assertThat(this.other.inspect(held.get(7).key())).hasValueSatisfying((info) -> {
			assertThat(info.holders()).singleElement().satisfies((lease) -> {
				assertThat(lease.owner()).isEqualTo("holder");
				assertThat(lease.remainingTtl()).isGreaterThan(Duration.ofSeconds(25))
					.isLessThanOrEqualTo(Duration.ofSeconds(30));
			});
		});
		hold("other-ttl", 1, Duration.ofSeconds(20));
		assertThat(ownerRecords()).as("one record per TTL class").hasSize(2);
	}

	@Test
	void anOwnerRecordThatIsGoneFreesEveryLockThatNamesItForGood() {
		List<LeaseSpec> held = hold("gone", 50, Duration.ofSeconds(30));
		// As if the holder had been paused past its TTL: its record expired.
		Set<String> records = ownerRecords();
		assertThat(records).hasSize(1);
		redis().delete(records);
		assertThat(this.other.inspect(held.get(0).key())).isEmpty();
		LeaseSpec taken = LeaseSpec.exclusive(held.get(0).key(), "other", token(), Duration.ofSeconds(30));
		assertThat(this.other.tryAcquire(taken)).as("a lock whose owner record is gone is free").isPresent();
		assertThat(this.holder.renew(held)).as("every lease of the record is reported lost")
			.containsExactlyInAnyOrderElementsOf(held.stream().map(LeaseSpec::token).toList());
		// The holder's next lease names a record of its own, made anew: the old one never
		// comes back, and with it none of the locks that the holder lost.
		LeaseSpec next = LeaseSpec.exclusive("gone-next", "holder", token(), Duration.ofSeconds(30));
		assertThat(this.holder.tryAcquire(next)).isPresent();
		assertThat(ownerRecords()).as("the holder's new record and the other instance's")
			.hasSize(2)
			.doesNotContainAnyElementsOf(records);
		assertThat(this.other.inspect(held.get(1).key())).isEmpty();
		assertThat(this.other.inspect(held.get(0).key())).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("other"));
		assertThat(this.holder.release(held.get(0))).as("the lost lease cannot release its next holder").isFalse();
		assertThat(this.other.inspect(held.get(0).key())).isPresent();
		assertThat(this.holder.renew(List.of(next))).isEmpty();
	}

	@Test
	void aLeaseGrantedJustBeforeItsIdleRecordWouldHaveExpiredIsKept() throws InterruptedException {
		Duration ttl = Duration.ofSeconds(3);
		LeaseSpec first = LeaseSpec.exclusive("idle-first", "holder", token(), ttl);
		assertThat(this.holder.tryAcquire(first)).isPresent();
		assertThat(this.holder.release(first)).isTrue();
		// Nothing renews the record, which has 0.8 s left when the next lease names it:
		// the grant makes it last the lease's TTL.
		Thread.sleep(2_200);
		LeaseSpec late = LeaseSpec.exclusive("idle-late", "holder", token(), ttl);
		assertThat(this.holder.tryAcquire(late)).isPresent();
		Thread.sleep(1_300);
		assertThat(this.holder.renew(List.of(late))).as("renewed past its record's first expiry").isEmpty();
		Thread.sleep(2_000);
		assertThat(this.other.tryAcquire(LeaseSpec.exclusive("idle-late", "other", token(), ttl))).isEmpty();
		assertThat(this.holder.renew(List.of(late))).isEmpty();
	}

	@Test
	void aLeaseItsHolderStopsRenewingIsFreedAtItsDeadlineWhileItsOwnerRecordLivesOn() {
		Duration ttl = Duration.ofSeconds(1);
		LeaseSpec abandoned = LeaseSpec.exclusive("abandoned", "holder", token(), ttl);
		LeaseSpec renewed = LeaseSpec.exclusive("renewed", "holder", token(), ttl);
		assertThat(this.holder.tryAcquire(abandoned)).isPresent();
		assertThat(this.holder.tryAcquire(renewed)).isPresent();
		long start = System.nanoTime();
		LeaseSpec next = LeaseSpec.exclusive("abandoned", "other", token(), Duration.ofSeconds(30));
		Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
			assertThat(this.holder.renew(List.of(renewed))).isEmpty();
			return this.other.tryAcquire(next).isPresent();
		});
		assertThat(Duration.ofNanos(System.nanoTime() - start)).as("freed no sooner than its TTL")
			.isGreaterThanOrEqualTo(ttl);
		assertThat(this.holder.renew(List.of(renewed, abandoned))).containsExactly(abandoned.token());
		assertThat(this.other.inspect("renewed")).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("holder"));
	}

	@Test
	void aLockKeysOwnExpiryIsPushedBackBeforeItComesAndALockChangedBehindTheHoldersBackIsReported()
			throws InterruptedException {
		// Lock keys live 3 TTLs (3 s) without a refresh of their own, and are refreshed
		// between 0.75 and 1.5 s after their last one.
		this.holder.keyLifetimeTtls = 3;
		List<LeaseSpec> held = hold("lifetime", 10, Duration.ofSeconds(1));
		LeaseSpec changed = held.get(3);
		List<String> lost = new ArrayList<>();
		long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
		boolean overwritten = false;
		while (System.nanoTime() - end < 0) {
			Set<String> found = this.holder.renew(held);
			lost.addAll(found);
			held.removeIf((lease) -> found.contains(lease.token()));
			if (!overwritten && System.nanoTime() - end > -Duration.ofSeconds(3).toNanos()) {
				// Another token written into the lock, as a hand-made HSET would.
				redis().opsForHash().put("{" + this.namespace + ":" + changed.key() + "}:lock", "token", "intruder");
				overwritten = true;
			}
			Thread.sleep(250);
		}
		assertThat(lost).as("the changed lock, found when its key's turn came").containsExactly(changed.token());
		assertThat(held).hasSize(9)
			.allSatisfy((lease) -> assertThat(this.other.inspect(lease.key())).as("held past its key's lifetime")
				.isPresent());
	}

	@Test
	void aLeaseMovedToATtlOfItsOwnExpiresWithItWhileItsOwnerRecordLivesOn() {
		LeaseSpec kept = LeaseSpec.exclusive("kept", "holder", token(), Duration.ofSeconds(30));
		LeaseSpec shortened = LeaseSpec.exclusive("shortened", "holder", token(), Duration.ofSeconds(30));
		assertThat(this.holder.tryAcquire(kept)).isPresent();
		assertThat(this.holder.tryAcquire(shortened)).isPresent();
		// As a minimum hold does: the lease is renewed once, with a shorter TTL.
		assertThat(this.holder.renew(List.of(shortened.withTtl(Duration.ofMillis(500))))).isEmpty();
		assertThat(this.other.inspect("shortened"))
			.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
				.satisfies((lease) -> assertThat(lease.remainingTtl()).isLessThanOrEqualTo(Duration.ofMillis(500))));
		LeaseSpec next = LeaseSpec.exclusive("shortened", "other", token(), Duration.ofSeconds(30));
		Awaitility.await()
			.atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> this.other.tryAcquire(next).isPresent());
		assertThat(this.holder.renew(List.of(kept, shortened))).containsExactly(shortened.token());
	}

	private List<LeaseSpec> hold(String prefix, int count, Duration ttl) {
		List<LeaseSpec> held = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			LeaseSpec lease = LeaseSpec.exclusive(prefix + "-" + i, "holder", token(), ttl);
			assertThat(this.holder.tryAcquire(lease)).isPresent();
			held.add(lease);
		}
		return held;
	}

	private Set<String> ownerRecords() {
		return redis().keys("{" + this.namespace + ":}:owner:*");
	}

	private static StringRedisTemplate redis() {
		return new StringRedisTemplate(redis.connections(1));
	}

	private static String token() {
		return UUID.randomUUID().toString();
	}

}
