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
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.core.log.LogAccessor;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.test.HandOffs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.entry;

/**
 * What the Redis backend costs the server, counted with {@code INFO commandstats} on a
 * redis-server of this class's own (so that no other client's commands are counted), and
 * how it fails when the server refuses its scripts.
 */
@Timeout(60)
class RedisLockScriptTests {

	private static final LogAccessor logger = new LogAccessor(RedisLockScriptTests.class);

	private static final Pattern COMMAND_STAT = Pattern.compile("cmdstat_([a-z|]+):calls=(\\d+)");

	private static final Duration TTL = Duration.ofSeconds(30);

	@RegisterExtension
	static final OwnRedisServer redis = new OwnRedisServer();

	@Test
	void uncontendedAcquireAndReleaseAreOneScriptCallEach() {
		RedisLockRepository repository = new RedisLockRepository(redis.connections(), "script-test");
		// The first call of each script loads it (EVALSHA answers NOSCRIPT, then EVAL),
		// and the first exclusive lease makes the repository's owner record of its TTL
		// (SET): not counted.
		acquireAndRelease(repository, "warm-up");
		int rounds = 10;
		Map<String, Long> before = commandStats();
		for (int i = 0; i < rounds; i++) {
			acquireAndRelease(repository, "order:" + i);
		}
		Map<String, Long> calls = delta(before, commandStats());
		logger.info(() -> "Redis commands for " + rounds + " uncontended acquire+release pairs: " + calls);
		// The commands the scripts run are counted under their own names, and cost no
		// round trip; INFO and QUIT are this test's own probe.
		Map<String, Long> roundTrips = new TreeMap<>(calls);
		roundTrips.keySet()
			.removeAll(List.of("exists", "incr", "hset", "pexpire", "pttl", "hget", "hmget", "del", "zpopmin",
					"publish", "info", "quit"));
		assertThat(roundTrips).containsExactly(entry("evalsha", 2L * rounds));
	}

	@Test
	void renewalOfThousandsOfExclusiveLeasesIsOneScriptCallThatStillReportsEachForceRelease() {
		RedisLockRepository repository = new RedisLockRepository(redis.connections(), "script-test");
		List<LeaseSpec> leases = new ArrayList<>();
		for (int i = 0; i < 4_500; i++) {
			LeaseSpec lease = LeaseSpec.exclusive("renew-flat:" + i, "owner", token(), TTL);
			assertThat(repository.tryAcquire(lease)).isPresent();
			leases.add(lease);
		}
		LeaseSpec forced = leases.get(4_321);
		assertThat(new RedisLockRepository(redis.connections(), "script-test").forceRelease(forced.key())).isTrue();
		Map<String, Long> before = commandStats();
		assertThat(repository.renew(leases)).containsExactly(forced.token());
		// One script renews the owner record: no lock key is touched.
		assertThat(delta(before, commandStats())).containsEntry("evalsha", 1L).doesNotContainKey("hmget");
		before = commandStats();
		assertThat(repository.renew(leases.subList(0, 4_321))).isEmpty();
		assertThat(delta(before, commandStats())).containsEntry("evalsha", 1L);
	}

	@Test
	void renewalOfThousandsOfPermitsIsSentInScriptsOfAtMostTwoThousandLeasesSoNoneStallsTheServer() {
		RedisLockRepository repository = new RedisLockRepository(redis.connections(), "script-test");
		List<LeaseSpec> leases = new ArrayList<>();
		for (int i = 0; i < 4_500; i++) {
			LeaseSpec lease = LeaseSpec.semaphore("renew-many:" + i, 2, "owner", token(), TTL);
			assertThat(repository.tryAcquirePermit(lease)).isPresent();
			leases.add(lease);
		}
		LeaseSpec forced = leases.get(4_321);
		assertThat(new RedisLockRepository(redis.connections(), "script-test").forceRelease(forced.key())).isTrue();
		Map<String, Long> before = commandStats();
		assertThat(repository.renew(leases)).containsExactly(forced.token());
		assertThat(delta(before, commandStats())).containsEntry("evalsha", 3L);
	}

	@Test
	void renewalOfManyLeasesOfBothKindsIsOneScriptCallPerKind() {
		RedisLockRepository repository = new RedisLockRepository(redis.connections(), "script-test");
		List<LeaseSpec> leases = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			LeaseSpec lease = (i % 2 == 0) ? LeaseSpec.exclusive("renew:" + i, "owner", token(), TTL)
					: LeaseSpec.semaphore("renew:" + i, 3, "owner", token(), TTL);
			assertThat((i % 2 == 0) ? repository.tryAcquire(lease) : repository.tryAcquirePermit(lease)).isPresent();
			leases.add(lease);
		}
		assertThat(repository.renew(leases)).isEmpty();
		Map<String, Long> before = commandStats();
		assertThat(repository.renew(leases)).isEmpty();
		// One script renews the owner record of the exclusive leases, one the permits.
		assertThat(delta(before, commandStats())).containsEntry("evalsha", 2L);
	}

	@Test
	void aReleaseWakesOneWaitingInstanceNotEveryOne() throws Exception {
		// Polls far apart: every wake-up in this test comes from a release.
		HandOffCalls handOffs = handOffs("wake-test", 6, 3,
				LockSettings.defaults().withPollIntervals(Duration.ofSeconds(20), Duration.ofSeconds(20)));
		// Each hand-off: the release, the attempt of the one instance it woke, and the
		// attempt with which the next caller of that instance joins its wake line again:
		// 3 (2.8 to 2.9 measured here; a caller's first attempt, made while no other
		// caller of its instance waits, adds to it). Woken at once, the other five
		// instances added their attempts to each: 6.2 per hand-off.
		assertThat(handOffs.calls().get("evalsha")).isLessThanOrEqualTo(handOffs.granted() * 7L / 2);
		assertThat(handOffs.calls().get("publish")).isLessThanOrEqualTo(handOffs.granted());
	}

	@Test
	void aLoneCallerPerInstanceCostsThreeScriptsPerHandOff() throws Exception {
		// Polls far apart: every wake-up in this test comes from a release.
		HandOffCalls handOffs = handOffs("lone-test", 8, 1,
				LockSettings.defaults().withPollIntervals(Duration.ofSeconds(20), Duration.ofSeconds(20)));
		// Each hand-off: the release, the attempt of the instance it woke, and the first
		// attempt of the releasing caller's next request, which joins the wake line: 3.00
		// measured here. A caller that listened for releases only after that attempt
		// tried once more before it waited: 3.5.
		assertThat(handOffs.calls().get("evalsha")).isLessThanOrEqualTo(handOffs.granted() * 16L / 5);
		assertThat(handOffs.calls().get("publish")).isLessThanOrEqualTo(handOffs.granted());
	}

	@Test
	void aFairHandOffCostsTwoScriptsAsTheReleaseGrantsTheNextWaiter() throws Exception {
		HandOffCalls handOffs = handOffs("fair-test", 6, 3, LockSettings.defaults().withFair(true));
		// Each hand-off: the release, which grants the key to the first waiter and tells
		// its instance alone, and the join of the holder's next request: 2, and a few
		// polls (the first waiter's, once a second). A release that only woke the first
		// waiter, whose attempt then took the key, cost 3 (3.0 to 3.1 measured here).
		assertThat(handOffs.calls().get("evalsha")).isLessThanOrEqualTo(handOffs.granted() * 5L / 2);
		assertThat(handOffs.calls().get("publish")).isLessThanOrEqualTo(handOffs.granted());
	}

	/**
	 * Makes 600 hand-offs of one key between the threads of several instances and counts
	 * the server's commands meanwhile.
	 */
	private HandOffCalls handOffs(String namespace, int instances, int threadsPerInstance, LockSettings settings)
			throws InterruptedException {
		List<RedisLockRepository> repositories = new ArrayList<>();
		List<LockTemplate> templates = new ArrayList<>();
		for (int i = 0; i < instances; i++) {
			RedisLockRepository repository = new RedisLockRepository(redis.connections(), namespace);
			repositories.add(repository);
			LockTemplate template = new LockTemplate(repository,
					settings.withTtl(TTL).withWaitTime(Duration.ofSeconds(50)).withOwner("instance-" + i));
			templates.add(template);
			// Loads the scripts and makes the instance's owner record: not counted.
			template.exclusive("warm-up").run(() -> {
			});
		}
		Map<String, Long> before = commandStats();
		int granted = HandOffs.take(templates, threadsPerInstance, "hand-off", 600);
		Map<String, Long> calls = delta(before, commandStats());
		templates.forEach(LockTemplate::close);
		repositories.forEach(RedisLockRepository::close);
		logger.info(() -> "Redis commands for " + granted + " hand-offs over " + instances + " instances (" + namespace
				+ "): " + calls);
		return new HandOffCalls(granted, calls);
	}

	private record HandOffCalls(int granted, Map<String, Long> calls) {
	}

	@Test
	void anInstanceThatDiedInTheWakeLineCostsOneHandOffAPollAndNoMore() throws Exception {
		RedisLockRepository holder = new RedisLockRepository(redis.connections(), "wake-test");
		RedisLockRepository waiter = new RedisLockRepository(redis.connections(), "wake-test");
		LeaseSpec held = LeaseSpec.exclusive("dead-waker", "holder", token(), TTL);
		assertThat(holder.tryAcquire(held)).isPresent();
		// A waiting instance killed with kill -9 leaves its place in the wake line.
		assertThat(redis.server().command("ZADD {wake-test:dead-waker}:wake 0 killed-instance")).isEqualTo(":1");
		LockSettings settings = LockSettings.defaults()
			.withTtl(TTL)
			.withWaitTime(Duration.ofSeconds(30))
			.withPollIntervals(Duration.ofMillis(100), Duration.ofMillis(200));
		try (LockTemplate template = new LockTemplate(waiter, settings.withOwner("waiter"))) {
			CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> {
				long asked = System.nanoTime();
				template.exclusive("dead-waker").run(() -> {
				});
				return System.nanoTime() - asked;
			});
			// The waiter has joined the line, behind the dead instance.
			Awaitility.await()
				.atMost(Duration.ofSeconds(10))
				.until(() -> redis.server().reply("ZCARD {wake-test:dead-waker}:wake").contains(":2"));
			long released = System.nanoTime();
			assertThat(holder.release(held)).isTrue();
			// The release woke the dead instance, and took it off the line; the waiter's
			// poll found the key free.
			assertThat(waited.get(10, TimeUnit.SECONDS)).isPositive();
			assertThat(Duration.ofNanos(System.nanoTime() - released)).isLessThan(Duration.ofSeconds(5));
			assertThat(redis.server().reply("ZSCORE {wake-test:dead-waker}:wake killed-instance")).contains("$-1");
		}
		finally {
			holder.close();
			waiter.close();
		}
	}

	@Test
	void aReleaseOfALostLeaseStillWakesTheWaitersOfItsInstanceFirstInLine() throws Exception {
		RedisLockRepository repository = new RedisLockRepository(redis.connections(), "lost-wake");
		AtomicInteger woken = new AtomicInteger();
		try (ReleaseSubscription subscription = repository.subscribe("lost", woken::incrementAndGet)) {
			LeaseSpec held = LeaseSpec.exclusive("lost", "holder", token(), TTL);
			assertThat(repository.tryAcquire(held)).isPresent();
			// A caller of this instance waits: the instance is first in the key's wake
			// line.
			assertThat(repository.tryAcquireWaiting(LeaseSpec.exclusive("lost", "waiter", token(), TTL))).isEmpty();
			assertThat(redis.server().reply("ZCARD {lost-wake:lost}:wake")).contains(":1");
			// The lease is lost: its owner record expired (deleted here, as a pause past
			// the TTL would).
			List<String> records = redis.server()
				.reply("KEYS {lost-wake:}:owner:*")
				.lines()
				.filter((line) -> line.startsWith("{"))
				.toList();
			assertThat(records).isNotEmpty();
			records.forEach((record) -> assertThat(redis.server().command("DEL " + record)).isEqualTo(":1"));
			// Reported as not held; the release still deleted the lock and took this
			// instance off the line, so it wakes its own waiters, as nobody else will.
			assertThat(repository.release(held)).isFalse();
			assertThat(redis.server().reply("ZCARD {lost-wake:lost}:wake")).contains(":0");
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> woken.get() == 1);
		}
		finally {
			repository.close();
		}
	}

	@Test
	void scriptRefusedByAnAclIsABackendFailureThatSaysSo() {
		assertThat(redis.server().command("ACL SETUSER no-scripts on >secret ~* &* +@all -@scripting"))
			.isEqualTo("+OK");
		LettuceConnectionFactory restricted = RedisTestSupport.connectionFactory(redis.server().url(), "no-scripts",
				"secret");
		try {
			RedisLockRepository repository = new RedisLockRepository(restricted, "script-test");
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> repository.tryAcquire(LeaseSpec.exclusive("acl", "owner", token(), TTL)))
				.withMessageStartingWith("Acquiring the lock at the Redis backend failed: ")
				.withMessageContaining("NOPERM")
				.satisfies((ex) -> assertThat(ex.getBackend()).isEqualTo("redis"));
		}
		finally {
			restricted.destroy();
		}
	}

	private static void acquireAndRelease(RedisLockRepository repository, String key) {
		LeaseSpec lease = LeaseSpec.exclusive(key, "owner", token(), TTL);
		assertThat(repository.tryAcquire(lease)).isPresent();
		assertThat(repository.release(lease)).isTrue();
	}

	private static Map<String, Long> commandStats() {
		Map<String, Long> stats = new TreeMap<>();
		Matcher matcher = COMMAND_STAT.matcher(redis.server().reply("INFO commandstats"));
		while (matcher.find()) {
			stats.put(matcher.group(1), Long.parseLong(matcher.group(2)));
		}
		return stats;
	}

	private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
		Map<String, Long> delta = new TreeMap<>();
		after.forEach((command, calls) -> {
			long difference = calls - before.getOrDefault(command, 0L);
			if (difference > 0) {
				delta.put(command, difference);
			}
		});
		return delta;
	}

	private static String token() {
		return UUID.randomUUID().toString();
	}

}
