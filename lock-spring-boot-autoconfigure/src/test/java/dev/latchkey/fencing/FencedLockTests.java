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

package dev.latchkey.fencing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.zaxxer.hikari.HikariDataSource;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.test.ForwardingLockRepository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Fencing with the lock, end to end: a holder whose renewals are blocked (as by a stalled
 * network or a long pause) keeps believing it holds the lock past its TTL; the next
 * holder is granted the key and writes; the first holder's late write is refused by the
 * fence. On PostgreSQL (JDBC backend and {@link JdbcFence}) and on Redis (Redis backend
 * and {@link RedisFence}).
 */
@Timeout(60)
class FencedLockTests {

	private static final Duration TTL = Duration.ofSeconds(1);

	private final List<AutoCloseable> resources = new ArrayList<>();

	private final CountDownLatch unblock = new CountDownLatch(1);

	@AfterEach
	void close() throws Exception {
		this.unblock.countDown();
		for (int i = this.resources.size() - 1; i >= 0; i--) {
			this.resources.get(i).close();
		}
	}

	@Test
	void holderPausedPastItsTtlIsFencedOffAfterTheNextHolderWroteToPostgres() {
		HikariDataSource dataSource = FencingTestSupport.dataSource("postgres", 8);
		this.resources.add(dataSource);
		String locks = FencingTestSupport.newName("LK_LOCKS_");
		String fences = FencingTestSupport.newName("LK_FENCES_");
		String data = FencingTestSupport.newName("LK_DATA_");
		FencingTestSupport.runScript(dataSource, "dev/latchkey/jdbc/schema-postgresql.sql", "LATCHKEY_LOCKS", locks);
		FencingTestSupport.runScript(dataSource, "dev/latchkey/fencing/schema-postgresql.sql",
				JdbcFence.DEFAULT_TABLE_NAME, fences);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		jdbc.execute("CREATE TABLE " + data + " (ID VARCHAR(64) PRIMARY KEY, WRITER VARCHAR(64) NOT NULL)");
		this.resources.add(() -> {
			jdbc.execute("DROP TABLE IF EXISTS " + data);
			jdbc.execute("DROP TABLE IF EXISTS " + fences);
			jdbc.execute("DROP TABLE IF EXISTS " + locks);
			jdbc.execute("DROP SEQUENCE IF EXISTS " + locks + "_FENCING");
		});
		jdbc.update("INSERT INTO " + data + " (ID, WRITER) VALUES ('order:42', 'nobody')");
		JdbcFence fence = new JdbcFence(dataSource, fences);

		Holders holders = holders(new JdbcLockRepository(dataSource, locks), new JdbcLockRepository(dataSource, locks));
		fence.run("order:42", holders.next.fencingToken(),
				() -> jdbc.update("UPDATE " + data + " SET WRITER = 'next' WHERE ID = 'order:42'"));
		assertThatExceptionOfType(FencingTokenRejectedException.class)
			.isThrownBy(() -> fence.run("order:42", holders.paused.fencingToken(),
					() -> jdbc.update("UPDATE " + data + " SET WRITER = 'paused' WHERE ID = 'order:42'")))
			.satisfies((ex) -> assertThat(ex.getCurrentToken()).isEqualTo(holders.next.fencingToken()));
		assertThat(jdbc.queryForObject("SELECT WRITER FROM " + data + " WHERE ID = 'order:42'", String.class))
			.isEqualTo("next");
	}

	@Test
	void holderPausedPastItsTtlIsFencedOffAfterTheNextHolderWroteToRedis() {
		LettuceConnectionFactory connectionFactory = FencingTestSupport.redis();
		this.resources.add(connectionFactory::destroy);
		String namespace = "fenced-lock-" + UUID.randomUUID();
		String key = namespace + ":order:42";
		StringRedisTemplate redis = new StringRedisTemplate(connectionFactory);
		this.resources.add(() -> redis.delete(List.of(key, RedisFence.fenceKey(key))));
		RedisFence fence = new RedisFence(connectionFactory);

		RedisLockRepository first = new RedisLockRepository(connectionFactory, namespace);
		RedisLockRepository second = new RedisLockRepository(connectionFactory, namespace);
		this.resources.add(first);
		this.resources.add(second);
		Holders holders = holders(first, second);
		fence.set(key, "next", holders.next.fencingToken());
		assertThatExceptionOfType(FencingTokenRejectedException.class)
			.isThrownBy(() -> fence.set(key, "paused", holders.paused.fencingToken()));
		assertThat(redis.opsForValue().get(key)).isEqualTo("next");
	}

	/**
	 * The first holder takes the key with renewals that block; the second waits and is
	 * granted it once the first's lease has expired at the backend.
	 */
	private Holders holders(LockRepository pausedRepository, LockRepository nextRepository) {
		LockRepository blockedRenewals = new ForwardingLockRepository(pausedRepository) {

			@Override
			public Set<String> renew(Collection<LeaseSpec> leases) {
				try {
					FencedLockTests.this.unblock.await();
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				return super.renew(leases);
			}

		};
		LockTemplate pausedLocks = template(blockedRenewals, "paused");
		LockTemplate nextLocks = template(nextRepository, "next");
		LockHandle paused = pausedLocks.exclusive("order:42").ttl(TTL).acquire();
		LockHandle next = nextLocks.exclusive("order:42")
			.ttl(Duration.ofSeconds(30))
			.waitTime(Duration.ofSeconds(20))
			.acquire();
		this.resources.add(next);
		assertThat(next.fencingToken()).isGreaterThan(paused.fencingToken());
		return new Holders(paused, next);
	}

	private LockTemplate template(LockRepository repository, String owner) {
		LockTemplate template = new LockTemplate(repository, LockSettings.defaults().withOwner(owner), null);
		this.resources.add(template);
		return template;
	}

	private record Holders(LockHandle paused, LockHandle next) {
	}

}
