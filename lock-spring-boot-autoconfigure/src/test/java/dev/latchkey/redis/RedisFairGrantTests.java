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

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.ReturnType;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.QueueingLockRepository.QueuedGrant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * A release of a key with fair waiters grants the key to the first of them in the same
 * script and tells that waiter's instance: what happens when the message is lost, when
 * the waiter withdraws as it is granted, and when the place was written by a version that
 * did not say how to grant it. Two repositories on a redis-server of this class's own, as
 * two processes would have.
 */
@Timeout(60)
class RedisFairGrantTests {

	private static final Duration TTL = Duration.ofSeconds(30);

	private static final String NAMESPACE = "fair-grant";

	@RegisterExtension
	static final OwnRedisServer redis = new OwnRedisServer();

	private RedisLockRepository holder;

	private RedisLockRepository waiter;

	@BeforeEach
	void startRepositories() {
		this.holder = new RedisLockRepository(redis.connections(), NAMESPACE);
		this.waiter = new RedisLockRepository(redis.connections(), NAMESPACE);
	}

	@AfterEach
	void closeRepositories() {
		this.holder.close();
		this.waiter.close();
	}

	@Test
	void theReleaseItselfGrantsTheFirstFairWaiterWhoGoesOnWithoutARequest() throws Exception {
		String key = "granted";
		LeaseSpec held = fair(key, "holder");
		assertThat(this.holder.tryAcquire(held)).isPresent();
		LeaseSpec queued = fair(key, "waiter");
		CompletableFuture<QueuedGrant> grant = this.waiter.acquireQueued(queued);
		assertThat(grant).isNotDone();
		assertThat(this.holder.release(held)).isTrue();
		// Granted by the release, before the waiter asked anything.
		assertThat(redis.server().reply("HGET {" + NAMESPACE + ":" + key + "}:lock token")).contains(queued.token());
		QueuedGrant granted = grant.get(10, TimeUnit.SECONDS);
		assertThat(granted.fencingToken()).isEqualTo(fence(key));
		assertThat(this.waiter.release(queued)).isTrue();
		assertThat(redis.server().command("EXISTS {" + NAMESPACE + ":" + key + "}:lock")).isEqualTo(":0");
	}

	@Test
	void aGrantWhoseMessageIsLostIsFoundByTheWaitersNextPoll() throws Exception {
		String key = "lost-message";
		LeaseSpec queued = fair(key, "waiter");
		LeaseSpec held = fair(key, "holder");
		assertThat(this.holder.tryAcquire(held)).isPresent();
		CompletableFuture<QueuedGrant> grant = this.waiter.acquireQueued(queued);
		// The holder's release grants the waiter the key, and its message is lost.
		long fencingToken = grantWithoutMessage(key);
		// The waiter's poll, at most a second apart for the first place, finds it.
		assertThat(grant.get(10, TimeUnit.SECONDS).fencingToken()).isEqualTo(fencingToken);
		assertThat(this.waiter.release(queued)).isTrue();
		assertThat(redis.server().command("EXISTS {" + NAMESPACE + ":" + key + "}:lock")).isEqualTo(":0");
	}

	@Test
	void aWaiterThatWithdrawsAfterTheReleaseGrantedItIsAnsweredTheGrantToGiveBack() throws Exception {
		String key = "withdrawn";
		LeaseSpec held = fair(key, "holder");
		assertThat(this.holder.tryAcquire(held)).isPresent();
		LeaseSpec queued = fair(key, "waiter");
		CompletableFuture<QueuedGrant> grant = this.waiter.acquireQueued(queued);
		long fencingToken = grantWithoutMessage(key);
		// Not withdrawn: granted (by this withdrawal's answer, or by the waiter's poll
		// just before it). The grant completes the waiter's future, so that the caller
		// gives the key back rather than leave it held with nobody to release it.
		assertThat(this.waiter.cancelQueued(queued)).isFalse();
		assertThat(grant).isCompleted();
		assertThat(grant.get().fencingToken()).isEqualTo(fencingToken);
		assertThat(this.waiter.release(queued)).isTrue();
		assertThat(redis.server().command("EXISTS {" + NAMESPACE + ":" + key + "}:lock")).isEqualTo(":0");
	}

	@Test
	void aWithdrawalAnsweredAGrantThatNamesAnotherOwnerRecordFailsTheWaiterAsTheGrantsMessageWould() {
		String key = "other-record";
		LeaseSpec held = fair(key, "holder");
		assertThat(this.holder.tryAcquire(held)).isPresent();
		LeaseSpec queued = fair(key, "waiter");
		CompletableFuture<QueuedGrant> grant = this.waiter.acquireQueued(queued);
		// Granted naming a record that is not the waiter repository's (its own expired
		// and was made again, say): the lease cannot be kept through it.
		String stranger = "{" + NAMESPACE + ":" + key + "}:stranger-record";
		assertThat(redis.server().command("SET " + stranger + " x")).isEqualTo("+OK");
		grantWithoutMessage(key, stranger);
		assertThat(this.waiter.cancelQueued(queued)).isFalse();
		assertThat(grant).isCompletedExceptionally();
		assertThatExceptionOfType(ExecutionException.class).isThrownBy(grant::get)
			.havingCause()
			.isInstanceOf(LockBackendException.class)
			.withMessageContaining("the owner record its grant named was gone");
		// The key is held through that record while it lasts.
		assertThat(redis.server().command("DEL " + stranger)).isEqualTo(":1");
		assertThat(this.holder.tryAcquire(fair(key, "next"))).isPresent();
	}

	@Test
	void aPlaceThatDoesNotSayHowToGrantItIsWokenAndItsAttemptTakesTheKey() throws Exception {
		String key = "earlier-version";
		List<String> messages = new CopyOnWriteArrayList<>();
		RedisConnection listener = redis.connections().getConnection();
		try {
			listener.pSubscribe(
					(message, pattern) -> messages.add(new String(message.getBody(), StandardCharsets.UTF_8)),
					(NAMESPACE + ":wake:*").getBytes(StandardCharsets.UTF_8));
			LeaseSpec held = fair(key, "holder");
			assertThat(this.holder.tryAcquire(held)).isPresent();
			LeaseSpec queued = fair(key, "waiter");
			CompletableFuture<QueuedGrant> grant = this.waiter.acquireQueued(queued);
			// What a place written by a version before the release granted looks like.
			String queue = "{" + NAMESPACE + ":" + key + "}:queued";
			String place = redis.server()
				.reply("HKEYS " + queue)
				.lines()
				.filter((line) -> line.startsWith(">"))
				.findFirst()
				.orElseThrow();
			assertThat(redis.server().command("HDEL " + queue + " \"" + place + "\"")).isEqualTo(":1");
			assertThat(this.holder.release(held)).isTrue();
			QueuedGrant granted = grant.get(10, TimeUnit.SECONDS);
			assertThat(granted.fencingToken()).isEqualTo(fence(key));
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !messages.isEmpty());
			assertThat(messages).as("messages on the wake channels").containsExactly("\u0001" + queued.token());
			assertThat(this.waiter.release(queued)).isTrue();
		}
		finally {
			listener.close();
		}
	}

	private static LeaseSpec fair(String key, String owner) {
		return LeaseSpec.exclusive(key, owner, UUID.randomUUID().toString(), TTL).withFair(true);
	}

	private static long fence(String key) {
		String reply = redis.server().reply("HGET {" + NAMESPACE + ":" + key + "}:lock fence");
		return Long.parseLong(reply.lines().skip(1).findFirst().orElseThrow().trim());
	}

	/**
	 * Does what the holder's release does for the first fair waiter of the key (ends the
	 * holder's lease, grants the waiter the key as its place says, at the next fencing
	 * token), except telling the waiter's instance: a message lost with a dropped
	 * subscription.
	 * @return the fencing token of the grant
	 */
	private static long grantWithoutMessage(String key) {
		return grantWithoutMessage(key, "");
	}

	/**
	 * Grants the first fair waiter the key as a release would, without its message,
	 * naming the given owner record (or the one its place names, when empty).
	 */
	private static long grantWithoutMessage(String key, String record) {
		String tag = "{" + NAMESPACE + ":" + key + "}";
		String script = """
				local first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
				local place = cjson.decode(redis.call('HGET', KEYS[2], '>' .. first))
				redis.call('ZREM', KEYS[1], first)
				redis.call('HDEL', KEYS[2], first, '>' .. first)
				local fence = redis.call('INCR', KEYS[4])
				redis.call('DEL', KEYS[3])
				redis.call('HSET', KEYS[3], 'token', string.sub(first, string.find(first, ' ', 1, true) + 1),
					'owner', place[1], 'fence', fence, 'record', (ARGV[1] ~= '' and ARGV[1]) or place[4])
				redis.call('PEXPIRE', KEYS[3], place[5])
				return fence
				""";
		try (RedisConnection connection = redis.connections().getConnection()) {
			Long fence = connection.scriptingCommands()
				.eval(script.getBytes(StandardCharsets.UTF_8), ReturnType.INTEGER, 4,
						(tag + ":queue").getBytes(StandardCharsets.UTF_8),
						(tag + ":queued").getBytes(StandardCharsets.UTF_8),
						(tag + ":lock").getBytes(StandardCharsets.UTF_8),
						(tag + ":fence").getBytes(StandardCharsets.UTF_8), record.getBytes(StandardCharsets.UTF_8));
			return fence;
		}
	}

}
