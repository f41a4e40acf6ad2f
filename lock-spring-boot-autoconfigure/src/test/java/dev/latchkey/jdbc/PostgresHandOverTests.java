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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.jdbc.core.JdbcTemplate;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockContext;
import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.ForwardingLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PostgreSQL's hand-over: the release of a key that another caller of the same instance
 * waits for gives it that caller in one statement, while no other instance waits.
 */
@Timeout(120)
class PostgresHandOverTests {

	private static final Duration TTL = Duration.ofSeconds(30);

	@RegisterExtension
	static final LockTable table = LockTable.postgres(32);

	@Test
	void theCallersOfOneInstanceAreHandedTheKeyOneAtATimeWithRisingFencingTokensInOneStatementEach() throws Exception {
		AtomicLong connections = new AtomicLong();
		try (JdbcLockRepository repository = new JdbcLockRepository(new CountingDataSource(table, connections),
				table.name()); LockTemplate template = new LockTemplate(repository, settings().withOwner("one"))) {
			template.exclusive("warm-up").run(() -> {
			});
			long before = connections.get();
			Grants grants = take(List.of(template), 8, "handed-" + UUID.randomUUID(), 3_000);
			// Each hand-off is the holder's hand-over, and nothing else: the first few
			// callers' attempts and the last release add a handful. Released and taken
			// with a statement each, it was 2.05 statements a hand-off.
			long statements = connections.get() - before - 1;
			assertThat(statements).as("statements for %d grants", grants.count())
				.isLessThanOrEqualTo(grants.count() * 11L / 10);
			grants.assertOneHolderAtATimeWithRisingTokens();
			assertThat(template.lostLeaseCount()).isZero();
		}
	}

	@Test
	void anInstanceHandsAKeyRoundItsOwnCallersOnlyWhileNoOtherInstanceWaits() throws Exception {
		String key = "shared-round-" + UUID.randomUUID();
		try (JdbcLockRepository busy = new JdbcLockRepository(table.dataSource(), table.name());
				JdbcLockRepository lone = new JdbcLockRepository(table.dataSource(), table.name());
				LockTemplate busyTemplate = new LockTemplate(busy, settings().withOwner("busy"));
				LockTemplate loneTemplate = new LockTemplate(lone, settings().withOwner("lone"))) {
			// Four callers of one instance could hand the key round among themselves
			// for ever; the lone caller of the other is in the key's wake line whenever
			// it waits, so each release it waits for is a release that wakes it.
			Grants grants = take(List.of(busyTemplate, loneTemplate), List.of(4, 1), key, 1_200);
			int loneGrants = grants.perInstance(1);
			assertThat(loneGrants).as("grants of the lone caller of the other instance, of %d", grants.count())
				.isGreaterThanOrEqualTo(grants.count() / 5);
			grants.assertOneHolderAtATimeWithRisingTokens();
			assertThat(busyTemplate.lostLeaseCount() + loneTemplate.lostLeaseCount()).isZero();
			assertThat(wakeRows(key)).isZero();
		}
	}

	@Test
	void aHandOverIsMadeOnlyForALeaseStillHeldAndWhileNoOtherInstanceIsInTheWakeLine() {
		String key = "hand-over-" + UUID.randomUUID();
		try (JdbcLockRepository repository = new JdbcLockRepository(table.dataSource(), table.name());
				JdbcLockRepository other = new JdbcLockRepository(table.dataSource(), table.name())) {
			LeaseSpec held = lease(key, "holder");
			LeaseSpec waiter = lease(key, "holder");
			long token = repository.tryAcquire(held).getAsLong();
			// The waiter was refused: its writer wait and its instance's place.
			assertThat(repository.tryAcquireWaiting(waiter)).isEmpty();
			assertThat(wakeRows(key)).isOne();
			assertThat(writerWaits(key)).isOne();
			assertThat(repository.handsOver(held)).as("only this instance waits").isTrue();
			OptionalLong handed = repository.handOver(held, waiter);
			assertThat(handed).isPresent();
			assertThat(handed.getAsLong()).isGreaterThan(token);
			// Withdrawn with the grant, as its own attempt's grant would have.
			assertThat(wakeRows(key)).isZero();
			assertThat(writerWaits(key)).isZero();
			assertThat(repository.inspect(key)).hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
				.satisfies((holder) -> assertThat(holder.fencingToken()).isEqualTo(handed.getAsLong())));
			// The lease handed away is not held any more: neither released nor handed
			// over again.
			assertThat(repository.release(held)).isFalse();
			assertThat(repository.handOver(held, lease(key, "holder"))).isEmpty();
			// Another instance's waiter joins the line: the next hand-over is refused,
			// and
			// the lease is still held.
			LeaseSpec otherWaiter = lease(key, "other");
			assertThat(other.tryAcquireWaiting(otherWaiter)).isEmpty();
			LeaseSpec next = lease(key, "holder");
			assertThat(repository.handOver(waiter, next)).isEmpty();
			assertThat(repository.handsOver(waiter)).as("once refused, until a grant finds nobody else waiting")
				.isFalse();
			assertThat(repository.inspect(key)).hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
				.satisfies((holder) -> assertThat(holder.fencingToken()).isEqualTo(handed.getAsLong())));
			// Released, the other instance, first in line, takes it; this one waits
			// behind.
			assertThat(repository.release(waiter, next)).isTrue();
			assertThat(other.tryAcquireWaiting(otherWaiter)).isPresent();
			assertThat(other.release(otherWaiter)).isTrue();
			// Granted with nobody else in the line, this instance hands over again.
			assertThat(repository.tryAcquireWaiting(next)).isPresent();
			assertThat(repository.handsOver(next)).isTrue();
			assertThat(repository.release(next)).isTrue();
			assertThat(wakeRows(key)).isZero();
			assertThat(writerWaits(key)).isZero();
		}
	}

	@Test
	void aWaiterThatGivesUpAsTheKeyIsHandedToItLeavesTheKeyFree() throws Exception {
		String key = "given-up-" + UUID.randomUUID();
		CountDownLatch handOverSent = new CountDownLatch(1);
		AtomicInteger handOvers = new AtomicInteger();
		try (JdbcLockRepository repository = new JdbcLockRepository(table.dataSource(), table.name());
				JdbcLockRepository other = new JdbcLockRepository(table.dataSource(), table.name())) {
			// A slow link: the hand-over's answer takes longer than the waiter waits.
			ForwardingLockRepository slow = new ForwardingLockRepository(repository) {

				@Override
				public OptionalLong handOver(LeaseSpec lease, LeaseSpec waiter) {
					handOvers.incrementAndGet();
					handOverSent.countDown();
					OptionalLong handed = super.handOver(lease, waiter);
					sleep(Duration.ofMillis(1500));
					return handed;
				}

			};
			try (LockTemplate template = new LockTemplate(slow, settings().withOwner("slow"))) {
				CompletableFuture<Void> holder = holdUntilAWaiterWaits(template, key);
				CompletableFuture<Void> waiter = CompletableFuture
					.runAsync(() -> template.exclusive(key).waitTime(Duration.ofSeconds(1)).run(() -> {
					}));
				assertThat(handOverSent.await(10, TimeUnit.SECONDS)).isTrue();
				assertThat(waiter).failsWithin(Duration.ofSeconds(10))
					.withThrowableThat()
					.havingRootCause()
					.isInstanceOf(LockNotAcquiredException.class);
				holder.get(10, TimeUnit.SECONDS);
				assertThat(handOvers).hasValue(1);
				// The grant it was handed went back as the holder's release ended.
				assertThat(repository.inspect(key)).isEmpty();
				assertThat(other.tryAcquire(lease(key, "other"))).isPresent();
				assertThat(template.lostLeaseCount()).isZero();
			}
		}
	}

	@Test
	void aWaiterInterruptedAsTheKeyIsHandedToItGivesItBack() throws Exception {
		String key = "interrupted-" + UUID.randomUUID();
		CountDownLatch handOverSent = new CountDownLatch(1);
		try (JdbcLockRepository repository = new JdbcLockRepository(table.dataSource(), table.name());
				JdbcLockRepository other = new JdbcLockRepository(table.dataSource(), table.name())) {
			ForwardingLockRepository slow = new ForwardingLockRepository(repository) {

				@Override
				public OptionalLong handOver(LeaseSpec lease, LeaseSpec waiter) {
					handOverSent.countDown();
					sleep(Duration.ofMillis(500));
					return super.handOver(lease, waiter);
				}

			};
			try (LockTemplate template = new LockTemplate(slow, settings().withOwner("slow"))) {
				CompletableFuture<Void> holder = holdUntilAWaiterWaits(template, key);
				AtomicBoolean ran = new AtomicBoolean();
				AtomicReference<Throwable> failure = new AtomicReference<>();
				Thread waiter = new Thread(() -> {
					try {
						template.exclusive(key).waitTime(Duration.ofSeconds(30)).run(() -> ran.set(true));
					}
					catch (RuntimeException ex) {
						failure.set(ex);
					}
				});
				waiter.start();
				assertThat(handOverSent.await(10, TimeUnit.SECONDS)).isTrue();
				// Set aside for the hand-over, it is interrupted.
				waiter.interrupt();
				waiter.join(10_000);
				holder.get(10, TimeUnit.SECONDS);
				assertThat(ran).isFalse();
				assertThat(failure.get()).isInstanceOf(LockNotAcquiredException.class);
				Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> repository.inspect(key).isEmpty());
				assertThat(other.tryAcquire(lease(key, "other"))).isPresent();
			}
		}
	}

	@Test
	void aHandOverMadeWhoseAnswerIsLostGivesTheKeyBackAtOnceNotAfterItsTtl() throws Exception {
		assertWaiterServedAfterALostAnswer(true);
	}

	@Test
	void aHandOverNotMadeWhoseAnswerIsLostIsFollowedByTheRelease() throws Exception {
		assertWaiterServedAfterALostAnswer(false);
	}

	/**
	 * A dropped connection: the hand-over fails with no answer, made at the database or
	 * not. The waiter must have the key within seconds, not once the TTL (30 s) and its
	 * next poll (10 to 20 s) have passed.
	 */
	private static void assertWaiterServedAfterALostAnswer(boolean madeAtDatabase) throws Exception {
		String key = "answer-lost-" + UUID.randomUUID();
		AtomicInteger failed = new AtomicInteger();
		try (JdbcLockRepository repository = new JdbcLockRepository(table.dataSource(), table.name())) {
			ForwardingLockRepository dropped = new ForwardingLockRepository(repository) {

				@Override
				public OptionalLong handOver(LeaseSpec lease, LeaseSpec waiter) {
					if (madeAtDatabase) {
						assertThat(super.handOver(lease, waiter)).isPresent();
					}
					failed.incrementAndGet();
					throw new LockBackendException(backend(), lease.key(), "I/O error: the connection was reset", null);
				}

			};
			try (LockTemplate template = new LockTemplate(dropped, settings().withOwner("dropped"))) {
				CompletableFuture<Void> holder = holdUntilAWaiterWaits(template, key);
				AtomicLong granted = new AtomicLong();
				CompletableFuture<Void> waiter = CompletableFuture
					.runAsync(() -> template.exclusive(key).run(() -> granted.set(LockContext.fencingToken())));
				holder.get(10, TimeUnit.SECONDS);
				long released = System.nanoTime();
				waiter.get(30, TimeUnit.SECONDS);
				assertThat(Duration.ofNanos(System.nanoTime() - released)).isLessThan(Duration.ofSeconds(5));
				assertThat(failed).hasValue(1);
				assertThat(granted.get()).isPositive();
				assertThat(template.lostLeaseCount()).isZero();
				assertThat(repository.inspect(key)).isEmpty();
			}
		}
	}

	/**
	 * Takes the key, and holds it until a caller waits for it in the template's line.
	 * @return the holder's run, done once it has released the key
	 */
	private static CompletableFuture<Void> holdUntilAWaiterWaits(LockTemplate template, String key)
			throws InterruptedException {
		CountDownLatch holding = new CountDownLatch(1);
		CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> template.exclusive(key).run(() -> {
			holding.countDown();
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> template.waiterCount(key) == 1);
			// Counted as it joins: in the line soon after.
			sleep(Duration.ofMillis(200));
		}));
		assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
		return holder;
	}

	private static void sleep(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static LockSettings settings() {
		// Polls far apart: every wake-up in these tests comes from a release or a
		// hand-over.
		return LockSettings.defaults()
			.withTtl(TTL)
			.withWaitTime(Duration.ofSeconds(60))
			.withPollIntervals(Duration.ofSeconds(20), Duration.ofSeconds(20));
	}

	private static LeaseSpec lease(String key, String owner) {
		return LeaseSpec.exclusive(key, owner, UUID.randomUUID().toString(), TTL);
	}

	private static Grants take(List<LockTemplate> templates, int threadsPerInstance, String key, int grants)
			throws Exception {
		return take(templates, templates.stream().map((template) -> threadsPerInstance).toList(), key, grants);
	}

	/**
	 * Runs the given threads of each instance's template, each taking the key in turn and
	 * checking that nobody else is inside, until so many grants were made.
	 */
	private static Grants take(List<LockTemplate> templates, List<Integer> threadsPerInstance, String key, int grants)
			throws Exception {
		Grants made = new Grants(grants + threadsPerInstance.stream().mapToInt(Integer::intValue).sum(),
				templates.size());
		List<CompletableFuture<Void>> threads = new ArrayList<>();
		for (int i = 0; i < templates.size(); i++) {
			LockTemplate template = templates.get(i);
			int instance = i;
			for (int t = 0; t < threadsPerInstance.get(i); t++) {
				threads.add(CompletableFuture.runAsync(() -> {
					while (made.count() < grants) {
						template.exclusive(key).run(() -> made.grant(instance));
					}
				}, (task) -> new Thread(task).start()));
			}
		}
		CompletableFuture.allOf(threads.toArray(CompletableFuture[]::new)).get(100, TimeUnit.SECONDS);
		return made;
	}

	/**
	 * The grants of one key: whether a holder ever found another inside, the fencing
	 * tokens in the order of the grants, and the grants of each instance.
	 */
	private static final class Grants {

		private final AtomicBoolean occupied = new AtomicBoolean();

		private final AtomicInteger overlaps = new AtomicInteger();

		private final AtomicInteger order = new AtomicInteger();

		private final long[] tokens;

		private final AtomicInteger[] perInstance;

		private int unguarded;

		Grants(int capacity, int instances) {
			this.tokens = new long[capacity];
			this.perInstance = new AtomicInteger[instances];
			for (int i = 0; i < instances; i++) {
				this.perInstance[i] = new AtomicInteger();
			}
		}

		void grant(int instance) {
			if (!this.occupied.compareAndSet(false, true)) {
				this.overlaps.incrementAndGet();
			}
			int read = this.unguarded;
			Thread.yield();
			this.unguarded = read + 1;
			this.tokens[this.order.getAndIncrement()] = LockContext.fencingToken();
			this.perInstance[instance].incrementAndGet();
			this.occupied.set(false);
		}

		int count() {
			return this.order.get();
		}

		int perInstance(int instance) {
			return this.perInstance[instance].get();
		}

		void assertOneHolderAtATimeWithRisingTokens() {
			int granted = count();
			int inversions = 0;
			long highest = 0;
			for (int i = 0; i < granted; i++) {
				if (this.tokens[i] <= highest) {
					inversions++;
				}
				highest = Math.max(highest, this.tokens[i]);
			}
			assertThat(this.overlaps).as("grants made while another holder was inside, of %d", granted).hasValue(0);
			assertThat(inversions).as("grants whose fencing token was not above every earlier one's, of %d", granted)
				.isZero();
			assertThat(this.unguarded).as("unguarded increments that survived, of %d grants", granted)
				.isEqualTo(granted);
		}

	}

	private static long wakeRows(String key) {
		return jdbc().queryForObject("SELECT COUNT(*) FROM " + table.name() + " WHERE LOCK_KEY = ? AND PERMITS = "
				+ PostgresLockDialect.WAKE_LINE, Long.class, key);
	}

	private static long writerWaits(String key) {
		return jdbc().queryForObject("SELECT COUNT(*) FROM " + table.name() + " WHERE LOCK_KEY = ? AND PERMITS = "
				+ JdbcLockDialect.WRITER_WAIT, Long.class, key);
	}

	private static JdbcTemplate jdbc() {
		return new JdbcTemplate(table.dataSource());
	}

}
