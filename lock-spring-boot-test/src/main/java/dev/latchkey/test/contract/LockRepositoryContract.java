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

package dev.latchkey.test.contract;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockContext;
import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockLostException;
import dev.latchkey.LockObserver;
import dev.latchkey.LockPermitsConflictException;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;

import static dev.latchkey.test.contract.Contracts.LONG_TTL;
import static dev.latchkey.test.contract.Contracts.exclusive;
import static dev.latchkey.test.contract.Contracts.semaphore;
import static dev.latchkey.test.contract.Contracts.sleep;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The contract every {@link LockRepository} must pass, the SPI's rules one by one, so
 * that the core above the SPI (waiting, renewal, reentrancy, the lost-lock contract)
 * behaves the same whichever backend holds the locks: acquire and release by token,
 * expiry and renewal, force-release, fencing tokens that strictly rise for every grant of
 * a key, semaphores with a limit fixed by the first holder, one mode per key, inspection
 * and listing, release notifications, and waiting through {@link LockTemplate}.
 * <p>
 * A backend's test class extends it and decides nothing but how to make its repository;
 * the other abilities' contracts ({@link CrossInstanceContract},
 * {@link QueueingLockRepositoryContract}, {@link LossSignalContract}) are interfaces it
 * implements as well:
 *
 * <pre class="code">
 * class ZookeeperLockRepositoryTests extends LockRepositoryContract implements CrossInstanceContract {
 *
 *     &#64;Override
 *     public LockRepository createRepository() {
 *         return new ZookeeperLockRepository(curator);
 *     }
 *
 * }
 * </pre>
 * <p>
 * {@link #createRepository()} is called before each test and
 * {@link #destroyRepository(LockRepository)} (which closes a repository that is
 * {@link AutoCloseable}) after it. Every test uses keys made unique by a random suffix
 * ({@link #key(String)}), so a server shared between runs or builds does not disturb the
 * suite. A backend whose leases cannot expire as quickly as the default
 * {@link #shortTtl()} overrides that method.
 *
 * @since 0.1.0
 */
@Timeout(60)
public abstract class LockRepositoryContract implements LockRepositoryFixture {

	private final List<LockTemplate> templates = new ArrayList<>();

	private final ExecutorService executor = Executors.newCachedThreadPool();

	private final String prefix = "latchkey-contract:" + UUID.randomUUID() + ":";

	private final AtomicInteger attempts = new AtomicInteger();

	private LockRepository repository;

	private LockRepository counting;

	/**
	 * How many grants of one key the test of three instances of readers and a writer
	 * makes, over both modes. The default, 2,500, takes seconds on most setups and about
	 * a minute on PostgreSQL's logged table on a loaded two-core machine; the test allows
	 * ten. A backend that is much slower returns fewer, and says why.
	 * @return the number of grants
	 */
	protected int readWriteGrants() {
		return 2_500;
	}

	/**
	 * How many rounds the test of two keys taken in opposite orders makes, across its two
	 * instances and four threads; each round acquires and releases both keys. The
	 * default, 2,000, takes from one second (memory, socket, H2) to half a minute
	 * (PostgreSQL's logged table) on a loaded two-core machine; the test allows 100
	 * seconds. A backend that is much slower returns fewer, and says why.
	 * @return the number of rounds
	 */
	protected int multiKeyRounds() {
		return 2_000;
	}

	@Override
	public final LockRepository repository() {
		return this.repository;
	}

	@Override
	public final String key(String name) {
		return this.prefix + name;
	}

	@BeforeEach
	void createRepositoryUnderTest() {
		this.repository = createRepository();
		this.counting = countingAttempts(this.repository);
	}

	@AfterEach
	void destroyRepositoryUnderTest() throws InterruptedException {
		this.executor.shutdownNow();
		this.executor.awaitTermination(10, TimeUnit.SECONDS);
		this.templates.forEach(LockTemplate::close);
		destroyRepository(this.repository);
	}

	// Acquire and release

	@Test
	void exclusiveAcquireOfAHeldKeyIsEmptyUntilTheKeyIsReleased() {
		String key = key("exclusive");
		LeaseSpec first = exclusive(key, "owner-a", LONG_TTL);
		LeaseSpec second = exclusive(key, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquire(first)).isPresent();
		assertThat(this.repository.tryAcquire(second)).isEmpty();
		assertThat(this.repository.release(first)).isTrue();
		assertThat(this.repository.tryAcquire(second)).isPresent();
		assertThat(this.repository.inspect(key)).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-b"));
	}

	@Test
	void releaseOfALeaseThatIsNoLongerHeldReturnsFalse() {
		String key = key("released-twice");
		LeaseSpec lease = exclusive(key, "owner-a", LONG_TTL);
		assertThat(this.repository.tryAcquire(lease)).isPresent();
		assertThat(this.repository.release(lease)).isTrue();
		assertThat(this.repository.release(lease)).isFalse();
		assertThat(this.repository.release(exclusive(key("never-held"), "owner-a", LONG_TTL))).isFalse();
	}

	@Test
	void releaseByAnotherOwnersTokenLeavesTheLockAlone() {
		String key = key("foreign-release");
		LeaseSpec holder = exclusive(key, "owner-a", LONG_TTL);
		long fencingToken = this.repository.tryAcquire(holder).getAsLong();
		LeaseSpec intruder = exclusive(key, "owner-b", LONG_TTL);
		assertThat(this.repository.release(intruder)).isFalse();
		// Same owner name, another acquisition: ownership is the token's, not the
		// owner's.
		assertThat(this.repository.release(exclusive(key, "owner-a", LONG_TTL))).isFalse();
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.holders()).hasSize(1);
			assertThat(info.holders().get(0).owner()).isEqualTo("owner-a");
			assertThat(info.holders().get(0).fencingToken()).isEqualTo(fencingToken);
		});
		assertThat(this.repository.tryAcquire(intruder)).isEmpty();
	}

	// Expiry and renewal

	@Test
	void expiredLeaseCanBeTakenByAnotherOwner() {
		String key = key("expiry");
		LeaseSpec expiring = exclusive(key, "owner-a", shortTtl());
		assertThat(this.repository.tryAcquire(expiring)).isPresent();
		LeaseSpec taker = exclusive(key, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquire(taker)).isEmpty();
		awaitExpiry().until(() -> this.repository.tryAcquire(taker).isPresent());
		assertThat(this.repository.inspect(key)).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-b"));
		assertThat(this.repository.release(expiring)).isFalse();
		assertThat(this.repository.inspect(key)).isPresent();
	}

	@Test
	void renewOfATakenLeaseReportsItsTokenLost() {
		String key = key("renew-taken");
		LeaseSpec expiring = exclusive(key, "owner-a", shortTtl());
		assertThat(this.repository.tryAcquire(expiring)).isPresent();
		LeaseSpec taker = exclusive(key, "owner-b", LONG_TTL);
		awaitExpiry().until(() -> this.repository.tryAcquire(taker).isPresent());
		assertThat(this.repository.renew(List.of(expiring))).containsExactly(expiring.token());
		// The failed renewal must not disturb the new holder.
		assertThat(this.repository.renew(List.of(taker))).isEmpty();
		assertThat(this.repository.inspect(key)).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-b"));
	}

	@Test
	void forceReleaseEvictsEveryHolderAndFencesThemOff() {
		String key = key("force-release");
		LeaseSpec holder = exclusive(key, "owner-a", LONG_TTL);
		long evictedToken = this.repository.tryAcquire(holder).getAsLong();
		assertThat(this.repository.forceRelease(key)).isTrue();
		assertThat(this.repository.inspect(key)).isEmpty();
		// The evicted holder learns at its next renewal, and cannot release the next
		// holder's lease.
		assertThat(this.repository.renew(List.of(holder))).containsExactly(holder.token());
		LeaseSpec next = exclusive(key, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquire(next).getAsLong()).isGreaterThan(evictedToken + 1);
		assertThat(this.repository.release(holder)).isFalse();
		assertThat(this.repository.release(next)).isTrue();
		assertThat(this.repository.forceRelease(key)).isFalse();
	}

	@Test
	void forceReleaseFreesEveryPermitOfASemaphore() {
		String key = key("force-release-permits");
		LeaseSpec first = semaphore(key, 2, "owner-a", LONG_TTL);
		LeaseSpec second = semaphore(key, 2, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(first)).isPresent();
		assertThat(this.repository.tryAcquirePermit(second)).isPresent();
		assertThat(this.repository.forceRelease(key)).isTrue();
		assertThat(this.repository.inspect(key)).isEmpty();
		assertThat(this.repository.renew(List.of(first, second))).containsExactlyInAnyOrder(first.token(),
				second.token());
	}

	@Test
	void renewOfAnExpiredLeaseReportsItsTokenLost() {
		String key = key("renew-expired");
		LeaseSpec expiring = exclusive(key, "owner-a", shortTtl());
		assertThat(this.repository.tryAcquire(expiring)).isPresent();
		awaitExpiry().until(() -> this.repository.inspect(key).isEmpty());
		assertThat(this.repository.renew(List.of(expiring))).containsExactly(expiring.token());
		assertThat(this.repository.inspect(key)).isEmpty();
	}

	@Test
	void leaseTakenLateInTheLifeOfItsTtlsLastRenewalIsKeptByItsOwnRenewal() throws InterruptedException {
		// What a backend keeps per holder and TTL (an owner record, an etcd lease) was
		// made with a first lease and not renewed since: the next lease comes in the last
		// third of its life, as a job that locks every few seconds would take it.
		Duration ttl = Duration.ofSeconds(3);
		LeaseSpec first = exclusive(key("ttl-class-first"), "owner-a", ttl);
		assertThat(this.repository.tryAcquire(first)).isPresent();
		assertThat(this.repository.release(first)).isTrue();
		Thread.sleep(2_200);
		String key = key("ttl-class-late");
		LeaseSpec late = exclusive(key, "owner-a", ttl);
		assertThat(this.repository.tryAcquire(late)).isPresent();
		// Renewed within its own TTL, after what was kept for the first lease expired.
		Thread.sleep(1_300);
		assertThat(this.repository.renew(List.of(late))).as("renewed within its TTL").isEmpty();
		LockRepository peer = createPeerRepository();
		try {
			assertThat(peer.tryAcquire(exclusive(key, "owner-b", ttl))).as("held by its first owner").isEmpty();
		}
		finally {
			destroyRepository(peer);
		}
		assertThat(this.repository.release(late)).isTrue();
	}

	@Test
	void renewalForLessThanTheTtlKeepsTheLeaseOnlyThatLong() {
		String key = key("renew-shorter");
		LeaseSpec lease = exclusive(key, "owner-a", LONG_TTL);
		assertThat(this.repository.tryAcquire(lease)).isPresent();
		// A maximum hold's last renewal asks only for what is left of the hold.
		assertThat(this.repository.renew(List.of(lease.withTtl(shortTtl())))).isEmpty();
		LeaseSpec taker = exclusive(key, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquire(taker)).isEmpty();
		awaitExpiry().until(() -> this.repository.tryAcquire(taker).isPresent());
		assertThat(this.repository.renew(List.of(lease))).containsExactly(lease.token());
	}

	@Test
	void renewOfAHeldLeaseKeepsItPastItsOriginalTtl() throws InterruptedException {
		String key = key("renew-held");
		Duration ttl = shortTtl();
		LeaseSpec lease = exclusive(key, "owner-a", ttl);
		assertThat(this.repository.tryAcquire(lease)).isPresent();
		long start = System.nanoTime();
		while (System.nanoTime() - start < ttl.multipliedBy(3).toNanos()) {
			Thread.sleep(ttl.dividedBy(4).toMillis());
			assertThat(this.repository.renew(List.of(lease))).isEmpty();
		}
		assertThat(this.repository.tryAcquire(exclusive(key, "owner-b", LONG_TTL))).isEmpty();
		assertThat(this.repository.inspect(key)).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-a"));
		assertThat(this.repository.release(lease)).isTrue();
	}

	@Test
	void renewOfABatchAnswersExactlyTheLostTokens() {
		LeaseSpec held = exclusive(key("batch-held"), "owner-a", LONG_TTL);
		LeaseSpec otherHeld = exclusive(key("batch-other-held"), "owner-a", LONG_TTL);
		LeaseSpec heldPermit = semaphore(key("batch-semaphore"), 2, "owner-a", LONG_TTL);
		LeaseSpec released = exclusive(key("batch-released"), "owner-a", LONG_TTL);
		LeaseSpec neverHeld = exclusive(key("batch-never-held"), "owner-a", LONG_TTL);
		LeaseSpec foreign = exclusive(held.key(), "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquire(held)).isPresent();
		assertThat(this.repository.tryAcquire(otherHeld)).isPresent();
		assertThat(this.repository.tryAcquirePermit(heldPermit)).isPresent();
		assertThat(this.repository.tryAcquire(released)).isPresent();
		assertThat(this.repository.release(released)).isTrue();
		Set<String> lost = this.repository.renew(List.of(held, released, heldPermit, neverHeld, otherHeld, foreign));
		assertThat(lost).containsExactlyInAnyOrder(released.token(), neverHeld.token(), foreign.token());
		assertThat(this.repository.inspect(held.key())).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-a"));
		assertThat(this.repository.renew(List.of())).isEmpty();
	}

	// Fencing tokens

	@Test
	void fencingTokensStrictlyIncreaseAcrossHoldersOfAKey() {
		String key = key("fencing");
		long previous = 0;
		for (int round = 0; round < 5; round++) {
			LeaseSpec lease = exclusive(key, "owner-" + round, LONG_TTL);
			long fencingToken = this.repository.tryAcquire(lease).getAsLong();
			assertThat(fencingToken).isGreaterThan(previous);
			assertThat(this.repository.inspect(key))
				.hasValueSatisfying((info) -> assertThat(info.holders().get(0).fencingToken()).isEqualTo(fencingToken));
			assertThat(this.repository.release(lease)).isTrue();
			previous = fencingToken;
		}
	}

	@Test
	void fencingTokenOfATakeoverAfterExpiryIsGreater() {
		String key = key("fencing-takeover");
		long expired = this.repository.tryAcquire(exclusive(key, "owner-a", shortTtl())).getAsLong();
		LeaseSpec taker = exclusive(key, "owner-b", LONG_TTL);
		AtomicReference<OptionalLong> taken = new AtomicReference<>(OptionalLong.empty());
		awaitExpiry().until(() -> {
			taken.set(this.repository.tryAcquire(taker));
			return taken.get().isPresent();
		});
		assertThat(taken.get().getAsLong()).isGreaterThan(expired);
		assertThat(this.repository.release(taker)).isTrue();
		// After the key was purged entirely, tokens still do not go backwards.
		long afterPurge = this.repository.tryAcquire(exclusive(key, "owner-c", LONG_TTL)).getAsLong();
		assertThat(afterPurge).isGreaterThan(taken.get().getAsLong());
	}

	@Test
	void fencingTokensStrictlyIncreaseAcrossPermitsOfASemaphore() {
		String key = key("fencing-semaphore");
		// One permit stays held throughout, so every later grant joins a semaphore that
		// already has a holder.
		long previous = this.repository.tryAcquirePermit(semaphore(key, 2, "owner-kept", LONG_TTL)).getAsLong();
		for (int round = 0; round < 4; round++) {
			LeaseSpec permit = semaphore(key, 2, "owner-" + round, LONG_TTL);
			long fencingToken = this.repository.tryAcquirePermit(permit).getAsLong();
			assertThat(fencingToken).isGreaterThan(previous);
			assertThat(this.repository.release(permit)).isTrue();
			previous = fencingToken;
		}
	}

	// Semaphores

	@Test
	void semaphoreGrantsExactlyItsLimitOfPermits() {
		String key = key("semaphore");
		int limit = 3;
		List<LeaseSpec> permits = new ArrayList<>();
		for (int i = 0; i < limit; i++) {
			LeaseSpec permit = semaphore(key, limit, "owner-" + i, LONG_TTL);
			assertThat(this.repository.tryAcquirePermit(permit)).isPresent();
			permits.add(permit);
		}
		LeaseSpec extra = semaphore(key, limit, "owner-extra", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(extra)).isEmpty();
		assertThat(this.repository.release(permits.get(1))).isTrue();
		assertThat(this.repository.tryAcquirePermit(extra)).isPresent();
		assertThat(this.repository.tryAcquirePermit(semaphore(key, limit, "owner-another", LONG_TTL))).isEmpty();
		assertThat(this.repository.inspect(key))
			.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner)
				.containsExactlyInAnyOrder("owner-0", "owner-2", "owner-extra"));
	}

	@Test
	void expiredPermitsFreeUp() {
		String key = key("semaphore-expiry");
		int limit = 2;
		for (int i = 0; i < limit; i++) {
			assertThat(this.repository.tryAcquirePermit(semaphore(key, limit, "owner-" + i, shortTtl()))).isPresent();
		}
		LeaseSpec waiting = semaphore(key, limit, "owner-waiting", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(waiting)).isEmpty();
		awaitExpiry().until(() -> this.repository.tryAcquirePermit(waiting).isPresent());
		LeaseSpec second = semaphore(key, limit, "owner-second", LONG_TTL);
		awaitExpiry().until(() -> this.repository.tryAcquirePermit(second).isPresent());
		assertThat(this.repository.inspect(key))
			.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner)
				.containsExactlyInAnyOrder("owner-waiting", "owner-second"));
	}

	// Inspection

	@Test
	void inspectDescribesAnExclusiveHolder() {
		String key = key("inspect");
		LeaseSpec lease = exclusive(key, "owner-a", LONG_TTL);
		long fencingToken = this.repository.tryAcquire(lease).getAsLong();
		Optional<LockInfo> inspected = this.repository.inspect(key);
		assertThat(inspected).hasValueSatisfying((info) -> {
			assertThat(info.key()).isEqualTo(key);
			assertThat(info.mode()).isEqualTo(LeaseMode.EXCLUSIVE);
			assertThat(info.permits()).isOne();
			assertThat(info.holders()).singleElement().satisfies((holder) -> {
				assertThat(holder.owner()).isEqualTo("owner-a");
				assertThat(holder.fencingToken()).isEqualTo(fencingToken);
				assertRemainingTtl(holder, LONG_TTL);
			});
		});
	}

	@Test
	void inspectDescribesTheHoldersOfASemaphore() {
		String key = key("inspect-semaphore");
		long first = this.repository.tryAcquirePermit(semaphore(key, 3, "owner-a", LONG_TTL)).getAsLong();
		long second = this.repository.tryAcquirePermit(semaphore(key, 3, "owner-b", shortTtl())).getAsLong();
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.mode()).isEqualTo(LeaseMode.SEMAPHORE);
			assertThat(info.permits()).isEqualTo(3);
			assertThat(info.holders()).extracting(LockInfo.Holder::owner, LockInfo.Holder::fencingToken)
				.containsExactlyInAnyOrder(tuple("owner-a", first), tuple("owner-b", second));
			for (LockInfo.Holder holder : info.holders()) {
				assertRemainingTtl(holder, holder.owner().equals("owner-a") ? LONG_TTL : shortTtl());
			}
		});
	}

	@Test
	void inspectOfAFreeKeyIsEmpty() {
		String key = key("inspect-free");
		assertThat(this.repository.inspect(key)).isEmpty();
		LeaseSpec lease = exclusive(key, "owner-a", LONG_TTL);
		assertThat(this.repository.tryAcquire(lease)).isPresent();
		assertThat(this.repository.release(lease)).isTrue();
		assertThat(this.repository.inspect(key)).isEmpty();
	}

	@Test
	void listContainsHeldKeysAndNotReleasedOnes() {
		LeaseSpec held = exclusive(key("list-held"), "owner-a", LONG_TTL);
		LeaseSpec permit = semaphore(key("list-semaphore"), 2, "owner-a", LONG_TTL);
		LeaseSpec released = exclusive(key("list-released"), "owner-a", LONG_TTL);
		assertThat(this.repository.tryAcquire(held)).isPresent();
		assertThat(this.repository.tryAcquirePermit(permit)).isPresent();
		assertThat(this.repository.tryAcquire(released)).isPresent();
		assertThat(this.repository.release(released)).isTrue();
		List<LockInfo> listed = this.repository.list();
		assertThat(listed).extracting(LockInfo::key)
			.contains(held.key(), permit.key())
			.doesNotContain(released.key())
			.isSorted();
		assertThat(listed).filteredOn((info) -> info.key().equals(permit.key()))
			.singleElement()
			.satisfies((info) -> assertThat(info.mode()).isEqualTo(LeaseMode.SEMAPHORE));
	}

	// Holder descriptions

	@Test
	void descriptionsOfEveryModeAreStoredWithTheHolderAndSeenFromAnotherInstance() {
		String exclusiveKey = key("described-exclusive");
		String semaphoreKey = key("described-semaphore");
		String sharedKey = key("described-shared");
		String plainKey = key("described-none");
		// Characters a store could encode differently: quotes, separators, escapes, a
		// placeholder, accents and an emoji (a surrogate pair), and the longest length.
		String longest = "x".repeat(LeaseSpec.MAX_DESCRIPTION_LENGTH - 2) + "\uD83D\uDD12";
		String unusual = "import \"Z\u00fcrich\" 'nightly' 50% | a:b,c;d \\ {0} $1 \u00e9\u00e8 \uD83D\uDD12 2026-12-05";
		LockRepository peer = createPeerRepository();
		try {
			long exclusive = peer
				.tryAcquire(exclusive(exclusiveKey, "owner-a", LONG_TTL).withDescription("nightly import 2026-12-05"))
				.getAsLong();
			long firstPermit = peer
				.tryAcquirePermit(semaphore(semaphoreKey, 3, "owner-a", LONG_TTL).withDescription(longest))
				.getAsLong();
			long secondPermit = peer.tryAcquirePermit(semaphore(semaphoreKey, 3, "owner-b", LONG_TTL)).getAsLong();
			long plain = peer.tryAcquire(exclusive(plainKey, "owner-a", LONG_TTL)).getAsLong();
			boolean readWrite = withoutReadWriteLocks() == null;
			long shared = readWrite
					? peer.tryAcquireShared(reader(sharedKey, "owner-c", LONG_TTL).withDescription(unusual)).getAsLong()
					: 0;
			assertThat(this.repository.inspect(exclusiveKey)).hasValueSatisfying((info) -> assertThat(info.holders())
				.extracting(LockInfo.Holder::fencingToken, LockInfo.Holder::description)
				.containsExactly(tuple(exclusive, "nightly import 2026-12-05")));
			assertThat(this.repository.inspect(semaphoreKey)).hasValueSatisfying((info) -> assertThat(info.holders())
				.extracting(LockInfo.Holder::fencingToken, LockInfo.Holder::description)
				.containsExactlyInAnyOrder(tuple(firstPermit, longest), tuple(secondPermit, null)));
			assertThat(this.repository.inspect(plainKey))
				.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
					.satisfies((holder) -> assertThat(holder.description()).isNull()));
			if (readWrite) {
				assertThat(this.repository.inspect(sharedKey)).hasValueSatisfying((info) -> assertThat(info.holders())
					.extracting(LockInfo.Holder::fencingToken, LockInfo.Holder::description)
					.containsExactly(tuple(shared, unusual)));
			}
			Map<String, List<LockInfo.Holder>> listed = new HashMap<>();
			for (LockInfo info : this.repository.list()) {
				listed.put(info.key(), info.holders());
			}
			assertThat(listed.get(exclusiveKey)).extracting(LockInfo.Holder::description)
				.containsExactly("nightly import 2026-12-05");
			assertThat(listed.get(semaphoreKey)).extracting(LockInfo.Holder::description)
				.containsExactlyInAnyOrder(longest, null);
			assertThat(listed.get(plainKey)).extracting(LockInfo.Holder::description).containsExactly((String) null);
			if (readWrite) {
				assertThat(listed.get(sharedKey)).extracting(LockInfo.Holder::description).containsExactly(unusual);
			}
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void renewedLeaseKeepsItsDescription() {
		String key = key("described-renewed");
		LeaseSpec lease = exclusive(key, "owner-a", shortTtl()).withDescription("kept across renewals");
		long fencingToken = this.repository.tryAcquire(lease).getAsLong();
		assertThat(this.repository.renew(List.of(lease.withTtl(LONG_TTL)))).isEmpty();
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> assertThat(info.holders())
			.extracting(LockInfo.Holder::fencingToken, LockInfo.Holder::description)
			.containsExactly(tuple(fencingToken, "kept across renewals")));
	}

	@Test
	void descriptionGivenToATemplateIsSeenByAnotherInstancesTemplate() {
		String key = key("described-template");
		LockRepository peer = createPeerRepository();
		try {
			LockTemplate here = template(this.repository, Duration.ofMillis(10), Duration.ofMillis(100));
			LockTemplate elsewhere = template(peer, Duration.ofMillis(10), Duration.ofMillis(100));
			try (LockHandle first = elsewhere.semaphore(key, 2).description("report 2026-11").acquire();
					LockHandle second = here.semaphore(key, 2).acquire()) {
				assertThat(here.inspect(key)).get()
					.satisfies((info) -> assertThat(info.holders())
						.extracting(LockInfo.Holder::fencingToken, LockInfo.Holder::description)
						.containsExactlyInAnyOrder(tuple(first.fencingToken(), "report 2026-11"),
								tuple(second.fencingToken(), null)));
			}
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void inspectAndListAreSafeWhileTheKeyChanges() throws Exception {
		String key = key("inspect-concurrently");
		AtomicInteger cycles = new AtomicInteger();
		Future<?> churn = this.executor.submit(() -> {
			while (!Thread.currentThread().isInterrupted()) {
				LeaseSpec first = semaphore(key, 3, "owner-a", LONG_TTL);
				LeaseSpec second = semaphore(key, 3, "owner-b", LONG_TTL);
				this.repository.tryAcquirePermit(first);
				this.repository.tryAcquirePermit(second);
				this.repository.release(first);
				this.repository.release(second);
				cycles.incrementAndGet();
			}
		});
		long deadline = System.nanoTime() + Duration.ofMillis(500).toNanos();
		int inspections = 0;
		while (System.nanoTime() - deadline < 0 || inspections < 50) {
			this.repository.inspect(key).ifPresent((info) -> assertThat(info.holders()).hasSizeBetween(1, 2));
			this.repository.list();
			inspections++;
		}
		churn.cancel(true);
		assertThat(cycles.get()).isPositive();
	}

	// Release notifications

	@Test
	void subscriberIsNotifiedWhenTheKeyIsReleased() throws InterruptedException {
		String key = key("notify");
		CountDownLatch released = new CountDownLatch(1);
		try (ReleaseSubscription subscription = this.repository.subscribe(key, released::countDown)) {
			LeaseSpec lease = exclusive(key, "owner-a", LONG_TTL);
			assertThat(this.repository.tryAcquire(lease)).isPresent();
			assertThat(this.repository.release(lease)).isTrue();
			assertThat(released.await(10, TimeUnit.SECONDS)).isTrue();
		}
	}

	@Test
	void closedSubscriptionIsNoLongerNotified() throws InterruptedException {
		String key = key("notify-closed");
		AtomicInteger closedNotifications = new AtomicInteger();
		CountDownLatch witnessed = new CountDownLatch(1);
		ReleaseSubscription closed = this.repository.subscribe(key, closedNotifications::incrementAndGet);
		try (ReleaseSubscription witness = this.repository.subscribe(key, witnessed::countDown)) {
			closed.close();
			closedNotifications.set(0);
			LeaseSpec lease = exclusive(key, "owner-a", LONG_TTL);
			assertThat(this.repository.tryAcquire(lease)).isPresent();
			assertThat(this.repository.release(lease)).isTrue();
			assertThat(witnessed.await(10, TimeUnit.SECONDS)).isTrue();
			Awaitility.await()
				.during(Duration.ofMillis(200))
				.atMost(Duration.ofSeconds(2))
				.until(() -> closedNotifications.get() == 0);
		}
		closed.close();
	}

	// Waiting through LockTemplate

	@Test
	void waiterIsWokenByTheReleaseNotification() throws Exception {
		// Polling so slow that only the backend's notification can wake the waiter within
		// its wait time.
		Duration poll = Duration.ofSeconds(20);
		LockTemplate template = template(poll, poll);
		String key = key("wake");
		LeaseSpec holder = exclusive(key, "owner-elsewhere", LONG_TTL);
		assertThat(this.repository.tryAcquire(holder)).isPresent();
		Future<Long> waiter = this.executor.submit(() -> {
			try (LockHandle handle = template.exclusive(key).waitTime(Duration.ofSeconds(10)).acquire()) {
				return System.nanoTime();
			}
		});
		// The first attempt, then the one made at the head of the wait line once
		// subscribed: the waiter now sleeps.
		awaitExpiry().until(() -> this.attempts.get() >= 2);
		long releasedAt = System.nanoTime();
		assertThat(this.repository.release(holder)).isTrue();
		long acquiredAt = waiter.get(15, TimeUnit.SECONDS);
		assertThat(Duration.ofNanos(acquiredAt - releasedAt)).isLessThan(Duration.ofSeconds(3));
	}

	@Test
	void manyWaitersAllAcquireOneAtATime() throws Exception {
		int threads = 8;
		String key = key("many-waiters");
		LeaseSpec holder = exclusive(key, "owner-elsewhere", LONG_TTL);
		assertThat(this.repository.tryAcquire(holder)).isPresent();
		LockTemplate template = template(Duration.ofMillis(20), Duration.ofMillis(500));
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger maxInside = new AtomicInteger();
		AtomicInteger ran = new AtomicInteger();
		List<Future<?>> waiters = new ArrayList<>();
		for (int i = 0; i < threads; i++) {
			waiters.add(this.executor.submit(() -> template.exclusive(key).waitTime(Duration.ofSeconds(10)).run(() -> {
				maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
				sleep(5);
				ran.incrementAndGet();
				inside.decrementAndGet();
			})));
		}
		awaitExpiry().until(() -> this.attempts.get() >= threads);
		assertThat(ran.get()).isZero();
		assertThat(this.repository.release(holder)).isTrue();
		for (Future<?> waiter : waiters) {
			waiter.get(15, TimeUnit.SECONDS);
		}
		assertThat(ran.get()).isEqualTo(threads);
		assertThat(maxInside.get()).isOne();
		assertThat(this.repository.inspect(key)).isEmpty();
	}

	// One mode and one limit per key

	@Test
	void exclusiveLeaseAndPermitOfOneKeyExcludeEachOther() {
		String key = key("modes");
		LeaseSpec exclusive = exclusive(key, "owner-a", LONG_TTL);
		LeaseSpec permit = semaphore(key, 2, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquire(exclusive)).isPresent();
		assertThat(this.repository.tryAcquirePermit(permit)).isEmpty();
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.mode()).isEqualTo(LeaseMode.EXCLUSIVE);
			assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-a");
		});
		assertThat(this.repository.release(exclusive)).isTrue();
		assertThat(this.repository.tryAcquirePermit(permit)).isPresent();
		LeaseSpec laterExclusive = exclusive(key, "owner-c", LONG_TTL);
		assertThat(this.repository.tryAcquire(laterExclusive)).isEmpty();
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.mode()).isEqualTo(LeaseMode.SEMAPHORE);
			assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-b");
		});
		assertThat(this.repository.renew(List.of(permit))).isEmpty();
		assertThat(this.repository.tryAcquire(laterExclusive)).isEmpty();
		// Once the last permit is released the key is free for either mode again, at
		// once.
		assertThat(this.repository.release(permit)).isTrue();
		assertThat(this.repository.tryAcquire(laterExclusive)).isPresent();
		assertThat(this.repository.release(laterExclusive)).isTrue();
	}

	@Test
	void permitOfAKeyWhosePermitsExpiredCanBeFollowedByAnExclusiveLease() {
		String key = key("modes-expiry");
		assertThat(this.repository.tryAcquirePermit(semaphore(key, 2, "owner-a", shortTtl()))).isPresent();
		LeaseSpec exclusive = exclusive(key, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquire(exclusive)).isEmpty();
		awaitExpiry().until(() -> this.repository.tryAcquire(exclusive).isPresent());
		assertThat(this.repository.tryAcquirePermit(semaphore(key, 2, "owner-c", LONG_TTL))).isEmpty();
	}

	@Test
	void permitWithAnotherLimitThanTheHoldersIsRefusedWithAConflict() {
		String key = key("limits");
		LeaseSpec single = semaphore(key, 1, "owner-a", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(single)).isPresent();
		assertThatExceptionOfType(LockPermitsConflictException.class)
			.isThrownBy(() -> this.repository.tryAcquirePermit(semaphore(key, 5, "owner-b", LONG_TTL)))
			.satisfies((ex) -> {
				assertThat(ex.getKey()).isEqualTo(key);
				assertThat(ex.getRequestedPermits()).isEqualTo(5);
				assertThat(ex.getHeldPermits()).isEqualTo(1);
				// The key may be personal data: it stays out of the message.
				assertThat(ex.getMessage()).contains("5", "1", "permits").doesNotContain(key);
			});
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.permits()).isOne();
			assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-a");
		});
		assertThat(this.repository.release(single)).isTrue();
		// The limit is fixed only while the key is held.
		LeaseSpec five = semaphore(key, 5, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(five)).isPresent();
		assertThatExceptionOfType(LockPermitsConflictException.class)
			.isThrownBy(() -> this.repository.tryAcquirePermit(semaphore(key, 1, "owner-c", LONG_TTL)))
			.satisfies((ex) -> assertThat(ex.getHeldPermits()).isEqualTo(5));
		assertThat(this.repository.tryAcquirePermit(semaphore(key, 5, "owner-d", LONG_TTL))).isPresent();
		// Surfaced by the template, which names the lock in the message.
		LockTemplate template = template(Duration.ofMillis(10), Duration.ofMillis(100));
		assertThatExceptionOfType(LockPermitsConflictException.class)
			.isThrownBy(() -> template.semaphore(key, 2).named("reports").waitTime(Duration.ofSeconds(1)).tryRun(() -> {
			}))
			.satisfies((ex) -> {
				assertThat(ex.getKey()).isEqualTo(key);
				assertThat(ex.getName()).isEqualTo("reports");
				assertThat(ex.getMessage()).startsWith("Semaphore 'reports' was asked for a permit of 2 permits")
					.doesNotContain(key);
			});
	}

	// Read/write locks: shared and exclusive leases of one key

	@Test
	void sharedLeasesOfOneKeyAreHeldAtOnce() {
		assumeReadWriteLocks();
		String key = key("readers");
		LeaseSpec first = reader(key, "owner-a", LONG_TTL);
		LeaseSpec second = reader(key, "owner-b", LONG_TTL);
		LeaseSpec third = reader(key, "owner-c", LONG_TTL);
		long firstToken = this.repository.tryAcquireShared(first).getAsLong();
		long secondToken = this.repository.tryAcquireShared(second).getAsLong();
		long thirdToken = this.repository.tryAcquireShared(third).getAsLong();
		assertThat(secondToken).isGreaterThan(firstToken);
		assertThat(thirdToken).isGreaterThan(secondToken);
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.mode()).isEqualTo(LeaseMode.SHARED);
			assertThat(info.holders()).extracting(LockInfo.Holder::owner, LockInfo.Holder::fencingToken)
				.containsExactlyInAnyOrder(tuple("owner-a", firstToken), tuple("owner-b", secondToken),
						tuple("owner-c", thirdToken));
			assertThat(info.holders()).allSatisfy((holder) -> assertRemainingTtl(holder, LONG_TTL));
		});
		assertThat(this.repository.list()).filteredOn((info) -> info.key().equals(key))
			.singleElement()
			.satisfies((info) -> assertThat(info.holders()).hasSize(3));
		assertThat(this.repository.renew(List.of(first, second, third))).isEmpty();
		assertThat(this.repository.release(second)).isTrue();
		assertThat(this.repository.release(second)).isFalse();
		assertThat(this.repository.inspect(key))
			.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner)
				.containsExactlyInAnyOrder("owner-a", "owner-c"));
		assertThat(this.repository.release(first)).isTrue();
		assertThat(this.repository.release(third)).isTrue();
		assertThat(this.repository.inspect(key)).isEmpty();
	}

	@Test
	void exclusiveAndSharedLeasesOfOneKeyExcludeEachOther() {
		assumeReadWriteLocks();
		String key = key("read-write");
		LeaseSpec reader = reader(key, "owner-a", LONG_TTL);
		LeaseSpec writer = exclusive(key, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquireShared(reader)).isPresent();
		assertThat(this.repository.tryAcquire(writer)).isEmpty();
		assertThat(this.repository.tryAcquirePermit(semaphore(key, 2, "owner-c", LONG_TTL))).isEmpty();
		assertThat(this.repository.release(reader)).isTrue();
		assertThat(this.repository.tryAcquire(writer)).isPresent();
		assertThat(this.repository.tryAcquireShared(reader(key, "owner-d", LONG_TTL))).isEmpty();
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.mode()).isEqualTo(LeaseMode.EXCLUSIVE);
			assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-b");
		});
		assertThat(this.repository.release(writer)).isTrue();
		// A semaphore's key is not shared with readers either.
		LeaseSpec permit = semaphore(key, 2, "owner-e", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(permit)).isPresent();
		assertThat(this.repository.tryAcquireShared(reader(key, "owner-f", LONG_TTL))).isEmpty();
		assertThat(this.repository.release(permit)).isTrue();
		assertThat(this.repository.tryAcquireShared(reader(key, "owner-f", LONG_TTL))).isPresent();
	}

	@Test
	void fencingTokensStrictlyIncreaseAcrossSharedAndExclusiveGrants() {
		assumeReadWriteLocks();
		String key = key("read-write-tokens");
		long highest = 0;
		for (int round = 0; round < 3; round++) {
			LeaseSpec writer = exclusive(key, "writer", LONG_TTL);
			long writerToken = this.repository.tryAcquire(writer).getAsLong();
			assertThat(writerToken).isGreaterThan(highest);
			assertThat(this.repository.release(writer)).isTrue();
			LeaseSpec first = reader(key, "reader-1", LONG_TTL);
			LeaseSpec second = reader(key, "reader-2", LONG_TTL);
			long firstToken = this.repository.tryAcquireShared(first).getAsLong();
			long secondToken = this.repository.tryAcquireShared(second).getAsLong();
			assertThat(firstToken).isGreaterThan(writerToken);
			assertThat(secondToken).isGreaterThan(firstToken);
			assertThat(this.repository.release(first)).isTrue();
			assertThat(this.repository.release(second)).isTrue();
			highest = secondToken;
		}
	}

	@Test
	void sharedLeaseExpiresAndIsRenewedLikeAnExclusiveOne() throws InterruptedException {
		assumeReadWriteLocks();
		String key = key("read-expiry");
		LeaseSpec expiring = reader(key, "owner-a", shortTtl());
		LeaseSpec renewed = reader(key, "owner-b", shortTtl());
		assertThat(this.repository.tryAcquireShared(expiring)).isPresent();
		assertThat(this.repository.tryAcquireShared(renewed)).isPresent();
		LeaseSpec writer = exclusive(key, "owner-c", LONG_TTL);
		long until = System.nanoTime() + shortTtl().multipliedBy(3).toNanos();
		while (System.nanoTime() - until < 0) {
			assertThat(this.repository.renew(List.of(renewed))).isEmpty();
			Thread.sleep(shortTtl().toMillis() / 4);
		}
		assertThat(this.repository.renew(List.of(expiring))).containsExactly(expiring.token());
		assertThat(this.repository.tryAcquire(writer)).isEmpty();
		assertThat(this.repository.inspect(key)).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-b"));
		awaitExpiry().until(() -> this.repository.tryAcquire(writer).isPresent());
		assertThat(this.repository.renew(List.of(renewed))).containsExactly(renewed.token());
	}

	@Test
	void forceReleaseEvictsEverySharedHolderAndFencesThemOff() {
		assumeReadWriteLocks();
		String key = key("force-release-readers");
		LeaseSpec first = reader(key, "owner-a", LONG_TTL);
		LeaseSpec second = reader(key, "owner-b", LONG_TTL);
		this.repository.tryAcquireShared(first).getAsLong();
		long evicted = this.repository.tryAcquireShared(second).getAsLong();
		assertThat(this.repository.forceRelease(key)).isTrue();
		assertThat(this.repository.inspect(key)).isEmpty();
		assertThat(this.repository.renew(List.of(first, second))).containsExactlyInAnyOrder(first.token(),
				second.token());
		LeaseSpec writer = exclusive(key, "owner-c", LONG_TTL);
		assertThat(this.repository.tryAcquire(writer).getAsLong()).isGreaterThan(evicted);
		assertThat(this.repository.release(first)).isFalse();
	}

	@Test
	void waitingWriterKeepsNewSharedHoldersOutUntilItIsGranted() {
		assumeReadWriteLocks();
		assumeWriterWaits();
		String key = key("writer-preference");
		LeaseSpec reader = reader(key, "reader-a", LONG_TTL);
		assertThat(this.repository.tryAcquireShared(reader)).isPresent();
		// A writer that does not wait records nothing: readers still get in.
		assertThat(this.repository.tryAcquire(exclusive(key, "writer-once", LONG_TTL))).isEmpty();
		LeaseSpec latecomer = reader(key, "reader-b", LONG_TTL);
		assertThat(this.repository.tryAcquireShared(latecomer)).isPresent();
		assertThat(this.repository.release(latecomer)).isTrue();
		// A waiting writer is refused while the reader holds, and keeps new readers out.
		LeaseSpec writer = exclusive(key, "writer", LONG_TTL);
		assertThat(this.repository.tryAcquireWaiting(writer)).isEmpty();
		assertThat(this.repository.tryAcquireShared(reader(key, "reader-c", LONG_TTL))).isEmpty();
		// From another instance too.
		LockRepository peer = createPeerRepository();
		try {
			assertThat(peer.tryAcquireShared(reader(key, "reader-d", LONG_TTL))).isEmpty();
		}
		finally {
			destroyRepository(peer);
		}
		// The reader already in renews and leaves as usual; then the writer gets in.
		assertThat(this.repository.renew(List.of(reader))).isEmpty();
		assertThat(this.repository.release(reader)).isTrue();
		long writerToken = this.repository.tryAcquireWaiting(writer).getAsLong();
		assertThat(this.repository.release(writer)).isTrue();
		// Granted, the writer no longer waits: readers get in at once.
		LeaseSpec after = reader(key, "reader-e", LONG_TTL);
		assertThat(this.repository.tryAcquireShared(after).getAsLong()).isGreaterThan(writerToken);
		assertThat(this.repository.release(after)).isTrue();
	}

	@Test
	void writerGrantedAfterWaitingLetsSharedHoldersInTheMomentItReturns() {
		assumeReadWriteLocks();
		assumeWriterWaits();
		String key = key("writer-wait-withdrawn");
		// Each round: a writer waits behind a reader, is granted, and leaves. Its wait
		// must be gone before the grant returns, or a reader that comes next is refused
		// (a wait withdrawn in the background loses that race now and then).
		for (int round = 0; round < 100; round++) {
			LeaseSpec reader = reader(key, "reader-" + round, LONG_TTL);
			LeaseSpec writer = exclusive(key, "writer-" + round, LONG_TTL);
			assertThat(this.repository.tryAcquireShared(reader)).isPresent();
			assertThat(this.repository.tryAcquireWaiting(writer)).isEmpty();
			assertThat(this.repository.release(reader)).isTrue();
			assertThat(this.repository.tryAcquireWaiting(writer)).isPresent();
			assertThat(this.repository.release(writer)).isTrue();
			LeaseSpec next = reader(key, "next-" + round, LONG_TTL);
			assertThat(this.repository.tryAcquireShared(next)).as("a reader right after round %d's writer", round)
				.isPresent();
			assertThat(this.repository.release(next)).isTrue();
		}
	}

	@Test
	void writerThatStopsWaitingLetsSharedHoldersInAgain() {
		assumeReadWriteLocks();
		assumeWriterWaits();
		String key = key("writer-gives-up");
		LeaseSpec reader = reader(key, "reader-a", LONG_TTL);
		assertThat(this.repository.tryAcquireShared(reader)).isPresent();
		LeaseSpec first = exclusive(key, "writer-1", LONG_TTL);
		LeaseSpec second = exclusive(key, "writer-2", LONG_TTL);
		assertThat(this.repository.tryAcquireWaiting(first)).isEmpty();
		assertThat(this.repository.tryAcquireWaiting(second)).isEmpty();
		this.repository.stopWaiting(first);
		// One writer still waits.
		assertThat(this.repository.tryAcquireShared(reader(key, "reader-b", LONG_TTL))).isEmpty();
		this.repository.stopWaiting(second);
		this.repository.stopWaiting(second);
		assertThat(this.repository.tryAcquireShared(reader(key, "reader-c", LONG_TTL))).isPresent();
		// Stopping a wait that was never recorded is harmless.
		this.repository.stopWaiting(exclusive(key("never-waited"), "writer-3", LONG_TTL));
	}

	@Test
	void writerWaitThatIsNotRenewedExpires() {
		assumeReadWriteLocks();
		assumeWriterWaits();
		String key = key("writer-wait-expiry");
		assertThat(this.repository.tryAcquireShared(reader(key, "reader-a", LONG_TTL))).isPresent();
		// A writer that waits and then dies: its wait ends with its TTL.
		assertThat(this.repository.tryAcquireWaiting(exclusive(key, "writer", shortTtl()))).isEmpty();
		LeaseSpec blocked = reader(key, "reader-b", LONG_TTL);
		assertThat(this.repository.tryAcquireShared(blocked)).isEmpty();
		awaitExpiry().until(() -> this.repository.tryAcquireShared(blocked).isPresent());
	}

	@Test
	void queuedWriterKeepsNewSharedHoldersOutOfAQueueingBackend() throws Exception {
		assumeReadWriteLocks();
		Assumptions.assumeTrue(
				this.repository instanceof QueueingLockRepository queues
						&& queues.queues(exclusive(key("queued-writer"), "writer", LONG_TTL))
						&& queues.queues(reader(key("queued-writer"), "reader", LONG_TTL)),
				"The backend records writer waits (tryAcquireWaiting) rather than queueing");
		QueueingLockRepository queueing = (QueueingLockRepository) this.repository;
		String key = key("queued-writer");
		LeaseSpec reader = reader(key, "reader-a", LONG_TTL);
		assertThat(queueing.tryAcquireShared(reader)).isPresent();
		LeaseSpec writer = exclusive(key, "writer", LONG_TTL);
		CompletableFuture<QueueingLockRepository.QueuedGrant> writerGrant = queueing.acquireQueued(writer);
		assertThat(writerGrant).isNotDone();
		// A reader's single attempt is refused behind the queued writer; a waiting one
		// queues behind it.
		assertThat(queueing.tryAcquireShared(reader(key, "reader-b", LONG_TTL))).isEmpty();
		LeaseSpec queuedReader = reader(key, "reader-c", LONG_TTL);
		CompletableFuture<QueueingLockRepository.QueuedGrant> readerGrant = queueing.acquireQueued(queuedReader);
		assertThat(queueing.release(reader)).isTrue();
		long writerToken = writerGrant.get(10, TimeUnit.SECONDS).fencingToken();
		assertThat(readerGrant).isNotDone();
		assertThat(queueing.release(writer)).isTrue();
		assertThat(readerGrant.get(10, TimeUnit.SECONDS).fencingToken()).isGreaterThan(writerToken);
		assertThat(queueing.release(queuedReader)).isTrue();
	}

	@Test
	void sharedCallerThatArrivesWhileAWriterWaitsWaitsBehindIt() throws Exception {
		assumeReadWriteLocks();
		String key = key("writer-preference-template");
		// On the repository itself, so that a queueing backend queues.
		LockTemplate writers = template(this.repository, Duration.ofMillis(10), Duration.ofMillis(100));
		LockTemplate readers = template(this.repository, Duration.ofMillis(10), Duration.ofMillis(100));
		LeaseSpec holder = reader(key, "reader-elsewhere", LONG_TTL);
		assertThat(this.repository.tryAcquireShared(holder)).isPresent();
		List<String> order = Collections.synchronizedList(new ArrayList<>());
		AtomicInteger writerInside = new AtomicInteger();
		AtomicInteger overlaps = new AtomicInteger();
		Future<Long> writer = this.executor
			.submit(() -> writers.exclusive(key).waitTime(Duration.ofSeconds(20)).call(() -> {
				writerInside.incrementAndGet();
				order.add("writer");
				sleep(200);
				writerInside.decrementAndGet();
				return LockContext.fencingToken();
			}));
		awaitExpiry().until(() -> writers.waiterCount(key) == 1 && !sharedGranted(key));
		Future<Long> reader = this.executor
			.submit(() -> readers.shared(key).waitTime(Duration.ofSeconds(20)).call(() -> {
				if (writerInside.get() != 0) {
					overlaps.incrementAndGet();
				}
				order.add("reader");
				return LockContext.fencingToken();
			}));
		awaitExpiry().until(() -> readers.waiterCount(key) == 1);
		// The key is held shared and the reader is compatible with it, yet waits: a
		// writer came first.
		sleep(300);
		assertThat(order).isEmpty();
		assertThat(this.repository.release(holder)).isTrue();
		long writerToken = writer.get(15, TimeUnit.SECONDS);
		long readerToken = reader.get(15, TimeUnit.SECONDS);
		assertThat(order).containsExactly("writer", "reader");
		assertThat(overlaps.get()).isZero();
		assertThat(readerToken).isGreaterThan(writerToken);
		assertThat(this.repository.inspect(key)).isEmpty();
	}

	@Test
	void writerThatGivesUpWaitingLetsSharedCallersIn() {
		assumeReadWriteLocks();
		String key = key("writer-times-out");
		LockTemplate template = template(this.repository, Duration.ofMillis(10), Duration.ofMillis(100));
		LeaseSpec holder = reader(key, "reader-elsewhere", LONG_TTL);
		assertThat(this.repository.tryAcquireShared(holder)).isPresent();
		assertThat(template.exclusive(key).waitTime(Duration.ofMillis(300)).tryRun(() -> {
		})).isFalse();
		// Long before the writer's wait would expire (its TTL is 30 s).
		assertThat(template.shared(key).waitTime(Duration.ZERO).tryRun(() -> {
		})).isTrue();
	}

	@Test
	@Timeout(600)
	void repositoriesOnOneStoreLetReadersOverlapAndWritersExcludeEveryone() throws Exception {
		assumeReadWriteLocks();
		int instances = 3;
		int readersPerInstance = 3;
		int writersPerInstance = 1;
		int grants = readWriteGrants();
		String key = key("cross-instance-read-write");
		List<LockRepository> peers = new ArrayList<>();
		List<LockTemplate> templates = new ArrayList<>();
		templates.add(template(this.repository, Duration.ofMillis(1), Duration.ofMillis(20)));
		try {
			for (int i = 1; i < instances; i++) {
				LockRepository peer = createPeerRepository();
				peers.add(peer);
				templates.add(template(peer, Duration.ofMillis(1), Duration.ofMillis(20)));
			}
			AtomicInteger readersInside = new AtomicInteger();
			AtomicInteger writersInside = new AtomicInteger();
			AtomicInteger maxReadersInside = new AtomicInteger();
			AtomicInteger overlaps = new AtomicInteger();
			AtomicInteger inversions = new AtomicInteger();
			AtomicInteger granted = new AtomicInteger();
			AtomicInteger writes = new AtomicInteger();
			AtomicInteger reads = new AtomicInteger();
			AtomicLong highestToken = new AtomicLong();
			AtomicLong highestWriterToken = new AtomicLong();
			Queue<String> inverted = new ConcurrentLinkedQueue<>();
			int[] counter = { 0 };
			CountDownLatch start = new CountDownLatch(1);
			List<Future<?>> workers = new ArrayList<>();
			for (LockTemplate template : templates) {
				for (int t = 0; t < writersPerInstance; t++) {
					workers.add(this.executor.submit(() -> {
						start.await();
						while (granted.get() < grants) {
							template.exclusive(key).waitTime(Duration.ofSeconds(60)).run(() -> {
								if (writersInside.incrementAndGet() != 1 || readersInside.get() != 0) {
									overlaps.incrementAndGet();
								}
								long token = LockContext.fencingToken();
								// Every grant made before this one has left: all are
								// below it.
								long highest = highestToken.get();
								if (token <= highest) {
									inversions.incrementAndGet();
									inverted.add("a writer's " + token + " after " + highest + " (the highest writer's "
											+ highestWriterToken.get() + ")");
								}
								highestToken.accumulateAndGet(token, Math::max);
								highestWriterToken.accumulateAndGet(token, Math::max);
								int read = counter[0];
								Thread.yield();
								counter[0] = read + 1;
								writes.incrementAndGet();
								granted.incrementAndGet();
								writersInside.decrementAndGet();
							});
							// A writer that wrote rests, as real ones do, until the
							// readers had a turn: with three writers always waiting,
							// writer preference lets readers in one at a time, and their
							// sharing goes unchecked. A fixed pause of 2 ms was not
							// enough where a grant takes milliseconds (a database on a
							// loaded machine): readers got 25 to 50 of 2,500 grants. The
							// bound keeps a backend that starves readers from stalling
							// the test; the check on reads reports it.
							int readsBefore = reads.get();
							long restUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
							while (reads.get() < readsBefore + instances * readersPerInstance
									&& System.nanoTime() < restUntil) {
								sleep(1);
							}
						}
						return null;
					}));
				}
				for (int t = 0; t < readersPerInstance; t++) {
					workers.add(this.executor.submit(() -> {
						start.await();
						while (granted.get() < grants) {
							template.shared(key).waitTime(Duration.ofSeconds(60)).run(() -> {
								maxReadersInside.accumulateAndGet(readersInside.incrementAndGet(), Math::max);
								if (writersInside.get() != 0) {
									overlaps.incrementAndGet();
								}
								long token = LockContext.fencingToken();
								long highestWriter = highestWriterToken.get();
								if (token <= highestWriter) {
									inversions.incrementAndGet();
									inverted.add("a reader's " + token + " after a writer's " + highestWriter);
								}
								highestToken.accumulateAndGet(token, Math::max);
								sleep(1);
								reads.incrementAndGet();
								granted.incrementAndGet();
								readersInside.decrementAndGet();
							});
						}
						return null;
					}));
				}
			}
			start.countDown();
			for (Future<?> worker : workers) {
				worker.get(590, TimeUnit.SECONDS);
			}
			assertThat(granted.get()).isGreaterThanOrEqualTo(grants);
			assertThat(overlaps.get())
				.as("grants where a writer was inside together with anyone, of %d grants", granted.get())
				.isZero();
			assertThat(inversions.get())
				.as("grants whose fencing token was not above every earlier conflicting grant's, of %d grants"
						+ " (leases lost: %d): %s", granted.get(),
						templates.stream().mapToLong(LockTemplate::lostLeaseCount).sum(), inverted)
				.isZero();
			assertThat(counter[0]).as("unguarded increments by writers that survived").isEqualTo(writes.get());
			assertThat(writes.get()).as("writes (writers must not starve)").isGreaterThan(instances);
			assertThat(reads.get()).as("reads").isGreaterThan(instances);
			assertThat(maxReadersInside.get()).as("readers inside at once").isGreaterThan(1);
			assertThat(templates).allSatisfy((template) -> assertThat(template.lostLeaseCount()).isZero());
			assertThat(this.repository.inspect(key)).isEmpty();
		}
		finally {
			templates.forEach(LockTemplate::close);
			peers.forEach(this::destroyRepository);
		}
	}

	// Several instances on one store

	// What a template sees of a key, and hold limits, across instances

	@Test
	void freePermitsAndHoldersOfAKeyAreSeenFromAnotherInstanceWithoutTakingAnything() {
		String key = key("free-permits");
		LockRepository peer = createPeerRepository();
		try {
			LockTemplate here = template(this.repository, Duration.ofMillis(10), Duration.ofMillis(100));
			LockTemplate elsewhere = template(peer, Duration.ofMillis(10), Duration.ofMillis(100));
			assertThat(here.freePermits(key, 3)).isEqualTo(3);
			assertThat(here.inspect(key)).isEmpty();
			try (LockHandle first = elsewhere.semaphore(key, 3).acquire();
					LockHandle second = elsewhere.semaphore(key, 3).acquire()) {
				assertThat(here.freePermits(key, 3)).isOne();
				assertThat(here.inspect(key)).get().satisfies((info) -> {
					assertThat(info.mode()).isEqualTo(LeaseMode.SEMAPHORE);
					assertThat(info.permits()).isEqualTo(3);
					assertThat(info.freePermits()).isOne();
					assertThat(info.holders()).extracting(LockInfo.Holder::fencingToken)
						.containsExactlyInAnyOrder(first.fencingToken(), second.fencingToken());
				});
				try (LockHandle third = here.semaphore(key, 3).acquire()) {
					assertThat(elsewhere.freePermits(key, 3)).isZero();
					assertThat(here.semaphore(key, 3).tryAcquire()).isEmpty();
				}
				assertThat(here.heldLeaseCount()).isZero();
				assertThat(here.freePermits(key, 3)).isOne();
			}
			assertThat(here.freePermits(key, 3)).isEqualTo(3);
			try (LockHandle held = elsewhere.exclusive(key).acquire()) {
				assertThat(here.freePermits(key, 3)).as("held exclusively").isZero();
				assertThat(here.inspect(key)).get().extracting(LockInfo::mode).isEqualTo(LeaseMode.EXCLUSIVE);
			}
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void callThatOverrunsItsMaxHoldLosesItsLeaseAndAnotherInstanceTakesTheKeyWithAHigherToken() throws Exception {
		String key = key("max-hold");
		LockRepository peer = createPeerRepository();
		try {
			List<Object> events = new CopyOnWriteArrayList<>();
			LockTemplate here = template(this.repository, Duration.ofMillis(10), Duration.ofMillis(100),
					new EventPublishingLockObserver(events::add));
			LockTemplate elsewhere = template(peer, Duration.ofMillis(10), Duration.ofMillis(100));
			Duration maxHold = Duration.ofSeconds(1);
			AtomicLong heldToken = new AtomicLong();
			AtomicBoolean interrupted = new AtomicBoolean();
			CountDownLatch holding = new CountDownLatch(1);
			Future<?> overrun = this.executor.submit(() -> here.exclusive(key).maxHold(maxHold).run(() -> {
				heldToken.set(LockContext.fencingToken());
				holding.countDown();
				try {
					// Far past maxHold, and the lease's TTL (30 s) is far longer still.
					Thread.sleep(20_000);
				}
				catch (InterruptedException ex) {
					interrupted.set(true);
				}
			}));
			assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
			long start = System.nanoTime();
			try (LockHandle taken = elsewhere.exclusive(key).waitTime(Duration.ofSeconds(15)).acquire()) {
				Duration waited = Duration.ofNanos(System.nanoTime() - start);
				assertThat(waited).as("given back at maxHold, not left to expire after its TTL")
					.isLessThan(Duration.ofSeconds(10));
				assertThat(taken.fencingToken()).isGreaterThan(heldToken.get());
			}
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> overrun.get(10, TimeUnit.SECONDS))
				.havingCause()
				.isInstanceOfSatisfying(LockLostException.class,
						(ex) -> assertThat(ex.getReason()).isEqualTo(LossReason.MAX_HOLD_EXCEEDED));
			assertThat(interrupted).isTrue();
			assertThat(events).filteredOn(LockLostEvent.class::isInstance)
				.singleElement()
				.satisfies((event) -> assertThat(((LockLostEvent) event).getReason())
					.isEqualTo(LossReason.MAX_HOLD_EXCEEDED));
			assertThat(here.lostLeaseCount()).isOne();
			assertThat(this.repository.inspect(key)).isEmpty();
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void waitersOfEveryInstanceAreCountedWhereTheBackendCanTell() throws Exception {
		String key = key("waiters");
		LockRepository peer = createPeerRepository();
		try {
			LockTemplate here = template(this.repository, Duration.ofMillis(10), Duration.ofMillis(100));
			LockTemplate elsewhere = template(peer, Duration.ofMillis(10), Duration.ofMillis(100));
			OptionalInt none = here.waiters(key);
			if (none.isEmpty()) {
				// This backend cannot tell; it says so the same way while the key is
				// waited for.
				try (LockHandle held = here.exclusive(key).acquire()) {
					Future<Boolean> waiter = this.executor
						.submit(() -> elsewhere.exclusive(key).waitTime(Duration.ofSeconds(10)).tryRun(() -> {
						}));
					Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> elsewhere.waiterCount(key) == 1);
					assertThat(here.waiters(key)).isEmpty();
					held.close();
					assertThat(waiter.get(10, TimeUnit.SECONDS)).isTrue();
				}
				return;
			}
			assertThat(none.getAsInt()).isZero();
			try (LockHandle held = here.exclusive(key).acquire()) {
				List<Future<Boolean>> waiters = new ArrayList<>();
				for (LockTemplate template : List.of(here, elsewhere, elsewhere)) {
					waiters.add(this.executor
						.submit(() -> template.exclusive(key).waitTime(Duration.ofSeconds(20)).tryRun(() -> {
						})));
				}
				Awaitility.await()
					.atMost(Duration.ofSeconds(10))
					.untilAsserted(() -> assertThat(elsewhere.waiters(key)).hasValue(3));
				assertThat(here.waiters(key)).hasValue(3);
				held.close();
				for (Future<Boolean> waiter : waiters) {
					assertThat(waiter.get(20, TimeUnit.SECONDS)).isTrue();
				}
			}
			assertThat(here.waiters(key)).hasValue(0);
		}
		finally {
			destroyRepository(peer);
		}
	}

	// Several instances on one store

	// Several keys at once

	@Test
	void severalKeysAreTakenAllOrNoneAsAnotherInstanceSeesIt() {
		String a = key("all-or-none-a");
		String b = key("all-or-none-b");
		String c = key("all-or-none-c");
		LockRepository peer = createPeerRepository();
		try {
			LockTemplate here = template(Duration.ofMillis(5), Duration.ofMillis(50));
			LockTemplate there = template(peer, Duration.ofMillis(5), Duration.ofMillis(50));
			try (LockHandle held = there.exclusive(b).acquire()) {
				assertThat(here.exclusive(c, b, a).waitTime(Duration.ofMillis(200)).tryAcquire()).isEmpty();
				assertThat(here.heldLeaseCount()).isZero();
				assertThat(peer.inspect(a)).isEmpty();
				assertThat(peer.inspect(c)).isEmpty();
				Optional<LockHandle> first = there.exclusive(a).waitTime(Duration.ZERO).tryAcquire();
				assertThat(first).isPresent();
				first.get().close();
			}
			try (LockHandle all = here.exclusive(c, a, b).waitTime(Duration.ZERO).acquire()) {
				assertThat(all.leases()).extracting((lease) -> lease.key()).containsExactly(a, b, c);
				for (String key : List.of(a, b, c)) {
					assertThat(peer.inspect(key))
						.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
							.satisfies((holder) -> assertThat(holder.fencingToken()).isEqualTo(all.fencingToken(key))));
					assertThat(there.exclusive(key).waitTime(Duration.ZERO).tryAcquire()).isEmpty();
				}
			}
			for (String key : List.of(a, b, c)) {
				assertThat(peer.inspect(key)).isEmpty();
			}
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void descriptionsOfSeveralKeysTakenInOneAttemptAreSeenFromAnotherInstance() {
		String a = key("described-at-once-a");
		String b = key("described-at-once-b");
		LockRepository peer = createPeerRepository();
		try {
			LeaseSpec first = exclusive(a, "owner-a", LONG_TTL).withDescription("transfer 7 to 9");
			LeaseSpec second = exclusive(b, "owner-a", LONG_TTL);
			List<Long> fencingTokens = this.repository.tryAcquireAll(List.of(first, second));
			assertThat(fencingTokens).hasSize(2);
			assertThat(peer.inspect(a)).hasValueSatisfying((info) -> assertThat(info.holders())
				.extracting(LockInfo.Holder::fencingToken, LockInfo.Holder::description)
				.containsExactly(tuple(fencingTokens.get(0), "transfer 7 to 9")));
			assertThat(peer.inspect(b)).hasValueSatisfying((info) -> assertThat(info.holders())
				.extracting(LockInfo.Holder::fencingToken, LockInfo.Holder::description)
				.containsExactly(tuple(fencingTokens.get(1), null)));
			assertThat(this.repository.release(first)).isTrue();
			assertThat(this.repository.release(second)).isTrue();
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void severalKeysInOneAttemptAreGrantedNoneWhenOneIsHeldElsewhere() {
		String a = key("at-once-refused-a");
		String b = key("at-once-refused-b");
		String c = key("at-once-refused-c");
		String d = key("at-once-refused-d");
		LockRepository peer = createPeerRepository();
		try {
			LeaseSpec held = exclusive(b, "peer", LONG_TTL);
			long heldToken = peer.tryAcquire(held).getAsLong();
			List<LeaseSpec> leases = List.of(exclusive(a, "owner-a", LONG_TTL), exclusive(b, "owner-a", LONG_TTL),
					exclusive(c, "owner-a", LONG_TTL));
			assertThat(this.repository.tryAcquireAll(leases)).isEmpty();
			assertThat(peer.inspect(a)).as("a free key of a refused attempt").isEmpty();
			assertThat(peer.inspect(c)).as("a free key of a refused attempt").isEmpty();
			assertThat(peer.inspect(b)).hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
				.satisfies((holder) -> assertThat(holder.fencingToken()).isEqualTo(heldToken)));
			// The free keys stay free for the others, and the refused tokens hold
			// nothing.
			List<LeaseSpec> others = List.of(exclusive(a, "peer", LONG_TTL), exclusive(c, "peer", LONG_TTL));
			assertThat(peer.tryAcquireAll(others)).hasSize(2);
			assertThat(this.repository.release(leases.get(0))).isFalse();
			assertThat(this.repository.release(leases.get(2))).isFalse();
			assertThat(this.repository.renew(leases))
				.containsExactlyInAnyOrderElementsOf(leases.stream().map(LeaseSpec::token).toList());
			// A key held by a semaphore's permit refuses an exclusive lease as well.
			LeaseSpec permit = semaphore(d, 2, "peer", LONG_TTL);
			assertThat(peer.tryAcquirePermit(permit)).isPresent();
			LeaseSpec free = exclusive(key("at-once-refused-e"), "owner-a", LONG_TTL);
			assertThat(this.repository.tryAcquireAll(List.of(free, exclusive(d, "owner-a", LONG_TTL)))).isEmpty();
			assertThat(peer.inspect(free.key())).isEmpty();
			assertThat(peer.inspect(d))
				.hasValueSatisfying((info) -> assertThat(info.mode()).isEqualTo(LeaseMode.SEMAPHORE));
			for (LeaseSpec lease : List.of(held, others.get(0), others.get(1), permit)) {
				assertThat(peer.release(lease)).isTrue();
			}
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void severalKeysInOneAttemptEachGetTheirOwnRisingFencingToken() {
		String a = key("at-once-tokens-a");
		String b = key("at-once-tokens-b");
		String c = key("at-once-tokens-c");
		LockRepository peer = createPeerRepository();
		try {
			LeaseSpec before = exclusive(a, "peer", LONG_TTL);
			long earlierOfA = peer.tryAcquire(before).getAsLong();
			assertThat(peer.release(before)).isTrue();
			long[] previous = { earlierOfA, 0, 0 };
			for (int round = 0; round < 3; round++) {
				List<LeaseSpec> leases = List.of(exclusive(c, "owner-" + round, LONG_TTL),
						exclusive(a, "owner-" + round, LONG_TTL), exclusive(b, "owner-" + round, LONG_TTL));
				List<Long> tokens = this.repository.tryAcquireAll(leases);
				assertThat(tokens).hasSize(3);
				List<String> keys = List.of(c, a, b);
				for (int i = 0; i < 3; i++) {
					long token = tokens.get(i);
					String key = keys.get(i);
					int slot = List.of(a, b, c).indexOf(key);
					assertThat(token).as("the token of %s, above its previous grant", key)
						.isGreaterThan(previous[slot]);
					previous[slot] = token;
					assertThat(peer.inspect(key)).as("%s, seen from another instance", key)
						.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
							.satisfies((holder) -> assertThat(holder.fencingToken()).isEqualTo(token)));
					assertThat(peer.tryAcquire(exclusive(key, "peer", LONG_TTL))).isEmpty();
				}
				assertThat(this.repository.renew(leases)).isEmpty();
				for (LeaseSpec lease : leases) {
					assertThat(this.repository.release(lease)).isTrue();
				}
			}
			for (String key : List.of(a, b, c)) {
				assertThat(peer.inspect(key)).isEmpty();
			}
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void severalKeysInOneAttemptTakeOverAKeyWhoseLeaseExpired() {
		String a = key("at-once-expired-a");
		String b = key("at-once-expired-b");
		LockRepository peer = createPeerRepository();
		try {
			LeaseSpec expiring = exclusive(b, "peer", shortTtl());
			long expired = peer.tryAcquire(expiring).getAsLong();
			List<LeaseSpec> leases = List.of(exclusive(a, "owner-a", LONG_TTL), exclusive(b, "owner-a", LONG_TTL));
			AtomicReference<List<Long>> granted = new AtomicReference<>(List.of());
			awaitExpiry().until(() -> {
				granted.set(this.repository.tryAcquireAll(leases));
				return !granted.get().isEmpty();
			});
			assertThat(granted.get().get(1)).isGreaterThan(expired);
			assertThat(peer.release(expiring)).isFalse();
			assertThat(peer.inspect(b)).hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
				.satisfies((holder) -> assertThat(holder.owner()).isEqualTo("owner-a")));
			assertThat(peer.renew(List.of(expiring))).containsExactly(expiring.token());
			assertThat(this.repository.renew(leases)).isEmpty();
			for (LeaseSpec lease : leases) {
				assertThat(this.repository.release(lease)).isTrue();
			}
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	@Timeout(120)
	void instancesTakingTwoKeysInOppositeOrdersNeverDeadlockNorOverlap() throws Exception {
		int rounds = multiKeyRounds();
		String a = key("opposite-a");
		String b = key("opposite-b");
		LockRepository peer = createPeerRepository();
		try {
			List<LockTemplate> instances = List.of(template(Duration.ofMillis(1), Duration.ofMillis(20)),
					template(peer, Duration.ofMillis(1), Duration.ofMillis(20)));
			AtomicBoolean occupiedA = new AtomicBoolean();
			AtomicBoolean occupiedB = new AtomicBoolean();
			AtomicInteger overlaps = new AtomicInteger();
			AtomicInteger order = new AtomicInteger();
			int[] counter = { 0 };
			long[][] tokens = new long[2][rounds + 4];
			CountDownLatch start = new CountDownLatch(1);
			List<Future<?>> workers = new ArrayList<>();
			for (LockTemplate instance : instances) {
				for (List<String> keys : List.of(List.of(a, b), List.of(b, a))) {
					workers.add(this.executor.submit(() -> {
						start.await();
						while (order.get() < rounds) {
							// A deadlock would end in LockNotAcquiredException after the
							// wait time, well before the test's timeout.
							instance.exclusive(keys.get(0), keys.get(1)).waitTime(Duration.ofSeconds(20)).run(() -> {
								boolean tookA = occupiedA.compareAndSet(false, true);
								boolean tookB = occupiedB.compareAndSet(false, true);
								if (!tookA || !tookB) {
									overlaps.incrementAndGet();
								}
								int read = counter[0];
								Thread.yield();
								counter[0] = read + 1;
								int round = order.getAndIncrement();
								tokens[0][round] = LockContext.fencingToken(a);
								tokens[1][round] = LockContext.fencingToken(b);
								if (tookB) {
									occupiedB.set(false);
								}
								if (tookA) {
									occupiedA.set(false);
								}
							});
						}
						return null;
					}));
				}
			}
			start.countDown();
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(100);
			for (Future<?> worker : workers) {
				try {
					worker.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
				}
				catch (TimeoutException ex) {
					throw new AssertionError("Only " + order.get() + " of " + rounds + " rounds ran in 100 s; a"
							+ " deadlock would have ended a worker with LockNotAcquiredException instead, so the"
							+ " backend is slower than multiKeyRounds() allows for", ex);
				}
			}
			int granted = order.get();
			int inversions = 0;
			for (long[] keyTokens : tokens) {
				long highest = 0;
				for (int i = 0; i < granted; i++) {
					if (keyTokens[i] <= highest) {
						inversions++;
					}
					highest = Math.max(highest, keyTokens[i]);
				}
			}
			assertThat(granted).isGreaterThanOrEqualTo(rounds);
			assertThat(overlaps.get()).as("rounds run while another holder was inside, of %d rounds", granted).isZero();
			assertThat(inversions).as("fencing tokens not above every earlier one of their key, of %d rounds", granted)
				.isZero();
			assertThat(counter[0]).as("unguarded increments that survived, of %d rounds", granted).isEqualTo(granted);
			assertThat(instances).allSatisfy((instance) -> assertThat(instance.lostLeaseCount()).isZero());
			assertThat(this.repository.inspect(a)).isEmpty();
			assertThat(this.repository.inspect(b)).isEmpty();
		}
		finally {
			destroyRepository(peer);
		}
	}

	@Test
	void leaseReleasedFromAnInterruptedThreadIsFreedAtTheBackendAndTheInterruptIsKept() throws Exception {
		// Work stopped by an interrupt (a cancelled task, a lost lease's interrupt that
		// came late) releases on an interrupted thread; a client that refuses to send
		// from one (Lettuce, jetcd's blocking calls) must not leave the key held for its
		// TTL.
		String key = key("interrupted-release");
		LockTemplate template = template(Duration.ofMillis(10), Duration.ofMillis(200));
		LockRepository peer = createPeerRepository();
		try {
			Future<Boolean> released = this.executor.submit(() -> {
				LockHandle handle = template.exclusive(key).acquire();
				Thread.currentThread().interrupt();
				handle.close();
				return Thread.interrupted();
			});
			assertThat(released.get(30, TimeUnit.SECONDS)).as("the interrupt status is kept").isTrue();
			assertThat(peer.inspect(key)).as("freed at once, seen from another instance").isEmpty();
			assertThat(peer.tryAcquire(exclusive(key, "peer", LONG_TTL))).isPresent();
		}
		finally {
			destroyRepository(peer);
		}
	}

	// Fuzz tests: two templates on one repository stand for two processes

	@Test
	void exclusiveLockMakesAnUnguardedIncrementExact() throws Exception {
		int threads = 8;
		int iterations = 25;
		String key = key("fuzz-exclusive");
		LockTemplate[] processes = { template(Duration.ofMillis(10), Duration.ofMillis(200)),
				template(Duration.ofMillis(10), Duration.ofMillis(200)) };
		int[] counter = { 0 };
		List<Future<?>> workers = new ArrayList<>();
		CountDownLatch start = new CountDownLatch(1);
		for (int t = 0; t < threads; t++) {
			LockTemplate template = processes[t % processes.length];
			workers.add(this.executor.submit(() -> {
				start.await();
				for (int i = 0; i < iterations; i++) {
					template.exclusive(key).waitTime(Duration.ofSeconds(30)).run(() -> {
						int read = counter[0];
						sleep(1);
						counter[0] = read + 1;
					});
				}
				return null;
			}));
		}
		start.countDown();
		for (Future<?> worker : workers) {
			worker.get(50, TimeUnit.SECONDS);
		}
		assertThat(counter[0]).isEqualTo(threads * iterations);
		assertThat(this.repository.inspect(key)).isEmpty();
	}

	@Test
	void semaphoreAdmitsAtMostItsPermitsConcurrently() throws Exception {
		int threads = 8;
		int iterations = 15;
		int permits = 3;
		String key = key("fuzz-semaphore");
		LockTemplate[] processes = { template(Duration.ofMillis(10), Duration.ofMillis(200)),
				template(Duration.ofMillis(10), Duration.ofMillis(200)) };
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger maxInside = new AtomicInteger();
		AtomicInteger ran = new AtomicInteger();
		List<Future<?>> workers = new ArrayList<>();
		CountDownLatch start = new CountDownLatch(1);
		for (int t = 0; t < threads; t++) {
			LockTemplate template = processes[t % processes.length];
			workers.add(this.executor.submit(() -> {
				start.await();
				for (int i = 0; i < iterations; i++) {
					template.semaphore(key, permits).waitTime(Duration.ofSeconds(30)).run(() -> {
						maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
						sleep(5);
						inside.decrementAndGet();
						ran.incrementAndGet();
					});
				}
				return null;
			}));
		}
		start.countDown();
		for (Future<?> worker : workers) {
			worker.get(50, TimeUnit.SECONDS);
		}
		assertThat(ran.get()).isEqualTo(threads * iterations);
		assertThat(maxInside.get()).isLessThanOrEqualTo(permits).isGreaterThan(1);
		assertThat(this.repository.inspect(key)).isEmpty();
	}

	// Helpers

	private LockTemplate template(Duration initialPoll, Duration maxPoll) {
		return template(this.counting, initialPoll, maxPoll);
	}

	private LockTemplate template(LockRepository repository, Duration initialPoll, Duration maxPoll) {
		return template(repository, initialPoll, maxPoll, null);
	}

	private LockTemplate template(LockRepository repository, Duration initialPoll, Duration maxPoll,
			@Nullable LockObserver observer) {
		LockTemplate template = Contracts.template(repository, "contract-" + (this.templates.size() + 1), initialPoll,
				maxPoll, observer);
		this.templates.add(template);
		return template;
	}

	private ConditionFactory awaitExpiry() {
		return Awaitility.await()
			.atMost(shortTtl().multipliedBy(10).plusSeconds(5))
			.pollInterval(Duration.ofMillis(20))
			.pollDelay(Duration.ZERO);
	}

	private static void assertRemainingTtl(LockInfo.Holder holder, Duration ttl) {
		if (holder.remainingTtl() != null) {
			assertThat(holder.remainingTtl()).isPositive().isLessThanOrEqualTo(ttl);
		}
	}

	/**
	 * Skips a read/write test on a backend that says it has no read/write locks (its
	 * {@code tryAcquireShared} throws a {@link LockConfigurationException}).
	 */
	private void assumeReadWriteLocks() {
		String missing = withoutReadWriteLocks();
		if (missing != null) {
			Assumptions.abort(missing);
		}
	}

	/**
	 * Why the backend has no read/write locks (the message of the
	 * {@link LockConfigurationException} its {@code tryAcquireShared} throws), or
	 * {@code null} if it has them.
	 */
	private @Nullable String withoutReadWriteLocks() {
		LeaseSpec probe = reader(key("read-write-probe"), "probe", LONG_TTL);
		try {
			this.repository.tryAcquireShared(probe);
		}
		catch (LockConfigurationException ex) {
			return ex.getMessage();
		}
		this.repository.release(probe);
		return null;
	}

	/**
	 * Skips a test of recorded writer waits on a backend that queues its writers: there
	 * the queue orders writers and readers (see
	 * {@link #queuedWriterKeepsNewSharedHoldersOutOfAQueueingBackend()}). A backend that
	 * queues fair leases only (etcd, memory) records the waits of the others.
	 */
	private void assumeWriterWaits() {
		Assumptions.assumeFalse(
				this.repository instanceof QueueingLockRepository queueing
						&& queueing.queues(exclusive(key("writer-wait"), "writer", LONG_TTL)),
				"A queueing backend's own FIFO queue gives writers their preference");
	}

	/**
	 * Whether a shared lease of the key is granted now; one that is granted is released
	 * at once.
	 */
	private boolean sharedGranted(String key) {
		LeaseSpec probe = reader(key, "probe", LONG_TTL);
		if (this.repository.tryAcquireShared(probe).isPresent()) {
			this.repository.release(probe);
			return true;
		}
		return false;
	}

	private static LeaseSpec reader(String key, String owner, Duration ttl) {
		return LeaseSpec.shared(key, owner, UUID.randomUUID().toString(), ttl);
	}

	/**
	 * Passes everything to the repository under test and counts acquisition attempts, so
	 * a test can tell when a waiter has reached its wait line.
	 * @param repository the repository under test
	 * @return the counting view
	 */
	private LockRepository countingAttempts(LockRepository repository) {
		return (LockRepository) Proxy.newProxyInstance(LockRepository.class.getClassLoader(),
				new Class<?>[] { LockRepository.class }, (proxy, method, arguments) -> {
					try {
						return method.invoke(repository, arguments);
					}
					catch (InvocationTargetException ex) {
						throw ex.getCause();
					}
					finally {
						if (method.getName().startsWith("tryAcquire")) {
							this.attempts.incrementAndGet();
						}
					}
				});
	}

}
