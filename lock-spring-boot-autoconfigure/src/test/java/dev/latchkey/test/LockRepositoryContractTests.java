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

package dev.latchkey.test;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

import org.springframework.core.task.SimpleAsyncTaskExecutor;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockContext;
import dev.latchkey.LockInfo;
import dev.latchkey.LockPermitsConflictException;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.ReleaseSubscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The contract every {@link LockRepository} must pass: the same tests for every backend,
 * so that the core above the SPI (waiting, renewal, reentrancy, the lost-lock contract)
 * behaves the same whichever backend holds the locks.
 * <p>
 * A backend's test class extends this suite and decides nothing but how to make (and, if
 * needed, tear down) its repository:
 *
 * <pre class="code">
 * class RedisLockRepositoryTests extends LockRepositoryContractTests {
 *
 *     &#64;Override
 *     protected LockRepository createRepository() {
 *         return new RedisLockRepository(connectionFactory);
 *     }
 *
 * }
 * </pre>
 * <p>
 * {@link #createRepository()} is called before each test and
 * {@link #destroyRepository(LockRepository)} (which closes a repository that is
 * {@link AutoCloseable}) after it; the tests of several instances on one store make their
 * other instances with {@link #createPeerRepository()}, which calls
 * {@link #createRepository()} again unless the backend keeps its store in the repository
 * itself. Every test uses keys made unique by a random suffix, so a server shared between
 * runs or builds does not disturb the suite and the suite leaves nothing behind that a
 * later run could trip over (leases it does not release expire). A backend whose leases
 * cannot expire as quickly as the default {@link #shortTtl()} (etcd leases count whole
 * seconds, for example) overrides that method. The suite is packaged in this module's
 * test jar.
 */
@Timeout(60)
public abstract class LockRepositoryContractTests {

	private static final Duration LONG_TTL = Duration.ofSeconds(30);

	private LockRepository repository;

	private CountingRepository counting;

	private final List<LockTemplate> templates = new ArrayList<>();

	private final ExecutorService executor = Executors.newCachedThreadPool();

	private final String prefix = "latchkey-contract:" + UUID.randomUUID() + ":";

	/**
	 * Makes the repository under test, called before each test.
	 * @return a new repository
	 */
	protected abstract LockRepository createRepository();

	/**
	 * Makes another repository on the same store as {@link #createRepository()}'s:
	 * another application instance that locks together with it (the same server and
	 * namespace, the same table, the same lock directory). A backend whose store lives in
	 * its repository (the memory backend) answers a view of the repository under test.
	 * The tests that call it destroy what it made with
	 * {@link #destroyRepository(LockRepository)}. By default, another
	 * {@link #createRepository()}: a repository of its own on the same store.
	 * @return a new repository on the store of the repository under test
	 */
	protected LockRepository createPeerRepository() {
		return createRepository();
	}

	/**
	 * Releases what {@link #createRepository()} or {@link #createPeerRepository()} made,
	 * called after each test. By default, closes a repository that is
	 * {@link AutoCloseable}.
	 * @param repository the repository under test
	 */
	protected void destroyRepository(LockRepository repository) {
		if (repository instanceof AutoCloseable closeable) {
			try {
				closeable.close();
			}
			catch (Exception ex) {
				throw new IllegalStateException("Could not close " + repository, ex);
			}
		}
	}

	/**
	 * How many grants of one key the cross-instance test makes, across all its
	 * repositories and threads. The default, 10,000, takes about a minute where every
	 * grant and release waits for a disk flush (PostgreSQL's logged table) and two on a
	 * three-member etcd cluster, on a loaded two-core machine; the test allows ten. A
	 * custom backend that is much slower may return fewer, and should say why.
	 * @return the number of grants
	 */
	protected int crossInstanceGrants() {
		return 10_000;
	}

	/**
	 * The TTL of leases that the tests let expire. The default, 300 ms, suits a backend
	 * that expires leases with millisecond precision; a backend whose leases count
	 * coarser units returns its shortest TTL.
	 * @return the short TTL
	 */
	protected Duration shortTtl() {
		return Duration.ofMillis(300);
	}

	/**
	 * The repository under test.
	 * @return the repository made for the current test
	 */
	protected final LockRepository repository() {
		return this.repository;
	}

	@BeforeEach
	void createRepositoryUnderTest() {
		this.repository = createRepository();
		this.counting = new CountingRepository(this.repository);
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
		LeaseSpec first = shared(key, 2, "owner-a", LONG_TTL);
		LeaseSpec second = shared(key, 2, "owner-b", LONG_TTL);
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
		LeaseSpec heldPermit = shared(key("batch-semaphore"), 2, "owner-a", LONG_TTL);
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
		long previous = this.repository.tryAcquirePermit(shared(key, 2, "owner-kept", LONG_TTL)).getAsLong();
		for (int round = 0; round < 4; round++) {
			LeaseSpec permit = shared(key, 2, "owner-" + round, LONG_TTL);
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
			LeaseSpec permit = shared(key, limit, "owner-" + i, LONG_TTL);
			assertThat(this.repository.tryAcquirePermit(permit)).isPresent();
			permits.add(permit);
		}
		LeaseSpec extra = shared(key, limit, "owner-extra", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(extra)).isEmpty();
		assertThat(this.repository.release(permits.get(1))).isTrue();
		assertThat(this.repository.tryAcquirePermit(extra)).isPresent();
		assertThat(this.repository.tryAcquirePermit(shared(key, limit, "owner-another", LONG_TTL))).isEmpty();
		assertThat(this.repository.inspect(key))
			.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner)
				.containsExactlyInAnyOrder("owner-0", "owner-2", "owner-extra"));
	}

	@Test
	void expiredPermitsFreeUp() {
		String key = key("semaphore-expiry");
		int limit = 2;
		for (int i = 0; i < limit; i++) {
			assertThat(this.repository.tryAcquirePermit(shared(key, limit, "owner-" + i, shortTtl()))).isPresent();
		}
		LeaseSpec waiting = shared(key, limit, "owner-waiting", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(waiting)).isEmpty();
		awaitExpiry().until(() -> this.repository.tryAcquirePermit(waiting).isPresent());
		LeaseSpec second = shared(key, limit, "owner-second", LONG_TTL);
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
		long first = this.repository.tryAcquirePermit(shared(key, 3, "owner-a", LONG_TTL)).getAsLong();
		long second = this.repository.tryAcquirePermit(shared(key, 3, "owner-b", shortTtl())).getAsLong();
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
		LeaseSpec permit = shared(key("list-semaphore"), 2, "owner-a", LONG_TTL);
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

	@Test
	void inspectAndListAreSafeWhileTheKeyChanges() throws Exception {
		String key = key("inspect-concurrently");
		AtomicInteger cycles = new AtomicInteger();
		Future<?> churn = this.executor.submit(() -> {
			while (!Thread.currentThread().isInterrupted()) {
				LeaseSpec first = shared(key, 3, "owner-a", LONG_TTL);
				LeaseSpec second = shared(key, 3, "owner-b", LONG_TTL);
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
		awaitExpiry().until(() -> this.counting.attempts.get() >= 2);
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
		awaitExpiry().until(() -> this.counting.attempts.get() >= threads);
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
		LeaseSpec permit = shared(key, 2, "owner-b", LONG_TTL);
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
		assertThat(this.repository.tryAcquirePermit(shared(key, 2, "owner-a", shortTtl()))).isPresent();
		LeaseSpec exclusive = exclusive(key, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquire(exclusive)).isEmpty();
		awaitExpiry().until(() -> this.repository.tryAcquire(exclusive).isPresent());
		assertThat(this.repository.tryAcquirePermit(shared(key, 2, "owner-c", LONG_TTL))).isEmpty();
	}

	@Test
	void permitWithAnotherLimitThanTheHoldersIsRefusedWithAConflict() {
		String key = key("limits");
		LeaseSpec single = shared(key, 1, "owner-a", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(single)).isPresent();
		assertThatExceptionOfType(LockPermitsConflictException.class)
			.isThrownBy(() -> this.repository.tryAcquirePermit(shared(key, 5, "owner-b", LONG_TTL)))
			.satisfies((ex) -> {
				assertThat(ex.getKey()).isEqualTo(key);
				assertThat(ex.getRequestedPermits()).isEqualTo(5);
				assertThat(ex.getHeldPermits()).isEqualTo(1);
				assertThat(ex.getMessage()).contains(key, "5", "1", "permits");
			});
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.permits()).isOne();
			assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-a");
		});
		assertThat(this.repository.release(single)).isTrue();
		// The limit is fixed only while the key is held.
		LeaseSpec five = shared(key, 5, "owner-b", LONG_TTL);
		assertThat(this.repository.tryAcquirePermit(five)).isPresent();
		assertThatExceptionOfType(LockPermitsConflictException.class)
			.isThrownBy(() -> this.repository.tryAcquirePermit(shared(key, 1, "owner-c", LONG_TTL)))
			.satisfies((ex) -> assertThat(ex.getHeldPermits()).isEqualTo(5));
		assertThat(this.repository.tryAcquirePermit(shared(key, 5, "owner-d", LONG_TTL))).isPresent();
		// Surfaced unchanged by the template.
		LockTemplate template = template(Duration.ofMillis(10), Duration.ofMillis(100));
		assertThatExceptionOfType(LockPermitsConflictException.class)
			.isThrownBy(() -> template.semaphore(key, 2).waitTime(Duration.ofSeconds(1)).tryRun(() -> {
			}));
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
		assertThat(this.repository.tryAcquirePermit(shared(key, 2, "owner-c", LONG_TTL))).isEmpty();
		assertThat(this.repository.release(reader)).isTrue();
		assertThat(this.repository.tryAcquire(writer)).isPresent();
		assertThat(this.repository.tryAcquireShared(reader(key, "owner-d", LONG_TTL))).isEmpty();
		assertThat(this.repository.inspect(key)).hasValueSatisfying((info) -> {
			assertThat(info.mode()).isEqualTo(LeaseMode.EXCLUSIVE);
			assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("owner-b");
		});
		assertThat(this.repository.release(writer)).isTrue();
		// A semaphore's key is not shared with readers either.
		LeaseSpec permit = shared(key, 2, "owner-e", LONG_TTL);
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
		Assumptions.assumeTrue(this.repository instanceof QueueingLockRepository,
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
		// writer
		// came first.
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
		int grants = Math.max(1_000, crossInstanceGrants() / 4);
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
								if (token <= highestToken.get()) {
									inversions.incrementAndGet();
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
								if (token <= highestWriterToken.get()) {
									inversions.incrementAndGet();
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
				.as("grants whose fencing token was not above every earlier conflicting grant's, of %d grants",
						granted.get())
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

	@Test
	@Timeout(600)
	void repositoriesOnOneStoreGrantAKeyToOneHolderAtATimeWithRisingFencingTokens() throws Exception {
		int instances = 4;
		int threadsPerInstance = 2;
		int grants = crossInstanceGrants();
		String key = key("cross-instance");
		List<LockRepository> peers = new ArrayList<>();
		List<LockTemplate> templates = new ArrayList<>();
		templates.add(template(this.repository, Duration.ofMillis(1), Duration.ofMillis(20)));
		try {
			for (int i = 1; i < instances; i++) {
				LockRepository peer = createPeerRepository();
				peers.add(peer);
				templates.add(template(peer, Duration.ofMillis(1), Duration.ofMillis(20)));
			}
			AtomicBoolean occupied = new AtomicBoolean();
			AtomicInteger overlaps = new AtomicInteger();
			AtomicInteger order = new AtomicInteger();
			int[] counter = { 0 };
			long[] tokens = new long[grants + instances * threadsPerInstance];
			CountDownLatch start = new CountDownLatch(1);
			List<Future<?>> workers = new ArrayList<>();
			for (LockTemplate template : templates) {
				for (int t = 0; t < threadsPerInstance; t++) {
					workers.add(this.executor.submit(() -> {
						start.await();
						while (order.get() < grants) {
							template.exclusive(key).waitTime(Duration.ofSeconds(60)).run(() -> {
								if (!occupied.compareAndSet(false, true)) {
									overlaps.incrementAndGet();
								}
								int read = counter[0];
								Thread.yield();
								counter[0] = read + 1;
								tokens[order.getAndIncrement()] = LockContext.fencingToken();
								occupied.set(false);
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
			int granted = order.get();
			int inversions = 0;
			long highest = 0;
			for (int i = 0; i < granted; i++) {
				if (tokens[i] <= highest) {
					inversions++;
				}
				highest = Math.max(highest, tokens[i]);
			}
			assertThat(granted).isGreaterThanOrEqualTo(grants);
			assertThat(overlaps.get()).as("grants made while another holder was inside, of %d grants", granted)
				.isZero();
			assertThat(inversions)
				.as("grants whose fencing token was not above every earlier grant's, of %d grants", granted)
				.isZero();
			assertThat(counter[0]).as("unguarded increments that survived, of %d grants", granted).isEqualTo(granted);
			assertThat(templates).allSatisfy((template) -> assertThat(template.lostLeaseCount()).isZero());
			assertThat(this.repository.inspect(key)).isEmpty();
		}
		finally {
			templates.forEach(LockTemplate::close);
			peers.forEach(this::destroyRepository);
		}
	}

	// Virtual threads (JDK 21 and later; scripts/test.sh runs them on JDK 25 after the
	// build)

	@Test
	@EnabledForJreRange(min = JRE.JAVA_21)
	@Timeout(300)
	void virtualThreadsOfSeveralInstancesHoldAndWaitForAKeyWithoutPinningTheirCarriers() throws Exception {
		int instances = 2;
		int threadsPerInstance = 50;
		int grants = 2_000;
		String key = key("virtual");
		List<LockRepository> peers = new ArrayList<>();
		List<LockTemplate> templates = new ArrayList<>();
		templates.add(template(this.repository, Duration.ofMillis(1), Duration.ofMillis(20)));
		SimpleAsyncTaskExecutor virtualThreads = new SimpleAsyncTaskExecutor("contract-virtual-");
		virtualThreads.setVirtualThreads(true);
		Path events = Files.createTempFile("latchkey-pinning-", ".jfr");
		try (Recording recording = new Recording()) {
			recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
			for (int i = 1; i < instances; i++) {
				LockRepository peer = createPeerRepository();
				peers.add(peer);
				templates.add(template(peer, Duration.ofMillis(1), Duration.ofMillis(20)));
			}
			// A warm-up runs every path once before the recording (a grant, and the
			// release
			// subscription that waiting opens): the JDK pins a virtual thread while it
			// links
			// a call site or loads a class, once per site, whoever's code it is.
			for (LockTemplate template : templates) {
				virtualThreads.submit(() -> template.exclusive(key).run(LockContext::assertHeld))
					.get(60, TimeUnit.SECONDS);
			}
			List<LockRepository> instancesRepositories = new ArrayList<>(peers);
			instancesRepositories.add(this.repository);
			for (LockRepository each : instancesRepositories) {
				virtualThreads.submit(() -> {
					try (ReleaseSubscription subscription = each.subscribe(key, () -> {
					})) {
						return subscription;
					}
				}).get(60, TimeUnit.SECONDS);
			}
			AtomicBoolean occupied = new AtomicBoolean();
			AtomicInteger overlaps = new AtomicInteger();
			AtomicInteger granted = new AtomicInteger();
			AtomicInteger platformThreads = new AtomicInteger();
			Method isVirtual = Thread.class.getMethod("isVirtual");
			recording.start();
			List<Future<?>> workers = new ArrayList<>();
			for (LockTemplate template : templates) {
				for (int t = 0; t < threadsPerInstance; t++) {
					workers.add(virtualThreads.submit(() -> {
						if (!(boolean) isVirtual.invoke(Thread.currentThread())) {
							platformThreads.incrementAndGet();
						}
						while (granted.get() < grants) {
							template.exclusive(key).waitTime(Duration.ofSeconds(60)).run(() -> {
								if (!occupied.compareAndSet(false, true)) {
									overlaps.incrementAndGet();
								}
								granted.incrementAndGet();
								LockContext.assertHeld();
								occupied.set(false);
							});
						}
						return null;
					}));
				}
			}
			for (Future<?> worker : workers) {
				worker.get(280, TimeUnit.SECONDS);
			}
			recording.stop();
			recording.dump(events);
			List<RecordedEvent> pinned = RecordingFile.readAllEvents(events);
			// The JDK still pins a virtual thread while a class loads or initializes
			// (JEP 491), once per class, whoever's code asked for it: the warm-up above
			// loaded most of them. A pin inside a client library (Lettuce records JFR
			// events of its own while it connects) is the library's.
			List<String> ours = pinned.stream()
				.map(RecordedEvent::getStackTrace)
				.filter((trace) -> trace != null && !loadsAClass(trace) && pinnedByLatchkey(trace))
				.map((trace) -> trace.getFrames()
					.stream()
					.limit(12)
					.map((frame) -> frame.getMethod().getType().getName() + "." + frame.getMethod().getName())
					.collect(Collectors.joining(" < ")))
				.toList();
			assertThat(platformThreads.get()).as("workers that did not run on a virtual thread").isZero();
			assertThat(overlaps.get()).as("grants made while another holder was inside").isZero();
			assertThat(templates).allSatisfy((template) -> assertThat(template.lostLeaseCount()).isZero());
			assertThat(ours)
				.as("carriers pinned (jdk.VirtualThreadPinned) in Latchkey's code, of %d pinning events in" + " all",
						pinned.size())
				.isEmpty();
		}
		finally {
			Files.deleteIfExists(events);
			templates.forEach(LockTemplate::close);
			peers.forEach(this::destroyRepository);
		}
	}

	private static boolean pinnedByLatchkey(RecordedStackTrace trace) {
		return trace.getFrames()
			.stream()
			.map((frame) -> frame.getMethod().getType().getName())
			.filter((type) -> !type.startsWith("java.") && !type.startsWith("jdk.") && !type.startsWith("sun."))
			.findFirst()
			.filter((type) -> type.startsWith("dev.latchkey."))
			.isPresent();
	}

	private static boolean loadsAClass(RecordedStackTrace trace) {
		return trace.getFrames().stream().anyMatch((frame) -> {
			String method = frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
			return method.startsWith("java.lang.ClassLoader.loadClass")
					|| "jdk.internal.loader.BuiltinClassLoader.loadClassOrNull".equals(method)
					|| "jdk.internal.misc.Unsafe.ensureClassInitialized0".equals(method);
		});
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

	/**
	 * A key unique to this test run.
	 * @param name a readable part
	 * @return the key
	 */
	protected final String key(String name) {
		return this.prefix + name;
	}

	private LockTemplate template(Duration initialPoll, Duration maxPoll) {
		return template(this.counting, initialPoll, maxPoll);
	}

	private LockTemplate template(LockRepository repository, Duration initialPoll, Duration maxPoll) {
		LockSettings settings = new LockSettings(LONG_TTL, Duration.ZERO, null, Duration.ofMillis(100), "", 512,
				"contract-" + (this.templates.size() + 1), initialPoll, maxPoll);
		LockTemplate template = new LockTemplate(repository, settings, null);
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

	private static LeaseSpec exclusive(String key, String owner, Duration ttl) {
		return LeaseSpec.exclusive(key, owner, UUID.randomUUID().toString(), ttl);
	}

	private static LeaseSpec shared(String key, int limit, String owner, Duration ttl) {
		return LeaseSpec.semaphore(key, limit, owner, UUID.randomUUID().toString(), ttl);
	}

	/**
	 * Skips a read/write test on a backend that says it has no read/write locks (its
	 * {@code tryAcquireShared} throws a {@link LockConfigurationException}).
	 */
	private void assumeReadWriteLocks() {
		LeaseSpec probe = reader(key("read-write-probe"), "probe", LONG_TTL);
		try {
			this.repository.tryAcquireShared(probe);
		}
		catch (LockConfigurationException ex) {
			Assumptions.abort(ex.getMessage());
		}
		this.repository.release(probe);
	}

	/**
	 * Skips a test of recorded writer waits on a backend that keeps its own queue: there
	 * the queue orders writers and readers (see
	 * {@link #queuedWriterKeepsNewSharedHoldersOutOfAQueueingBackend()}).
	 */
	private void assumeWriterWaits() {
		Assumptions.assumeFalse(this.repository instanceof QueueingLockRepository,
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

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * Passes everything to the repository under test and counts acquisition attempts, so
	 * a test can tell when a waiter has reached its wait line.
	 */
	private static final class CountingRepository extends ForwardingLockRepository {

		final AtomicInteger attempts = new AtomicInteger();

		CountingRepository(LockRepository delegate) {
			super(delegate);
		}

		@Override
		public OptionalLong tryAcquire(LeaseSpec lease) {
			try {
				return delegate().tryAcquire(lease);
			}
			finally {
				this.attempts.incrementAndGet();
			}
		}

		@Override
		public OptionalLong tryAcquirePermit(LeaseSpec lease) {
			try {
				return delegate().tryAcquirePermit(lease);
			}
			finally {
				this.attempts.incrementAndGet();
			}
		}

		@Override
		public OptionalLong tryAcquireShared(LeaseSpec lease) {
			try {
				return delegate().tryAcquireShared(lease);
			}
			finally {
				this.attempts.incrementAndGet();
			}
		}

		@Override
		public OptionalLong tryAcquireWaiting(LeaseSpec lease) {
			try {
				return delegate().tryAcquireWaiting(lease);
			}
			finally {
				this.attempts.incrementAndGet();
			}
		}

	}

}
