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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The arbiter's lock table by the tick, without sockets: grants, queues, limits, expiry,
 * fencing and the grace period of a new arbiter.
 */
class LockTableTests {

	private static final long TTL = 100;

	private final AtomicLong fencing = new AtomicLong();

	private final List<Long> promised = new ArrayList<>();

	private final LockTable<String> table = new LockTable<>(this.fencing::incrementAndGet, this.promised::add);

	private LockTable.Effects<String> effects = new LockTable.Effects<>();

	@Test
	void releasedKeyGoesToTheFirstWaiterAndWakesWatchers() {
		assertThat(acquire("a", "k", "t1", 0, true, 0).kind()).isEqualTo(LockTable.Outcome.Kind.GRANTED);
		assertThat(acquire("b", "k", "t2", 0, true, 1).kind()).isEqualTo(LockTable.Outcome.Kind.QUEUED);
		assertThat(acquire("c", "k", "t3", 0, true, 2).kind()).isEqualTo(LockTable.Outcome.Kind.QUEUED);
		assertThat(this.table.release("a", "k", "t1", 3, this.effects)).isTrue();
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> {
			assertThat(grant.client()).isEqualTo("b");
			assertThat(grant.fencingToken()).isEqualTo(2);
			assertThat(grant.expiresAtNanos()).isEqualTo(3 + TTL);
		});
		assertThat(this.effects.released).containsExactly("k");
	}

	@Test
	void aKeyWithWaitersIsNotFreeForASingleAttempt() {
		acquire("a", "k", "t1", 0, false, 0);
		acquire("b", "k", "t2", 0, true, 1);
		this.table.release("a", "k", "t1", 2, this.effects);
		assertThat(acquire("c", "k", "t3", 0, false, 3).kind()).isEqualTo(LockTable.Outcome.Kind.HELD);
	}

	@Test
	void anExpiredHolderMakesRoomForTheQueueAndIsNoLongerRenewed() {
		acquire("a", "k", "t1", 0, false, 0);
		acquire("b", "k", "t2", 0, true, 10);
		this.table.expire(TTL - 1, this.effects);
		assertThat(this.effects.grants).isEmpty();
		this.table.expire(TTL, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.token()).isEqualTo("t2"));
		assertThat(this.table.renew("a", List.of(new Protocol.Renewal("k", "t1", TTL)), TTL + 1)).containsExactly("t1");
	}

	@Test
	void theSweepExpiresAHolderAtItsExpiryAndNotBefore() {
		acquire("a", "k", "t1", 0, false, 0);
		acquire("b", "k", "t2", 0, true, 10);
		this.table.sweep(TTL - 1, this.effects);
		assertThat(this.effects.grants).isEmpty();
		this.table.sweep(TTL, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.token()).isEqualTo("t2"));
	}

	@Test
	void theSweepExpiresAHolderRenewedForLessThanBeforeAtItsNewExpiry() {
		acquire("a", "k", "t1", 0, false, 0);
		acquire("b", "k", "t2", 0, true, 1);
		// A full pass learns that nothing expires before TTL.
		this.table.expire(2, this.effects);
		assertThat(this.effects.grants).isEmpty();
		// A maximum hold's last renewal asks for less.
		assertThat(this.table.renew("a", List.of(new Protocol.Renewal("k", "t1", 10)), 5)).isEmpty();
		this.table.sweep(14, this.effects);
		assertThat(this.effects.grants).isEmpty();
		this.table.sweep(15, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.token()).isEqualTo("t2"));
	}

	@Test
	void aKeyHasOneModeAtATime() {
		acquire("a", "k", "t1", 0, false, 0);
		assertThat(acquire("b", "k", "t2", 3, false, 1).kind()).isEqualTo(LockTable.Outcome.Kind.HELD);
		acquire("c", "s", "t3", 3, false, 2);
		assertThat(acquire("d", "s", "t4", 0, false, 3).kind()).isEqualTo(LockTable.Outcome.Kind.HELD);
		assertThat(acquire("e", "s", "t5", 3, false, 4).kind()).isEqualTo(LockTable.Outcome.Kind.GRANTED);
	}

	@Test
	void sharedHoldersHoldTogetherAndAQueuedWriterGoesBeforeLaterReaders() {
		int shared = LockTable.SHARED;
		assertThat(acquire("a", "k", "r1", shared, false, 0).kind()).isEqualTo(LockTable.Outcome.Kind.GRANTED);
		assertThat(acquire("b", "k", "r2", shared, false, 1).kind()).isEqualTo(LockTable.Outcome.Kind.GRANTED);
		assertThat(acquire("c", "k", "w1", LockTable.EXCLUSIVE, true, 2).kind())
			.isEqualTo(LockTable.Outcome.Kind.QUEUED);
		// Compatible with the holders, but behind the writer.
		assertThat(acquire("d", "k", "r3", shared, false, 3).kind()).isEqualTo(LockTable.Outcome.Kind.HELD);
		assertThat(acquire("d", "k", "r4", shared, true, 4).kind()).isEqualTo(LockTable.Outcome.Kind.QUEUED);
		assertThat(acquire("e", "k", "r5", shared, true, 5).kind()).isEqualTo(LockTable.Outcome.Kind.QUEUED);
		assertThat(this.table.inspect("k", 6)).hasValueSatisfying((lock) -> {
			assertThat(lock.exclusive()).isFalse();
			assertThat(lock.permits()).isEqualTo(LockTable.SHARED);
			assertThat(lock.holders()).hasSize(2);
		});
		this.table.release("a", "k", "r1", 6, this.effects);
		assertThat(this.effects.grants).isEmpty();
		this.table.release("b", "k", "r2", 7, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.token()).isEqualTo("w1"));
		this.effects = new LockTable.Effects<>();
		this.table.release("c", "k", "w1", 8, this.effects);
		// The readers queued behind the writer are granted together, with rising tokens.
		assertThat(this.effects.grants).extracting(LockTable.Grant::token).containsExactly("r4", "r5");
		assertThat(this.effects.grants.get(1).fencingToken()).isGreaterThan(this.effects.grants.get(0).fencingToken());
		// A semaphore is not shared with readers.
		assertThat(acquire("f", "k", "p1", 2, false, 9).kind()).isEqualTo(LockTable.Outcome.Kind.HELD);
	}

	@Test
	void aSemaphoreKeepsTheLimitOfItsFirstHolderWhileHeld() {
		acquire("a", "s", "t1", 2, false, 0);
		LockTable.Outcome other = acquire("b", "s", "t2", 5, true, 1);
		assertThat(other.kind()).isEqualTo(LockTable.Outcome.Kind.LIMIT_CONFLICT);
		assertThat(other.heldLimit()).isEqualTo(2);
		this.table.release("a", "s", "t1", 2, this.effects);
		assertThat(acquire("b", "s", "t2", 5, false, 3).kind()).isEqualTo(LockTable.Outcome.Kind.GRANTED);
	}

	@Test
	void fencingTokensRiseAcrossGrantsAndForcedReleases() {
		long first = acquire("a", "k", "t1", 0, false, 0).fencingToken();
		assertThat(this.table.forceRelease("k", 1, this.effects)).isTrue();
		long second = acquire("b", "k", "t2", 0, false, 2).fencingToken();
		assertThat(second).isGreaterThan(first + 1);
	}

	@Test
	void everyPromisedExpiryIsAnnouncedBeforeItIsGiven() {
		acquire("a", "k", "t1", 0, false, 5);
		this.table.renew("a", List.of(new Protocol.Renewal("k", "t1", 3 * TTL)), 50);
		assertThat(this.promised).contains(5 + TTL, 50 + 3 * TTL);
	}

	@Test
	void aDisconnectedClientsLeasesAndWaitsAreFreedAtOnce() {
		acquire("a", "k", "t1", 0, false, 0);
		acquire("a", "q", "t2", 0, false, 0);
		acquire("b", "q", "t3", 0, true, 1);
		acquire("a", "k", "t4", 0, true, 1);
		this.table.disconnect("a", 2, this.effects);
		assertThat(this.effects.released).containsExactlyInAnyOrder("k", "q");
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.client()).isEqualTo("b"));
		assertThat(this.table.inspect("k", 3)).isEmpty();
	}

	@Test
	void duringAGracePeriodOnlyReassertionsAreAcceptedAndQueuesWait() {
		this.table.setGranting(false, 0, this.effects);
		assertThat(this.table.reassert("a", new Protocol.Claim("k", "t1", 0, "a", 7, 50), 1)).isTrue();
		// A claim that conflicts with one already taken back, or that has expired, is
		// refused.
		assertThat(this.table.reassert("b", new Protocol.Claim("k", "t2", 0, "b", 6, 60), 1)).isFalse();
		assertThat(this.table.reassert("b", new Protocol.Claim("x", "t3", 0, "b", 5, 1), 1)).isFalse();
		assertThat(acquire("c", "free", "t4", 0, true, 2).kind()).isEqualTo(LockTable.Outcome.Kind.QUEUED);
		assertThat(this.table.inspect("k", 3))
			.hasValueSatisfying((lock) -> assertThat(lock.holders()).singleElement().satisfies((holder) -> {
				assertThat(holder.fencingToken()).isEqualTo(7);
				assertThat(holder.remainingNanos()).isEqualTo(47);
			}));
		this.table.setGranting(true, 4, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.key()).isEqualTo("free"));
		// The re-asserted holder keeps its expiry: the key goes to the next waiter when
		// it runs out.
		acquire("d", "k", "t5", 0, true, 5);
		this.effects = new LockTable.Effects<>();
		this.table.expire(50, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.client()).isEqualTo("d"));
	}

	@Test
	void aClientWhoseConnectionTheArbiterClosedKeepsItsLeasesAndTakesThemBackOnANewOne() {
		long token = acquire("old-connection", "k", "t1", 0, false, 0).fencingToken();
		acquire("other", "q", "t0", 0, false, 0);
		acquire("old-connection", "q", "t2", 0, true, 0);
		this.table.orphan("old-connection", 1, this.effects);
		// What it waited for is withdrawn: the key goes to nobody when its holder leaves.
		this.table.release("other", "q", "t0", 1, this.effects);
		assertThat(this.effects.grants).isEmpty();
		assertThat(acquire("other", "k", "t3", 0, false, 2).kind()).isEqualTo(LockTable.Outcome.Kind.HELD);
		// Only with the token and its fencing token, and only while the lease runs.
		assertThat(this.table.reassert("thief", new Protocol.Claim("k", "t1", 0, "x", token + 1, TTL), 3)).isFalse();
		assertThat(this.table.reassert("new-connection", new Protocol.Claim("k", "t1", 0, "x", token, TTL), 3))
			.isTrue();
		assertThat(this.table.release("new-connection", "k", "t1", 4, this.effects)).isTrue();
		assertThat(this.table.reassert("late", new Protocol.Claim("q", "t2", 0, "x", 2, TTL), 5)).isFalse();
	}

	@Test
	void listingIsPagedInKeyOrder() {
		for (int i = 0; i < 100; i++) {
			acquire("a", "key-%03d".formatted(i), "t" + i, 0, false, 0);
		}
		List<String> keys = new ArrayList<>();
		String after = "";
		int pages = 0;
		while (true) {
			Protocol.Page page = this.table.list(after, 500, 1);
			pages++;
			page.locks().forEach((lock) -> keys.add(lock.key()));
			if (!page.more()) {
				break;
			}
			after = page.locks().get(page.locks().size() - 1).key();
		}
		assertThat(pages).isGreaterThan(1);
		assertThat(keys).hasSize(100).isSorted();
	}

	@Test
	void listingOfMoreKeysThanOnePassChoosesPagesInKeyOrderPastKeysWithOnlyWaiters() {
		// Held keys, in an order the table's hash map does not keep.
		List<String> held = new ArrayList<>();
		for (int i = 0; i < 9_000; i++) {
			String key = "b-%05d".formatted((i * 7_919) % 9_000);
			acquire("a", key, "t" + i, 0, false, 0);
			held.add(key);
		}
		// Keys with waiters only (a new arbiter's grace period), before and among them.
		this.table.setGranting(false, 1, this.effects);
		for (int i = 0; i < 5_000; i++) {
			acquire("b", "a-%05d".formatted(i), "w" + i, 0, true, 1);
			acquire("b", "b-%05d-w".formatted(i), "v" + i, 0, true, 1);
		}
		List<String> keys = new ArrayList<>();
		String after = "";
		while (true) {
			Protocol.Page page = this.table.list(after, 40_000, 2);
			assertThat(page.locks()).isNotEmpty();
			page.locks().forEach((lock) -> keys.add(lock.key()));
			if (!page.more()) {
				break;
			}
			after = page.locks().get(page.locks().size() - 1).key();
		}
		held.sort(null);
		assertThat(keys).containsExactlyElementsOf(held);
	}

	@Test
	void aLeaseThatNamesARecordIsHeldWhileTheRecordIsRenewedAndExpiresWithIt() {
		assertThat(this.table.createRecord("r", TTL, 0)).isTrue();
		assertThat(this.table.createRecord("r", TTL, 0)).isFalse();
		assertThat(acquireNaming("r", "a", "k", "t1", false, 0).kind()).isEqualTo(LockTable.Outcome.Kind.GRANTED);
		acquire("b", "k", "t2", 0, true, 1);
		// Renewing the record alone keeps the lease past its own expiry, pass after pass.
		for (long now = 50; now < 400; now += 50) {
			assertThat(this.table.renewRecord("r", TTL, now)).isEmpty();
			this.table.sweep(now + 1, this.effects);
			this.table.expire(now + 2, this.effects);
		}
		assertThat(this.effects.grants).isEmpty();
		assertThat(this.table.inspect("k", 360)).hasValueSatisfying((lock) -> assertThat(lock.holders()).singleElement()
			.satisfies((holder) -> assertThat(holder.remainingNanos()).isEqualTo(350 + TTL - 360)));
		// Not renewed: the lease goes with the record, and the record never comes back.
		this.table.sweep(350 + TTL, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.token()).isEqualTo("t2"));
		assertThat(this.table.renewRecord("r", TTL, 350 + TTL + 1)).isNull();
		assertThat(this.table.records()).isZero();
		assertThat(acquireNaming("r", "a", "other", "t3", false, 500).kind())
			.isEqualTo(LockTable.Outcome.Kind.RECORD_GONE);
		assertThat(this.table.inspect("other", 500)).isEmpty();
	}

	@Test
	void aRecordThatExpiredIsNeitherRenewedNorNamedEvenBeforeASweepForgetsIt() {
		this.table.createRecord("r", TTL, 0);
		acquireNaming("r", "a", "k", "t1", false, 0);
		assertThat(acquireNaming("r", "a", "q", "t2", false, TTL).kind()).isEqualTo(LockTable.Outcome.Kind.RECORD_GONE);
		assertThat(this.table.renewRecord("r", TTL, TTL)).isNull();
		assertThat(acquire("b", "k", "t3", 0, false, TTL).kind()).isEqualTo(LockTable.Outcome.Kind.GRANTED);
		assertThat(acquireNaming("unknown", "a", "q", "t4", true, TTL).kind())
			.isEqualTo(LockTable.Outcome.Kind.RECORD_GONE);
	}

	@Test
	void aForceReleaseIsToldToTheRecordsNextRenewalOnce() {
		this.table.createRecord("r", TTL, 0);
		acquireNaming("r", "a", "k", "t1", false, 0);
		acquireNaming("r", "a", "q", "t2", false, 0);
		assertThat(this.table.forceRelease("k", 10, this.effects)).isTrue();
		assertThat(this.table.renewRecord("r", TTL, 20)).containsExactly("t1");
		assertThat(this.table.renewRecord("r", TTL, 30)).isEmpty();
		assertThat(this.table.inspect("q", 30 + TTL - 1)).isPresent();
	}

	@Test
	void aLeaseRenewedByItselfLeavesItsRecordAndKeepsItsOwnExpiry() {
		this.table.createRecord("r", TTL, 0);
		acquireNaming("r", "a", "k", "t1", false, 0);
		acquire("b", "k", "t2", 0, true, 1);
		// A maximum hold's last renewal asks for less than the TTL.
		assertThat(this.table.renew("a", List.of(new Protocol.Renewal("k", "t1", 10)), 50)).isEmpty();
		assertThat(this.table.renewRecord("r", TTL, 55)).isEmpty();
		this.table.sweep(59, this.effects);
		assertThat(this.effects.grants).isEmpty();
		this.table.sweep(60, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.token()).isEqualTo("t2"));
	}

	@Test
	void aNewArbiterTakesBackTheRecordsOfTheClaimsThatNameThem() {
		this.table.setGranting(false, 0, this.effects);
		assertThat(this.table.reassert("a", new Protocol.Claim("k", "t1", 0, "a", 7, 50, "", "r"), 1)).isTrue();
		assertThat(this.table.reassert("a", new Protocol.Claim("q", "t2", 0, "a", 8, 80, "", "r"), 2)).isTrue();
		this.table.setGranting(true, 3, this.effects);
		// The record lives until the latest of its claims, keeping both leases.
		assertThat(this.table.inspect("k", 79)).isPresent();
		assertThat(this.table.renewRecord("r", TTL, 79)).isEmpty();
		this.table.expire(79 + TTL - 1, this.effects);
		assertThat(this.table.inspect("k", 79 + TTL - 1)).isPresent();
		assertThat(this.table.inspect("q", 79 + TTL - 1)).isPresent();
		assertThat(acquire("b", "k", "t3", 0, false, 79 + TTL).kind()).isEqualTo(LockTable.Outcome.Kind.GRANTED);
	}

	@Test
	void aClaimWhoseRecordExpiredAtTheNewArbiterKeepsItsOwnExpiryOnly() {
		this.table.setGranting(false, 0, this.effects);
		this.table.reassert("a", new Protocol.Claim("k", "t1", 0, "a", 7, 20, "", "r"), 1);
		// The record expired with the first claim; a later claim must not bring it back.
		assertThat(this.table.reassert("a", new Protocol.Claim("q", "t2", 0, "a", 8, 80, "", "r"), 30)).isTrue();
		assertThat(this.table.renewRecord("r", TTL, 31)).isNull();
		this.table.setGranting(true, 32, this.effects);
		assertThat(this.table.inspect("k", 32)).isEmpty();
		assertThat(this.table.inspect("q", 79)).isPresent();
		assertThat(this.table.inspect("q", 80)).isEmpty();
	}

	@Test
	void aGrantMakesItsRecordLastAsLongAsTheLeaseItGives() {
		this.table.createRecord("r", TTL, 0);
		// Nothing renews the record; a lease granted just before its end keeps it.
		acquireNaming("r", "a", "k", "t1", false, TTL - 1);
		assertThat(this.table.renewRecord("r", TTL, TTL + 10)).isEmpty();
		assertThat(this.table.inspect("k", 2 * TTL)).isPresent();
	}

	@Test
	void aQueuedRequestWhoseRecordExpiredWhileItWaitedIsGrantedWithItsOwnExpiryOnly() {
		acquire("b", "k", "t0", 0, false, 0);
		this.table.createRecord("r", TTL, 0);
		assertThat(acquireNaming("r", "a", "k", "t1", true, 1).kind()).isEqualTo(LockTable.Outcome.Kind.QUEUED);
		this.table.release("b", "k", "t0", 2 * TTL, this.effects);
		assertThat(this.effects.grants).singleElement().satisfies((grant) -> assertThat(grant.token()).isEqualTo("t1"));
		assertThat(this.table.renewRecord("r", TTL, 2 * TTL + 1)).as("gone, never renewed again").isNull();
		// Held by its own expiry, and renewed by itself.
		assertThat(this.table.renew("a", List.of(new Protocol.Renewal("k", "t1", TTL)), 3 * TTL - 1)).isEmpty();
		assertThat(this.table.inspect("k", 4 * TTL - 2)).isPresent();
		assertThat(this.table.inspect("k", 4 * TTL - 1)).isEmpty();
	}

	private LockTable.Outcome acquireNaming(String record, String client, String key, String token, boolean queue,
			long now) {
		return this.table.acquire(client, key, token, 0, TTL, client, null, queue, record, now, this.effects);
	}

	private LockTable.Outcome acquire(String client, String key, String token, int limit, boolean queue, long now) {
		return this.table.acquire(client, key, token, limit, TTL, client, null, queue, now, this.effects);
	}

}
