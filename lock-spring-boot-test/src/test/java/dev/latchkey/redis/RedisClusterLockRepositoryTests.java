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

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

import io.lettuce.core.cluster.RedisClusterClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.data.redis.connection.ClusterSlotHashUtil;
import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockRepository;
import dev.latchkey.test.contract.CrossInstanceContract;
import dev.latchkey.test.contract.FairLockRepositoryContract;
import dev.latchkey.test.contract.LockRepositoryContract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The Redis backend passes the backend contract against a Redis Cluster: three primaries
 * (no replicas) on free loopback ports, which the test starts with
 * {@code redis-server --cluster-enabled yes} and joins with
 * {@code redis-cli --cluster create}, and stops again. Every script touches the slot of
 * one hash tag; renewals are grouped by slot and listing scans every primary.
 */
class RedisClusterLockRepositoryTests extends LockRepositoryContract
		implements CrossInstanceContract, FairLockRepositoryContract {

	private static final String NAMESPACE = "latchkey-cluster-test-" + UUID.randomUUID();

	@TempDir
	static Path temporary;

	private static final List<RedisServerProcess> nodes = new ArrayList<>();

	private static LettuceConnectionFactory connectionFactory;

	@BeforeAll
	static void startCluster() {
		nodes.addAll(RedisServerProcess.startCluster(temporary, 3, false));
		RedisClusterConfiguration cluster = new RedisClusterConfiguration(
				nodes.stream().map((node) -> "127.0.0.1:" + node.port()).toList());
		LettuceClientConfiguration client = LettuceClientConfiguration.builder()
			.commandTimeout(Duration.ofSeconds(2))
			.build();
		connectionFactory = new LettuceConnectionFactory(cluster, client);
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
	}

	@AfterAll
	static void stopCluster() {
		if (connectionFactory != null) {
			connectionFactory.destroy();
		}
		nodes.forEach(RedisServerProcess::close);
		nodes.clear();
	}

	@Override
	public LockRepository createRepository() {
		return new RedisLockRepository(connectionFactory, NAMESPACE);
	}

	@Override
	public void killWaiter(LockRepository peer, LeaseSpec waiting) {
		// What a dead waiter's place comes to: its deadline passes, as the waiter no
		// longer renews it.
		RedisTestSupport.expireFairPlace(connectionFactory, NAMESPACE, waiting.key(), waiting.token());
	}

	@Test
	void renewalOfLeasesOverThousandsOfSlotsReportsTheForceReleasedOnesAndNoOther() {
		RedisLockRepository holder = new RedisLockRepository(connectionFactory, NAMESPACE);
		RedisLockRepository operator = new RedisLockRepository(connectionFactory, NAMESPACE);
		List<LeaseSpec> leases = holdAcrossSlots(holder, "renew-slots", 3_000);
		List<LeaseSpec> evicted = List.of(leases.get(7), leases.get(1_500), leases.get(2_999));
		evicted.forEach((lease) -> assertThat(operator.forceRelease(lease.key())).isTrue());
		assertThat(holder.renew(leases))
			.containsExactlyInAnyOrderElementsOf(evicted.stream().map(LeaseSpec::token).toList());
		List<LeaseSpec> kept = new ArrayList<>(leases);
		kept.removeAll(evicted);
		assertThat(holder.renew(kept)).isEmpty();
	}

	@Test
	void renewalOfExclusiveLeasesOverThousandsOfSlotsSendsOneScriptPerNode() {
		// Another test moves a slot behind the client's back; a node that no longer
		// serves a slot of the leases would refuse its script, and its records would be
		// renewed one by one. The count is of a client whose view is current.
		((RedisClusterClient) connectionFactory.getRequiredNativeClient()).refreshPartitions();
		// A namespace of its own, whose owner records are all this test's.
		String namespace = NAMESPACE + "-records";
		RedisLockRepository holder = new RedisLockRepository(connectionFactory, namespace);
		List<LeaseSpec> leases = holdAcrossSlots(holder, "renew-by-node", 3_000);
		assertThat(holder.renewalBatchSize()).isEqualTo(Integer.MAX_VALUE);
		assertThat(holder.renew(leases)).isEmpty();
		long before = scriptCalls();
		assertThat(holder.renew(leases)).isEmpty();
		// The leases name the owner records of about 2,700 slots, about 900 per primary:
		// one script each, where a script per record would be about 2,700 calls, and a
		// script per lease and node 3 to 6.
		assertThat(scriptCalls() - before).isEqualTo(3);
		assertThat(ownerRecords(namespace)).as("owner records of the leases' slots").isBetween(2_000L, 3_000L);
	}

	@Test
	void renewalOfPermitsOverThousandsOfSlotsSendsOneScriptPerNodeAndTwoThousandLeases() {
		((RedisClusterClient) connectionFactory.getRequiredNativeClient()).refreshPartitions();
		RedisLockRepository holder = new RedisLockRepository(connectionFactory, NAMESPACE);
		List<LeaseSpec> leases = new ArrayList<>();
		for (int i = 0; i < 3_000; i++) {
			LeaseSpec lease = LeaseSpec.semaphore("renew-permits:" + i, 2, "holder", UUID.randomUUID().toString(),
					Duration.ofSeconds(30));
			assertThat(holder.tryAcquirePermit(lease)).isPresent();
			leases.add(lease);
		}
		assertThat(holder.renew(leases)).isEmpty();
		long before = scriptCalls();
		assertThat(holder.renew(leases)).isEmpty();
		// Permits name no owner record: about 1,000 leases per primary, one script each,
		// where a script per slot made about 2,700 calls.
		assertThat(scriptCalls() - before).isBetween(3L, 6L);
	}

	@Test
	void renewalOfALeaseWhoseSlotMovedToAnotherNodeRenewsItThereAndStillReportsItsLoss() {
		renewalAfterASlotMoved((holder) -> holdAcrossSlots(holder, "renew-moved", 300));
	}

	@Test
	void renewalOfPermitsWhoseSlotMovedToAnotherNodeRenewsThemThereAndStillReportsTheirLoss() {
		renewalAfterASlotMoved((holder) -> {
			List<LeaseSpec> leases = new ArrayList<>();
			for (int i = 0; i < 300; i++) {
				LeaseSpec lease = LeaseSpec.semaphore("renew-moved-permits:" + i, 2, "holder",
						UUID.randomUUID().toString(), Duration.ofSeconds(30));
				assertThat(holder.tryAcquirePermit(lease)).isPresent();
				leases.add(lease);
			}
			return leases;
		});
	}

	/**
	 * Holds 300 leases over many slots, moves the slot of one of them to another node
	 * behind the client's back, force-releases 20 others of its old node, and checks that
	 * the renewal still reports exactly those; then force-releases the moved one, and
	 * checks that its loss is reported too.
	 */
	private void renewalAfterASlotMoved(Function<RedisLockRepository, List<LeaseSpec>> hold) {
		RedisLockRepository holder = new RedisLockRepository(connectionFactory, NAMESPACE);
		RedisLockRepository operator = new RedisLockRepository(connectionFactory, NAMESPACE);
		List<LeaseSpec> leases = hold.apply(holder);
		assertThat(holder.renew(leases)).isEmpty();
		LeaseSpec moved = leases.get(150);
		RedisServerProcess from = nodeOf(moved);
		RedisServerProcess to = nodes.get((nodes.indexOf(from) + 1) % nodes.size());
		int slot = Integer.parseInt(from.command("CLUSTER KEYSLOT " + lockKey(moved)).substring(1));
		List<LeaseSpec> evicted = new ArrayList<>(leases.stream()
			.filter((lease) -> lease != moved && nodeOf(lease) == from)
			.filter((lease) -> !from.command("CLUSTER KEYSLOT " + lockKey(lease)).equals(":" + slot))
			.limit(20)
			.toList());
		assertThat(evicted).hasSize(20);
		long refusedBefore = failedScriptCalls(from);
		migrateSlot(slot, from, to);
		try {
			for (LeaseSpec lease : evicted) {
				assertThat(operator.forceRelease(lease.key())).isTrue();
			}
			// The client's view of the Cluster still has the slot on its old node, which
			// refuses a script naming its keys: that node's leases are renewed another
			// way. The refused script must not have read (and deleted) the revocations.
			assertThat(holder.renew(leases))
				.containsExactlyInAnyOrderElementsOf(evicted.stream().map(LeaseSpec::token).toList());
			assertThat(failedScriptCalls(from)).as("scripts refused by the slot's old node")
				.isGreaterThan(refusedBefore);
			assertThat(to.command("EXISTS " + lockKey(moved))).isEqualTo(":1");
			List<LeaseSpec> kept = new ArrayList<>(leases);
			kept.removeAll(evicted);
			assertThat(operator.forceRelease(moved.key())).isTrue();
			assertThat(holder.renew(kept)).containsExactly(moved.token());
		}
		finally {
			migrateSlot(slot, to, from);
		}
	}

	@Test
	void renewalGoesOnWhileASlotOfItsLeasesMigratesAndStillReportsALossThere() throws InterruptedException {
		RedisLockRepository holder = new RedisLockRepository(connectionFactory, NAMESPACE);
		RedisLockRepository operator = new RedisLockRepository(connectionFactory, NAMESPACE);
		List<LeaseSpec> leases = new ArrayList<>(holdAcrossSlots(holder, "renew-migrating", 300));
		LeaseSpec evicted = leases.get(150);
		int slot = ClusterSlotHashUtil.calculateSlot(lockKey(evicted));
		// A second lease of the same slot, kept.
		String sameSlot = null;
		for (int i = 0; sameSlot == null; i++) {
			String key = "renew-migrating-kept:" + i;
			if (ClusterSlotHashUtil.calculateSlot("{" + NAMESPACE + ":" + key + "}:lock") == slot) {
				sameSlot = key;
			}
		}
		LeaseSpec kept = LeaseSpec.exclusive(sameSlot, "holder", UUID.randomUUID().toString(), Duration.ofSeconds(30));
		assertThat(holder.tryAcquire(kept)).isPresent();
		leases.add(kept);
		assertThat(holder.renew(leases)).isEmpty();
		RedisServerProcess from = nodeOf(evicted);
		RedisServerProcess to = nodes.get((nodes.indexOf(from) + 1) % nodes.size());
		assertThat(operator.forceRelease(evicted.key())).isTrue();
		startMigration(slot, from, to);
		try {
			// The slot's keys are all still on its old node, which serves them; a renewal
			// that touched a key the slot does not have there would be refused.
			assertThat(holder.renew(leases)).containsExactly(evicted.token());
			leases.remove(evicted);
			// An acquisition names several keys of the slot, which may be on either node:
			// refused until the migration is done.
			LeaseSpec again = LeaseSpec.exclusive(evicted.key(), "operator", UUID.randomUUID().toString(),
					Duration.ofSeconds(30));
			assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> operator.tryAcquire(again))
				.withMessageContaining("TRYAGAIN");
			// The owner record moves first, the lock it keeps stays behind: the record is
			// renewed where it went.
			// The holder's record of the slot, as the kept lease's lock names it (other
			// tests' records may share the slot).
			String record = bulk(from, "HGET " + lockKey(kept) + " record");
			assertThat(keysInSlot(from, slot)).contains(record);
			moveKeys(from, to, List.of(record));
			Thread.sleep(1_500);
			assertThat(holder.renew(leases)).isEmpty();
			// Read as a client redirected there does: the slot is still the old node's.
			List<String> pttl = to.reply("ASKING\r\nPTTL " + record).lines().toList();
			assertThat(pttl.get(0)).isEqualTo("+OK");
			assertThat(Long.parseLong(pttl.get(1).substring(1))).isGreaterThan(29_000);
		}
		finally {
			moveKeys(from, to, keysInSlot(from, slot));
			finishMigration(slot, to);
			migrateSlot(slot, to, from);
		}
	}

	private static String lockKey(LeaseSpec lease) {
		return "{" + NAMESPACE + ":" + lease.key() + "}:"
				+ ((lease.mode() == LeaseMode.EXCLUSIVE) ? "lock" : "permits");
	}

	private static RedisServerProcess nodeOf(LeaseSpec lease) {
		return nodes.stream()
			.filter((node) -> node.command("EXISTS " + lockKey(lease)).equals(":1"))
			.findFirst()
			.orElseThrow();
	}

	/**
	 * The owner records of a namespace on every node.
	 */
	private static long ownerRecords(String namespace) {
		long records = 0;
		for (RedisServerProcess node : nodes) {
			String keys = node.reply("KEYS {" + namespace + ":~*}:owner:*");
			assertThat(keys).as("KEYS of a node").isNotNull();
			records += keys.lines().filter((line) -> line.startsWith("$")).count();
		}
		return records;
	}

	@Test
	void renewalAcrossSlotsLoadsItsScriptAgainOnNodesThatLostIt() {
		RedisLockRepository holder = new RedisLockRepository(connectionFactory, NAMESPACE);
		List<LeaseSpec> leases = holdAcrossSlots(holder, "renew-flushed", 300);
		assertThat(holder.renew(leases)).isEmpty();
		// What a restarted node or a failover to a replica looks like to the client.
		nodes.forEach((node) -> assertThat(node.reply("SCRIPT FLUSH")).isNotNull());
		assertThat(holder.renew(leases)).isEmpty();
	}

	/**
	 * The script calls every node has answered, from its command statistics.
	 */
	private static long scriptCalls() {
		return nodes.stream().mapToLong((node) -> scriptStatistic(node, "calls")).sum();
	}

	/**
	 * The script calls a node answered with an error, from its command statistics.
	 */
	private static long failedScriptCalls(RedisServerProcess node) {
		return scriptStatistic(node, "failed_calls");
	}

	private static long scriptStatistic(RedisServerProcess node, String name) {
		String stats = node.reply("INFO commandstats");
		assertThat(stats).as("INFO commandstats of a node").isNotNull();
		long total = 0;
		for (String line : stats.split("\r?\n")) {
			if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
				for (String field : line.substring(line.indexOf(':') + 1).split(",")) {
					if (field.startsWith(name + "=")) {
						total += Long.parseLong(field.substring(name.length() + 1));
					}
				}
			}
		}
		return total;
	}

	/**
	 * Moves a slot and its keys from one primary to another, as {@code redis-cli
	 * --cluster reshard} does, without telling the client.
	 */
	private static void migrateSlot(int slot, RedisServerProcess from, RedisServerProcess to) {
		startMigration(slot, from, to);
		moveKeys(from, to, keysInSlot(from, slot));
		finishMigration(slot, to);
	}

	/**
	 * Marks a slot as migrating from one primary and importing to another, the first step
	 * of {@code redis-cli --cluster reshard}: from then until {@link #finishMigration},
	 * its keys are on either node.
	 */
	private static void startMigration(int slot, RedisServerProcess from, RedisServerProcess to) {
		assertThat(to.command("CLUSTER SETSLOT " + slot + " IMPORTING " + bulk(from, "CLUSTER MYID"))).isEqualTo("+OK");
		assertThat(from.command("CLUSTER SETSLOT " + slot + " MIGRATING " + bulk(to, "CLUSTER MYID"))).isEqualTo("+OK");
	}

	private static List<String> keysInSlot(RedisServerProcess node, int slot) {
		return node.reply("CLUSTER GETKEYSINSLOT " + slot + " 1000")
			.lines()
			.filter((line) -> !line.startsWith("*") && !line.startsWith("$") && !line.isEmpty())
			.toList();
	}

	private static void moveKeys(RedisServerProcess from, RedisServerProcess to, List<String> keys) {
		if (!keys.isEmpty()) {
			assertThat(from.command("MIGRATE 127.0.0.1 " + to.port() + " \"\" 0 5000 KEYS " + String.join(" ", keys)))
				.isEqualTo("+OK");
		}
	}

	private static void finishMigration(int slot, RedisServerProcess to) {
		String toId = bulk(to, "CLUSTER MYID");
		for (RedisServerProcess node : nodes) {
			assertThat(node.command("CLUSTER SETSLOT " + slot + " NODE " + toId)).isEqualTo("+OK");
		}
	}

	private static String bulk(RedisServerProcess node, String command) {
		return node.reply(command).lines().skip(1).findFirst().orElseThrow();
	}

	private static List<LeaseSpec> holdAcrossSlots(RedisLockRepository repository, String prefix, int count) {
		List<LeaseSpec> leases = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			LeaseSpec lease = LeaseSpec.exclusive(prefix + ":" + i, "holder", UUID.randomUUID().toString(),
					Duration.ofSeconds(30));
			assertThat(repository.tryAcquire(lease)).isPresent();
			leases.add(lease);
		}
		return leases;
	}

}
