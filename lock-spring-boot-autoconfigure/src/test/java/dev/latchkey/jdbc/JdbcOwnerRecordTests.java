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
package dev.latchkey.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.core.log.LogAccessor;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.latchkey.Lease;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Owner records, on each database that keeps them: an exclusive lease names its
 * repository's record of its TTL, and is held while the record is renewed, so that
 * renewing every lease of the class is one call; a lease the core stopped renewing, a
 * force-release and an expired record still end exactly the leases they concern, and a
 * renewal and a takeover of an expired record never both win.
 */
@Timeout(120)
abstract class JdbcOwnerRecordTests {

	private static final LogAccessor logger = new LogAccessor(JdbcOwnerRecordTests.class);

	private static final Duration TTL = Duration.ofSeconds(3);

	private static final Duration SHORT_TTL = Duration.ofMillis(800);

	/**
	 * The lock table, registered as an extension by the subclass.
	 * @return the table
	 */
	abstract LockTable table();

	/**
	 * A statement that pushes an owner record's expiry 30 seconds ahead.
	 * @return the statement, whose parameter is the record's name
	 */
	abstract String renewRecordStatement();

	/**
	 * A query that locks an owner record's row, shared, as a grant that reads it does.
	 * @return the query, whose parameter is the record's name
	 */
	abstract String lockRecordSharedStatement();

	/**
	 * A query that counts an owner record's row if it has not expired.
	 * @return the query, whose parameter is the record's name
	 */
	abstract String liveRecordQuery();

	@Test
	void tenThousandHeldLeasesAreRenewedByOneStatementPerInterval() throws Exception {
		AtomicLong connections = new AtomicLong();
		String[] keys = IntStream.range(0, 10_001).mapToObj((i) -> "held-" + UUID.randomUUID()).toArray(String[]::new);
		try (JdbcLockRepository repository = new JdbcLockRepository(new CountingDataSource(table(), connections),
				table().name());
				JdbcLockRepository other = new JdbcLockRepository(table().dataSource(), table().name());
				LockTemplate locks = new LockTemplate(repository, LockSettings.defaults().withTtl(TTL))) {
			// Taken 1,000 keys a lock: MariaDB's transaction of one lock writes its keys
			// one statement each, and all 10,001 in one lock took 1.4 to 1.6 s on a quiet
			// machine, more on a loaded one than the 3 s TTL leaves a lease valid (a CI
			// run lost them all as they were granted).
			List<LockHandle> handles = new ArrayList<>();
			for (int from = 0; from < keys.length; from += 1_000) {
				String[] some = Arrays.copyOfRange(keys, from, Math.min(keys.length, from + 1_000));
				handles.add(locks.exclusive(some[0], Arrays.copyOfRange(some, 1, some.length))
					.waitTime(Duration.ZERO)
					.acquire());
			}
			// Renewed every second (a third of the TTL); counted once every lease was
			// renewed at least once.
			Thread.sleep(1_500);
			long before = connections.get();
			Thread.sleep(3_000);
			long statements = connections.get() - before;
			logger.info(() -> "Statements in 3 s renewing " + keys.length + " leases: " + statements);
			// One statement per renewal, 3 in 3 s (4 when a renewal falls on each end).
			// Renewed row by row, 5,000 per statement, they took 3 per renewal: 9 or
			// more.
			assertThat(statements).isBetween(1L, 5L);
			assertThat(handles.stream().flatMap((handle) -> handle.leases().stream())).hasSize(keys.length)
				.allMatch(Lease::isValid);
			// Past their rows' own expiry, held through their record.
			for (String key : List.of(keys[0], keys[5_000], keys[10_000])) {
				assertThat(other.tryAcquire(lease(key, TTL))).as(key).isEmpty();
			}
			handles.forEach(LockHandle::close);
			assertThat(other.tryAcquire(lease(keys[5_000], TTL))).isPresent();
		}
	}

	@Test
	void aLeaseTheCoreStopsRenewingIsGivenBackWhileTheOthersOfItsRecordStayHeld() {
		try (JdbcLockRepository holder = new JdbcLockRepository(table().dataSource(), table().name());
				JdbcLockRepository other = new JdbcLockRepository(table().dataSource(), table().name())) {
			LeaseSpec kept = lease("kept-" + UUID.randomUUID(), SHORT_TTL);
			LeaseSpec dropped = lease("dropped-" + UUID.randomUUID(), SHORT_TTL);
			assertThat(holder.tryAcquire(kept)).isPresent();
			assertThat(holder.tryAcquire(dropped)).isPresent();
			// Only one of the two is renewed, which renews their record: the other is
			// free once its TTL has passed, given back by the repository's sweep.
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
			while (System.nanoTime() < deadline) {
				assertThat(holder.renew(List.of(kept))).isEmpty();
				sleep(SHORT_TTL.toMillis() / 4);
			}
			assertThat(other.tryAcquire(lease(kept.key(), SHORT_TTL))).isEmpty();
			assertThat(other
				.tryAcquireShared(LeaseSpec.shared(kept.key(), "reader", UUID.randomUUID().toString(), SHORT_TTL)))
				.as("a shared lease of a key held through its record")
				.isEmpty();
			// Listed with the time its record has left, though its own row expired.
			assertThat(other.inspect(kept.key()))
				.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
					.satisfies((listed) -> assertThat(listed.remainingTtl()).isPositive()));
			assertThat(other.tryAcquire(lease(dropped.key(), SHORT_TTL))).isPresent();
			assertThat(holder.renew(List.of(kept, dropped))).containsExactly(dropped.token());
			assertThat(holder.release(kept)).isTrue();
		}
	}

	@Test
	void aLeaseGrantedJustBeforeItsIdleRecordExpiredIsKeptByItsOwnExpiry() throws InterruptedException {
		try (JdbcLockRepository holder = new JdbcLockRepository(table().dataSource(), table().name());
				JdbcLockRepository other = new JdbcLockRepository(table().dataSource(), table().name())) {
			LeaseSpec first = lease("idle-first-" + UUID.randomUUID(), TTL);
			assertThat(holder.tryAcquire(first)).isPresent();
			assertThat(holder.release(first)).isTrue();
			// Nothing renews the record (its instance holds nothing of its TTL), which
			// has
			// 0.8 s left when the next lease names it, as a job that locks every few
			// seconds would.
			sleep(2_200);
			LeaseSpec late = lease("idle-late-" + UUID.randomUUID(), TTL);
			assertThat(holder.tryAcquire(late)).isPresent();
			// Its first renewal comes after the record expired, within its own TTL.
			sleep(1_300);
			assertThat(holder.renew(List.of(late))).as("kept by its own expiry, renewed by itself").isEmpty();
			sleep(2_000);
			assertThat(other.tryAcquire(lease(late.key(), TTL))).as("held past its first own expiry").isEmpty();
			assertThat(holder.renew(List.of(late))).isEmpty();
			assertThat(holder.release(late)).isTrue();
		}
	}

	@Test
	void aForceReleaseOfOneLeaseOfARecordIsReportedAtItsHoldersNextRenewal() {
		try (JdbcLockRepository holder = new JdbcLockRepository(table().dataSource(), table().name());
				JdbcLockRepository operator = new JdbcLockRepository(table().dataSource(), table().name())) {
			LeaseSpec evicted = lease("evicted-" + UUID.randomUUID(), TTL);
			LeaseSpec kept = lease("kept-" + UUID.randomUUID(), TTL);
			assertThat(holder.tryAcquire(evicted)).isPresent();
			assertThat(holder.tryAcquire(kept)).isPresent();
			assertThat(operator.forceRelease(evicted.key())).isTrue();
			LeaseSpec successor = lease(evicted.key(), TTL);
			assertThat(operator.tryAcquire(successor)).isPresent();
			assertThat(holder.renew(List.of(evicted, kept))).containsExactly(evicted.token());
			assertThat(holder.renew(List.of(kept))).isEmpty();
			assertThat(holder.release(evicted)).isFalse();
			assertThat(holder.release(kept)).isTrue();
			assertThat(operator.release(successor)).isTrue();
		}
	}

	@Test
	void aRecordThatExpiredLosesEveryLeaseOfItAndANewOneServesTheNextAcquisition() {
		try (JdbcLockRepository holder = new JdbcLockRepository(table().dataSource(), table().name());
				JdbcLockRepository other = new JdbcLockRepository(table().dataSource(), table().name())) {
			LeaseSpec first = lease("paused-" + UUID.randomUUID(), SHORT_TTL);
			LeaseSpec second = lease("paused-" + UUID.randomUUID(), SHORT_TTL);
			assertThat(holder.tryAcquire(first)).isPresent();
			assertThat(holder.tryAcquire(second)).isPresent();
			// The holder renews nothing for longer than the TTL, as a paused process.
			sleep(SHORT_TTL.toMillis() * 2);
			LeaseSpec taken = lease(first.key(), TTL);
			assertThat(other.tryAcquire(taken)).isPresent();
			assertThat(holder.renew(List.of(first, second))).containsExactlyInAnyOrder(first.token(), second.token());
			// Never brought back: the second key is free although nobody took it.
			assertThat(other.tryAcquire(lease(second.key(), TTL))).isPresent();
			LeaseSpec next = lease("after-" + UUID.randomUUID(), SHORT_TTL);
			assertThat(holder.tryAcquire(next)).isPresent();
			sleep(SHORT_TTL.toMillis() / 2);
			assertThat(holder.renew(List.of(next))).isEmpty();
			sleep(SHORT_TTL.toMillis() / 2);
			assertThat(holder.renew(List.of(next))).isEmpty();
			assertThat(other.tryAcquire(lease(next.key(), TTL))).isEmpty();
			assertThat(holder.release(next)).isTrue();
			assertThat(other.release(taken)).isTrue();
		}
	}

	@Test
	void anAcquisitionThatFindsTheRecordExpiredWaitsForARenewalInFlightAndRespectsIt() throws Exception {
		try (JdbcLockRepository holder = new JdbcLockRepository(table().dataSource(), table().name());
				JdbcLockRepository other = new JdbcLockRepository(table().dataSource(), table().name())) {
			LeaseSpec held = lease("in-flight-" + UUID.randomUUID(), SHORT_TTL);
			assertThat(holder.tryAcquire(held)).isPresent();
			sleep(SHORT_TTL.toMillis() * 2);
			// Committed, the renewal keeps the record, and the lease, alive.
			assertThat(takenDuringARenewalOfItsRecord(other, held.key(), true)).isFalse();
			assertThat(holder.renew(List.of(held))).isEmpty();
			assertThat(holder.release(held)).isTrue();
			// Rolled back, it leaves the record expired: the key is taken.
			LeaseSpec again = lease("in-flight-" + UUID.randomUUID(), SHORT_TTL);
			assertThat(holder.tryAcquire(again)).isPresent();
			sleep(SHORT_TTL.toMillis() * 2);
			assertThat(takenDuringARenewalOfItsRecord(other, again.key(), false)).isTrue();
		}
	}

	/**
	 * Tries to take a key whose lease names an owner record that has expired, while a
	 * renewal of that record, begun before it expired, has not committed: the attempt
	 * must wait for the renewal rather than judge the record by the version before it.
	 * @param commit whether the renewal then commits, or rolls back
	 * @return whether the attempt took the key
	 */
	private boolean takenDuringARenewalOfItsRecord(JdbcLockRepository other, String key, boolean commit)
			throws Exception {
		String record = recordOf(key);
		try (Connection renewal = table().dataSource().getConnection()) {
			renewal.setAutoCommit(false);
			JdbcLockDialect.update(renewal, renewRecordStatement(), record);
			CompletableFuture<Boolean> taken = CompletableFuture
				.supplyAsync(() -> other.tryAcquire(lease(key, TTL)).isPresent());
			sleep(500);
			assertThat(taken).isNotDone();
			if (commit) {
				renewal.commit();
			}
			else {
				renewal.rollback();
			}
			return taken.get(10, TimeUnit.SECONDS);
		}
	}

	@Test
	void aRenewalThatGetsItsRecordOnlyAfterItExpiredFailsRatherThanBringItBack() throws Exception {
		Duration ttl = Duration.ofSeconds(3);
		try (JdbcLockRepository holder = new JdbcLockRepository(table().dataSource(), table().name())) {
			LeaseSpec held = lease("late-renewal-" + UUID.randomUUID(), ttl);
			long granted = System.nanoTime();
			assertThat(holder.tryAcquire(held)).isPresent();
			String record = recordOf(held.key());
			// Renewed late in its TTL, so that a renewal judged by when it was sent would
			// push the record's expiry well past the time it gets the row.
			sleepUntil(granted + TimeUnit.SECONDS.toNanos(2));
			try (Connection reader = table().dataSource().getConnection()) {
				// A grant that read the record (and found it live, or expired) holds this
				// lock until it commits.
				reader.setAutoCommit(false);
				try (PreparedStatement lock = reader.prepareStatement(lockRecordSharedStatement())) {
					lock.setString(1, record);
					lock.executeQuery().close();
				}
				long sent = System.nanoTime();
				CompletableFuture<Set<String>> renewal = CompletableFuture
					.supplyAsync(() -> holder.renew(List.of(held)));
				// Sent before the record expires, it waits for the lock past that.
				assertThat(Duration.ofNanos(sent - granted)).isLessThan(ttl.minusMillis(400));
				sleepUntil(granted + ttl.plusMillis(500).toNanos());
				assertThat(renewal).isNotDone();
				reader.commit();
				assertThat(renewal.get(10, TimeUnit.SECONDS)).containsExactly(held.token());
			}
			// Not brought back (a renewal judged by when it was sent would have renewed
			// it).
			assertThat(new JdbcTemplate(table().dataSource()).queryForObject(liveRecordQuery(), Integer.class, record))
				.as("live rows of the record")
				.isZero();
			// The key is free: nobody renewed it back.
			try (JdbcLockRepository other = new JdbcLockRepository(table().dataSource(), table().name())) {
				assertThat(other.tryAcquire(lease(held.key(), TTL))).isPresent();
			}
		}
	}

	private String recordOf(String key) {
		String record = new JdbcTemplate(table().dataSource()).queryForObject(
				"SELECT RECORD FROM " + table().name() + " WHERE LOCK_KEY = ? AND SLOT = ''", String.class, key);
		assertThat(record).as("the owner record of " + key).isNotNull();
		return record;
	}

	private static LeaseSpec lease(String key, Duration ttl) {
		return LeaseSpec.exclusive(key, "owner-records", UUID.randomUUID().toString(), ttl);
	}

	private static void sleepUntil(long nanoTime) {
		sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(nanoTime - System.nanoTime())));
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
