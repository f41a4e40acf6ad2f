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

package dev.latchkey;

import java.lang.reflect.UndeclaredThrowableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.util.Assert;

import dev.latchkey.annotation.LostPolicy;

/**
 * Programmatic locking, and the engine behind {@code @Exclusive}, {@code @Shared} and
 * {@code @Semaphore}: waiting, renewal, reentrancy and the lost-lock contract, the same
 * for every backend.
 *
 * <pre class="code">
 * &#64;Service
 * class Payments {
 *
 *     private final LockTemplate locks;
 *
 *     Payments(LockTemplate locks) {
 *         this.locks = locks;
 *     }
 *
 *     Receipt pay(long orderId) {
 *         return locks.exclusive("order:" + orderId).named("order").call(() -&gt; charge(orderId));
 *     }
 *
 *     void rebuildReports() {
 *         try (LockHandle permit = locks.semaphore("reports", 4).waitTime(Duration.ofMinutes(1)).acquire()) {
 *             reports.rebuild(permit.fencingToken());
 *         }
 *     }
 * }
 * </pre>
 * <p>
 * Spring Boot creates one for the configured backend, with a {@link LockObserver} that
 * publishes Latchkey's application events
 * ({@code dev.latchkey.event.EventPublishingLockObserver}). A template renews its leases
 * on threads of its own unless it is given a {@link TaskScheduler}: {@link #close()} it
 * when done.
 *
 * @since 0.1.0
 */
public class LockTemplate implements AutoCloseable {

	// Log lines at INFO, WARN and ERROR here and in the engine (LeaseLifecycle,
	// LockWaiter,
	// OrphanedLeaseReleaser) and the backends name a lock by its name, never its key,
	// which is made of method arguments and may be personal data; DEBUG and TRACE lines
	// may name keys, to trace one while debugging.
	private static final LogAccessor logger = new LogAccessor(LockTemplate.class);

	private final LockRepository repository;

	private final LockSettings settings;

	// The renewal interval of leases of the default TTL, made once rather than for every
	// lease (a lease keeps it while held).
	private final Duration defaultRenewInterval;

	private final OwnerIdentity identity;

	private final LeaseKeeper keeper;

	private final LockWaiter waiter;

	private final LeaseLifecycle lifecycle;

	private final OrphanedLeaseReleaser orphans;

	private final @Nullable LockObserver observer;

	// The repository's attempts, one function per kind, made once rather than on every
	// acquisition.
	private final Function<LeaseSpec, OptionalLong> tryExclusive;

	private final Function<LeaseSpec, OptionalLong> tryExclusiveWaiting;

	private final Function<LeaseSpec, OptionalLong> tryPermit;

	private final Function<LeaseSpec, OptionalLong> tryShared;

	/**
	 * Creates a template that publishes nothing.
	 *
	 * <pre class="code">
	 * LockTemplate locks = new LockTemplate(new MemoryLockRepository(), LockSettings.defaults());
	 * </pre>
	 * @param repository the backend
	 * @param settings the defaults
	 */
	public LockTemplate(LockRepository repository, LockSettings settings) {
		this(repository, settings, null, null);
	}

	/**
	 * Creates a template whose acquisitions and holds are observed: published as
	 * application events, measured as Micrometer observations, or both.
	 *
	 * <pre class="code">
	 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults(),
	 *         LockObserver.composite(new ObservationLockObserver(observationRegistry),
	 *                 new EventPublishingLockObserver(applicationEventPublisher)));
	 * </pre>
	 * @param repository the backend
	 * @param settings the defaults
	 * @param observer what observes acquisitions and holds, or {@code null} for nothing
	 */
	public LockTemplate(LockRepository repository, LockSettings settings, @Nullable LockObserver observer) {
		this(repository, settings, observer, null);
	}

	/**
	 * Creates a template whose leases are renewed on the application's scheduler rather
	 * than on two threads of the template's own.
	 *
	 * <pre class="code">
	 * ThreadPoolTaskScheduler renewals = new ThreadPoolTaskScheduler();
	 * renewals.setPoolSize(2);
	 * renewals.setThreadNamePrefix("lease-renewal-");
	 * renewals.initialize();
	 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults(), observer, renewals);
	 * </pre>
	 * <p>
	 * The scheduler must run two tasks at once (a {@code ThreadPoolTaskScheduler} of two
	 * threads or more, or a {@code SimpleAsyncTaskScheduler}): while a renewal hangs
	 * against a paused server, leases must still be lost at their deadlines. Closing the
	 * template cancels what it scheduled; it does not shut the scheduler down, whose
	 * owner does.
	 * @param repository the backend
	 * @param settings the defaults
	 * @param observer what observes acquisitions and holds, or {@code null} for nothing
	 * @param renewalScheduler where leases are renewed, or {@code null} for two threads
	 * of the template's own
	 */
	public LockTemplate(LockRepository repository, LockSettings settings, @Nullable LockObserver observer,
			@Nullable TaskScheduler renewalScheduler) {
		this(repository, settings, observer, renewalScheduler, null);
	}

	/**
	 * Creates a template whose own threads come from the application's thread factory:
	 * the thread that gives back the leases of acquisitions whose answer was lost, and,
	 * without a renewal scheduler, the lease keeper's two.
	 *
	 * <pre class="code">
	 * ThreadFactory threads = new CustomizableThreadFactory("locks-");
	 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults(), observer, renewals, threads);
	 * </pre>
	 * <p>
	 * The releases never run on the renewal scheduler: one that hangs against a paused
	 * server must not delay renewals, nor losses at their deadlines. {@link #close()}
	 * stops every thread the template started.
	 * @param repository the backend
	 * @param settings the defaults
	 * @param observer what observes acquisitions and holds, or {@code null} for nothing
	 * @param renewalScheduler where leases are renewed, or {@code null} for two threads
	 * of the template's own
	 * @param threadFactory makes the threads the template starts, or {@code null} for
	 * daemon threads named {@code latchkey-lease-keeper-*} and
	 * {@code latchkey-orphan-release-*}
	 */
	public LockTemplate(LockRepository repository, LockSettings settings, @Nullable LockObserver observer,
			@Nullable TaskScheduler renewalScheduler, @Nullable ThreadFactory threadFactory) {
		Assert.notNull(repository, "LockRepository must not be null");
		Assert.notNull(settings, "LockSettings must not be null");
		settings.checkTtl(settings.ttl());
		this.repository = repository;
		this.settings = settings;
		this.defaultRenewInterval = settings.renewIntervalFor(settings.ttl());
		this.identity = new OwnerIdentity(settings.owner());
		this.keeper = new LeaseKeeper(repository, renewalScheduler, threadFactory);
		this.waiter = new LockWaiter(settings.initialPollInterval(), settings.maxPollInterval());
		this.orphans = new OrphanedLeaseReleaser(repository, this.waiter::released, threadFactory);
		this.lifecycle = new LeaseLifecycle(repository, settings, this.keeper, this.waiter, this.orphans);
		this.observer = observer;
		this.tryExclusive = repository::tryAcquire;
		this.tryExclusiveWaiting = repository::tryAcquireWaiting;
		this.tryPermit = repository::tryAcquirePermit;
		this.tryShared = repository::tryAcquireShared;
	}

	/**
	 * An exclusive lock on a key: one holder at a time.
	 * @param key the key; the configured prefix is put before it
	 * @return the operation, to configure and run
	 * @see #exclusive(String, String...)
	 */
	public LockOperation exclusive(String key) {
		return new LockOperation(this, List.of(key), LeaseMode.EXCLUSIVE, 1);
	}

	/**
	 * An exclusive lock on several keys at once: one holder at a time.
	 *
	 * <pre class="code">
	 * locks.exclusive("account:" + from, "account:" + to).run(() -&gt; ledger.transfer(from, to, cents));
	 * </pre>
	 * <p>
	 * Several keys are taken all or none within the one wait time. The first attempt asks
	 * for all of them at once ({@link LockRepository#tryAcquireAll}, one round trip on
	 * the backends that can). If it is refused, they are taken one after the other in a
	 * canonical order, that of their full keys (prefix included) as strings, whatever the
	 * order they are given in, so that two calls that name the same keys in opposite
	 * orders never wait for each other; a key given twice counts once. If one stays held
	 * elsewhere for the rest of the wait time, the keys already taken are released (and
	 * the {@link LockNotAcquiredException} names that key). Each key's lease has its own
	 * fencing token ({@link LockHandle#fencingToken(String)},
	 * {@link LockContext#fencingToken(String)}); losing any of them loses the lock (the
	 * others are then given up as well, and the lost policy acts once); releasing
	 * releases them all.
	 * <p>
	 * A key the current call chain holds already is re-entered, the others are acquired.
	 * The canonical order only protects keys taken in one call: take every key in the
	 * outermost call rather than adding keys in nested calls, which may wait for each
	 * other until their wait time ends.
	 * @param key the key; the configured prefix is put before it
	 * @param moreKeys further keys to hold together with the first; none makes
	 * {@link #exclusive(String)}
	 * @return the operation, to configure and run
	 */
	public LockOperation exclusive(String key, String... moreKeys) {
		if (moreKeys.length == 0) {
			return exclusive(key);
		}
		List<String> keys = new ArrayList<>(1 + moreKeys.length);
		keys.add(key);
		keys.addAll(Arrays.asList(moreKeys));
		return new LockOperation(this, List.copyOf(keys), LeaseMode.EXCLUSIVE, 1);
	}

	/**
	 * A permit of a counting semaphore: up to {@code permits} holders at a time.
	 * @param key the key; the configured prefix is put before it
	 * @param permits the number of permits
	 * @return the operation, to configure and run
	 */
	public LockOperation semaphore(String key, int permits) {
		Assert.isTrue(permits >= 1, () -> "A semaphore needs at least one permit, was " + permits);
		return new LockOperation(this, List.of(key), LeaseMode.SEMAPHORE, permits);
	}

	/**
	 * A shared lock on a key: the read side of a read/write lock whose write side is
	 * {@link #exclusive(String)} on the same key. Any number of shared holders at once,
	 * none while an exclusive holder has the key. Writers are preferred: once an
	 * exclusive caller waits for the key, new shared callers wait behind it.
	 *
	 * <pre class="code">
	 * Document read = locks.shared("doc:" + id).call(() -&gt; documents.find(id));
	 * locks.exclusive("doc:" + id).run(() -&gt; documents.save(id, text));
	 * </pre>
	 * <p>
	 * A thread that holds the exclusive lock may take the shared one too (it reenters the
	 * exclusive lease); a thread that holds the shared lock cannot upgrade it to the
	 * exclusive one, which would wait for itself until its wait time ran out.
	 * @param key the key; the configured prefix is put before it
	 * @return the operation, to configure and run
	 * @throws LockConfigurationException when run, if the backend has no read/write locks
	 */
	public LockOperation shared(String key) {
		return new LockOperation(this, List.of(key), LeaseMode.SHARED, 1);
	}

	/**
	 * The backend.
	 * @return the lock repository
	 */
	public LockRepository repository() {
		return this.repository;
	}

	/**
	 * Whether this template's backend serves fair locks of a mode strictly first come,
	 * first served across instances: the socket backend for every mode, the etcd backend
	 * for exclusive locks, the memory backend (within its JVM) for exclusive locks. Redis
	 * and JDBC keep no queue, and answer {@code false}.
	 *
	 * <pre class="code">
	 * LockOperation ledger = locks.exclusive("ledger").fair(locks.isFair(LeaseMode.EXCLUSIVE));
	 * </pre>
	 * @param mode the lease mode
	 * @return whether a fair lock of the mode is honoured
	 */
	public boolean isFair(LeaseMode mode) {
		return this.repository instanceof QueueingLockRepository queueing && queueing.isFair(mode);
	}

	/**
	 * Fails, with a {@link LockConfigurationException} that names the setting, the
	 * backend and the backends that honour fairness, unless fair locks of the mode are
	 * honoured ({@link #isFair(LeaseMode)}). The annotations' parser calls it at startup
	 * for each {@code @Exclusive(fair = true)} method, and the auto-configuration for
	 * {@code latchkey.fair=true}.
	 *
	 * <pre class="code">
	 * locks.checkFair(LeaseMode.EXCLUSIVE, "latchkey.fair=true");
	 * </pre>
	 * @param mode the lease mode
	 * @param setting what asked for fairness, as the message names it, for example
	 * {@code "@Exclusive(fair = true) on OrderService.pay"}
	 * @throws LockConfigurationException if the backend does not honour fair locks of the
	 * mode
	 */
	public void checkFair(LeaseMode mode, String setting) {
		if (!isFair(mode)) {
			throw new LockConfigurationException(
					setting + " asks for a fair " + mode.name().toLowerCase(Locale.ROOT) + " lock, but the "
							+ this.repository.backend() + " backend keeps no queue of waiters to serve "
							+ ((mode == LeaseMode.EXCLUSIVE) ? "it" : "that mode") + " in order",
					"Fair locks are honoured by the socket backend (every mode), the etcd and Redis backends"
							+ " (exclusive locks) and the memory backend (exclusive locks, within one JVM); remove "
							+ setting + " or use one of those backends");
		}
	}

	/**
	 * Whether an operation is fair: as it says, else as the settings say for an exclusive
	 * lock; checked against the backend.
	 */
	private boolean fair(LockOperation operation) {
		Boolean asked = operation.fair();
		if (asked == null) {
			if (operation.mode() != LeaseMode.EXCLUSIVE || !this.settings.fair()) {
				return false;
			}
			checkFair(LeaseMode.EXCLUSIVE, "latchkey.fair=true");
			return true;
		}
		if (asked) {
			checkFair(operation.mode(), "LockOperation.fair(true)");
		}
		return asked;
	}

	/**
	 * The defaults this template applies.
	 * @return the settings
	 */
	public LockSettings settings() {
		return this.settings;
	}

	/**
	 * The number of leases this template holds and renews.
	 * @return the number of held leases
	 */
	public int heldLeaseCount() {
		return this.keeper.size();
	}

	/**
	 * The leases this template holds and renews, ordered by key; for operations tools
	 * such as the {@code locks} endpoint.
	 *
	 * <pre class="code">
	 * locks.heldLeases().forEach((lease) -&gt; log.info(lease.key() + " held for " + lease.heldFor()));
	 * </pre>
	 * @return a snapshot of the held leases
	 */
	public List<Lease> heldLeases() {
		List<Lease> leases = new ArrayList<>();
		for (LeaseKeeper.KeptLease kept : this.keeper.leases()) {
			if (kept instanceof Lease lease) {
				leases.add(lease);
			}
		}
		leases.sort(Comparator.comparing(Lease::key));
		return leases;
	}

	/**
	 * The number of this process's callers waiting for a key through this template (those
	 * that found it held and wait for it now); for operations tools such as the
	 * {@code locks} endpoint.
	 *
	 * <pre class="code">
	 * int queued = locks.waiterCount("order:42");
	 * </pre>
	 * @param key the full lock key, prefix included, as {@link Lease#key()} shows it
	 * @return the number of local waiters, 0 when none
	 */
	public int waiterCount(String key) {
		return this.waiter.waiting(key);
	}

	/**
	 * What the backend knows of a key now, across every instance, without taking
	 * anything: its mode, its permits and its holders.
	 *
	 * <pre class="code">
	 * locks.inspect("order:42").ifPresent((info) -&gt; log.info(info.holders().size() + " holder(s)"));
	 * </pre>
	 * @param key the key, as given to {@link #exclusive(String)} or
	 * {@link #semaphore(String, int)}; the configured prefix is put before it
	 * @return the key's holders, or empty when nobody holds it
	 * @throws LockKeyException if the key is not a valid key
	 * @throws LockBackendException if the backend failed
	 */
	public Optional<LockInfo> inspect(String key) {
		return this.repository.inspect(fullKey(key));
	}

	/**
	 * How many permits of a semaphore are free now, across every instance, as the backend
	 * sees them; nothing is taken, so the answer may be out of date as soon as it is
	 * given. A key nobody holds has all its permits free; a key held exclusively has
	 * none; a key whose holders fixed another number of permits answers with theirs.
	 *
	 * <pre class="code">
	 * if (locks.freePermits("reports", 4) == 0) {
	 *     log.info("every report slot is taken");
	 * }
	 * </pre>
	 * @param key the key, as given to {@link #semaphore(String, int)}
	 * @param permits the semaphore's number of permits
	 * @return the free permits, from 0 to the number of permits
	 * @throws LockKeyException if the key is not a valid key
	 * @throws LockBackendException if the backend failed
	 */
	public int freePermits(String key, int permits) {
		Assert.isTrue(permits >= 1, () -> "A semaphore needs at least one permit, was " + permits);
		return inspect(key).map((info) -> (info.mode() == LeaseMode.SEMAPHORE) ? info.freePermits() : 0)
			.orElse(permits);
	}

	/**
	 * How many requests wait for a key now, across every instance, where the backend can
	 * tell ({@link LockRepository#waiters(String)}: the socket backend); callers of this
	 * instance alone are counted by {@link #waiterCount(String)}.
	 *
	 * <pre class="code">
	 * locks.waiters("order:42").ifPresent((n) -&gt; log.info(n + " waiting across instances"));
	 * </pre>
	 * @param key the key, as given to {@link #exclusive(String)} or
	 * {@link #semaphore(String, int)}
	 * @return the number of waiters, or empty when the backend cannot tell
	 * @throws LockKeyException if the key is not a valid key
	 * @throws LockBackendException if the backend failed
	 */
	public OptionalInt waiters(String key) {
		return this.repository.waiters(fullKey(key));
	}

	/**
	 * The number of leases this template has lost since it was created: not renewed in
	 * time, taken by another owner, or expired before their release.
	 *
	 * <pre class="code">
	 * if (locks.lostLeaseCount() &gt; 0) {
	 *     log.warn("Leases were lost; see the LockLostEvents");
	 * }
	 * </pre>
	 * @return the number of lost leases
	 */
	public long lostLeaseCount() {
		return this.lifecycle.lostLeaseCount();
	}

	/**
	 * How long ago the last renewal that the backend answered was sent: the renewal lag
	 * while leases are held.
	 *
	 * <pre class="code">
	 * Duration lag = locks.timeSinceLastRenewal().orElse(Duration.ZERO);
	 * </pre>
	 * @return the time since the last answered renewal, or empty when nothing has been
	 * renewed yet
	 */
	public Optional<Duration> timeSinceLastRenewal() {
		return this.keeper.timeSinceLastRenewal();
	}

	/**
	 * Stops renewing; leases still held expire at the backend, and so do lost leases and
	 * those of failed acquisitions not yet given back.
	 */
	@Override
	public void close() {
		this.keeper.close();
		this.orphans.close();
	}

	// Acquisition

	@Nullable LockHandle acquire(LockOperation operation, boolean throwOnContention) {
		if (operation.keys().size() > 1) {
			return acquireAll(operation, throwOnContention);
		}
		return acquire(operation, throwOnContention, null);
	}

	/**
	 * Acquires one key; with the observation of the acquisition when one was started
	 * already (by the first attempt at a lock of several keys).
	 */
	private @Nullable LockHandle acquire(LockOperation operation, boolean throwOnContention,
			LockObserver.@Nullable Acquisition started) {
		String key = fullKey(operation.key());
		DefaultLease reentered = reentered(key, operation.mode());
		if (reentered != null) {
			reentered.assertValid();
			return new LockHandle(reentered, true, Duration.ZERO);
		}
		Duration ttl = ttl(operation);
		Duration maxHold = maxHold(operation);
		Duration waitTime = (operation.waitTime() != null) ? operation.waitTime() : this.settings.waitTime();
		LeaseSpec spec = new LeaseSpec(key, operation.mode(), operation.permits(), this.identity.owner(),
				this.identity.nextToken(), ttl, operation.description(), fair(operation));
		// An exclusive caller that will wait records its wait, so that new shared holders
		// wait behind it (writer preference); it withdraws it if it gives up.
		boolean writerWaits = spec.mode() == LeaseMode.EXCLUSIVE && waitTime.compareTo(Duration.ZERO) > 0;
		Function<LeaseSpec, OptionalLong> attempt = switch (spec.mode()) {
			case EXCLUSIVE -> writerWaits ? this.tryExclusiveWaiting : this.tryExclusive;
			case SEMAPHORE -> this.tryPermit;
			case SHARED -> this.tryShared;
		};
		LockObserver.@Nullable Acquisition observation = (started != null) ? started
				: (this.observer != null) ? observeAcquisition(operation.name(), spec) : null;
		// How messages and logs name the lock: its name, and its key only when
		// latchkey.show-keys-in-messages is on.
		String described = this.settings.describe(operation.name(), key);
		LockWaiter.Grant grant = null;
		try {
			grant = this.waiter.acquire(this.repository, spec, described, attempt, waitTime,
					ttl.minus(this.settings.safetyMarginFor(ttl)));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			notAcquired(observation);
			throw new LockNotAcquiredException(key, operation.name(), described, waitTime, ex);
		}
		catch (LockBackendException ex) {
			releaseOrphan(spec, described);
			throw acquireFailed(ex.forLock(key, operation.name(), described), observation);
		}
		catch (LockPermitsConflictException ex) {
			LockPermitsConflictException named = ex.forLock(operation.name(), described);
			if (observation != null) {
				LeaseLifecycle.observeSafely(() -> observation.failed(named));
			}
			throw named;
		}
		catch (LockException ex) {
			if (observation != null) {
				LeaseLifecycle.observeSafely(() -> observation.failed(ex));
			}
			throw ex;
		}
		catch (RuntimeException ex) {
			releaseOrphan(spec, described);
			throw acquireFailed(new LockBackendException(this.repository.backend(), key,
					"Acquiring at the " + this.repository.backend() + " backend failed: " + ex.getMessage(), ex)
				.forLock(key, operation.name(), described), observation);
		}
		finally {
			if (writerWaits && grant == null) {
				this.lifecycle.stopWaiting(spec);
			}
		}
		if (grant == null) {
			notAcquired(observation);
			if (throwOnContention) {
				throw new LockNotAcquiredException(key, operation.name(), described, waitTime, null);
			}
			return null;
		}
		return granted(operation, spec, grant.fencingToken(), grant.requestedAtNanos(), maxHold, observation);
	}

	private Duration renewIntervalFor(Duration ttl) {
		return ttl.equals(this.settings.ttl()) ? this.defaultRenewInterval : this.settings.renewIntervalFor(ttl);
	}

	/**
	 * The lease of a grant, kept from now on (renewed, lost at its deadline).
	 */
	private LockHandle granted(LockOperation operation, LeaseSpec spec, long fencingToken, long requestedAtNanos,
			@Nullable Duration maxHold, LockObserver.@Nullable Acquisition observation) {
		DefaultLease lease = new DefaultLease(this.lifecycle, spec, operation.name(), fencingToken, requestedAtNanos,
				renewIntervalFor(spec.ttl()), this.settings.safetyMarginFor(spec.ttl()), maxHold);
		this.keeper.keep(lease);
		if (observation != null) {
			lease.observeHold(observeGrant(observation, lease));
		}
		return new LockHandle(lease, false, operation.minHold());
	}

	/**
	 * The lease of a key that the current call chain holds already in a mode that lets it
	 * re-enter, or {@code null}.
	 */
	private @Nullable DefaultLease reentered(String key, LeaseMode mode) {
		Lease held = LockContext.find(key, mode);
		if (held == null && mode == LeaseMode.SHARED) {
			// A writer may read: the shared lock reenters the thread's exclusive lease.
			held = LockContext.find(key, LeaseMode.EXCLUSIVE);
		}
		if (held instanceof DefaultLease reentered && reentered.isHeld() && reentered.belongsTo(this.lifecycle)) {
			return reentered;
		}
		return null;
	}

	private Duration ttl(LockOperation operation) {
		return (operation.ttl() != null) ? operation.ttl() : this.settings.ttl();
	}

	private @Nullable Duration maxHold(LockOperation operation) {
		Duration maxHold = operation.maxHold();
		if (maxHold == null) {
			maxHold = this.settings.maxHold();
			LockSettings.checkHoldTimes(operation.minHold(), maxHold, "latchkey.max-hold");
		}
		return maxHold;
	}

	/**
	 * Acquires several keys, all or none. The keys this call chain does not hold yet are
	 * first asked for in one attempt ({@link LockRepository#tryAcquireAll}: one round
	 * trip on the backends that can). If that is refused, they are taken one after the
	 * other in canonical order (of their full keys), each within what is left of the one
	 * wait time (a single attempt each when there is none, which also tells which key is
	 * held): a waiter holds only keys before the one it waits for, so no cycle of waiters
	 * can form. Keys already taken are released at once when a later one cannot be had,
	 * or its attempt fails.
	 */
	private @Nullable LockHandle acquireAll(LockOperation operation, boolean throwOnContention) {
		Map<String, String> byFullKey = new TreeMap<>();
		for (String key : operation.keys()) {
			byFullKey.put(fullKey(key), key);
		}
		if (byFullKey.size() == 1) {
			return acquire(operation.forKey(operation.key(), operation.waitTime()), throwOnContention);
		}
		Duration waitTime = (operation.waitTime() != null) ? operation.waitTime() : this.settings.waitTime();
		long deadline = System.nanoTime() + waitTime.toNanos();
		Map<String, LockObserver.Acquisition> started = new TreeMap<>();
		// A fair lock takes each key in its queue: one attempt at all of them would pass
		// their waiters by.
		List<LockHandle> atOnce = fair(operation) ? null : acquireAtOnce(operation, byFullKey, started);
		if (atOnce != null) {
			loseTogether(atOnce);
			return new LockHandle(atOnce);
		}
		List<LockHandle> taken = new ArrayList<>(byFullKey.size());
		String notAcquired = null;
		try {
			for (Map.Entry<String, String> key : byFullKey.entrySet()) {
				Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
				LockHandle part = acquire(operation.forKey(key.getValue(), left), false, started.remove(key.getKey()));
				if (part == null) {
					notAcquired = key.getKey();
					break;
				}
				taken.add(part);
			}
		}
		catch (RuntimeException | Error ex) {
			releaseNow(taken);
			started.values().forEach((observation) -> LeaseLifecycle.observeSafely(() -> observation.failed(ex)));
			throw ex;
		}
		if (notAcquired != null) {
			releaseNow(taken);
			started.values().forEach(LockTemplate::notAcquired);
			if (throwOnContention) {
				throw new LockNotAcquiredException(notAcquired, operation.name(),
						this.settings.describe(operation.name(), notAcquired), waitTime, null);
			}
			return null;
		}
		loseTogether(taken);
		return new LockHandle(taken);
	}

	/**
	 * The first attempt at a lock of several keys: the keys this call chain holds are
	 * re-entered, the others (two or more) asked for in one
	 * {@link LockRepository#tryAcquireAll}.
	 * @param started where the observations of a refused attempt are left, by full key,
	 * for the waiting that follows (which ends each of them)
	 * @return the handles in canonical order, or {@code null} when the attempt was
	 * refused or not made (fewer than two keys to take)
	 */
	private @Nullable List<LockHandle> acquireAtOnce(LockOperation operation, Map<String, String> byFullKey,
			Map<String, LockObserver.Acquisition> started) {
		List<LeaseSpec> specs = new ArrayList<>(byFullKey.size());
		Map<String, DefaultLease> reentered = new TreeMap<>();
		Duration ttl = ttl(operation);
		Duration maxHold = maxHold(operation);
		for (String key : byFullKey.keySet()) {
			DefaultLease held = reentered(key, LeaseMode.EXCLUSIVE);
			if (held != null) {
				held.assertValid();
				reentered.put(key, held);
			}
			else {
				specs.add(new LeaseSpec(key, LeaseMode.EXCLUSIVE, 1, this.identity.owner(), this.identity.nextToken(),
						ttl, operation.description()));
			}
		}
		if (specs.size() < 2) {
			return null;
		}
		Map<String, LockObserver.Acquisition> observations = new TreeMap<>();
		if (this.observer != null) {
			for (LeaseSpec spec : specs) {
				LockObserver.Acquisition observation = observeAcquisition(operation.name(), spec);
				if (observation != null) {
					observations.put(spec.key(), observation);
				}
			}
		}
		// How messages and logs name the lock: its name, and its keys only when
		// latchkey.show-keys-in-messages is on.
		String firstKey = specs.get(0).key();
		String described = this.settings.describe(operation.name(), String.join(",", byFullKey.keySet()));
		long requestedAt = System.nanoTime();
		List<Long> fencingTokens;
		try {
			fencingTokens = this.repository.tryAcquireAll(specs);
			Assert.state(fencingTokens.isEmpty() || fencingTokens.size() == specs.size(),
					() -> "The " + this.repository.backend() + " backend answered " + fencingTokens.size()
							+ " fencing tokens for " + specs.size() + " keys");
		}
		catch (LockBackendException ex) {
			specs.forEach((spec) -> releaseOrphan(spec, described));
			LockBackendException named = ex.forLock(firstKey, operation.name(), described);
			observations.values().forEach((observation) -> acquireFailed(named, observation));
			throw named;
		}
		catch (LockException ex) {
			observations.values().forEach((observation) -> LeaseLifecycle.observeSafely(() -> observation.failed(ex)));
			throw ex;
		}
		catch (RuntimeException ex) {
			specs.forEach((spec) -> releaseOrphan(spec, described));
			LockBackendException failure = new LockBackendException(this.repository.backend(), firstKey,
					"Acquiring the locks at the " + this.repository.backend() + " backend failed: " + ex.getMessage(),
					ex)
				.forLock(firstKey, operation.name(), described);
			observations.values().forEach((observation) -> acquireFailed(failure, observation));
			throw failure;
		}
		if (fencingTokens.isEmpty()) {
			started.putAll(observations);
			return null;
		}
		List<LockHandle> handles = new ArrayList<>(byFullKey.size());
		int granted = 0;
		for (String key : byFullKey.keySet()) {
			DefaultLease held = reentered.get(key);
			if (held != null) {
				handles.add(new LockHandle(held, true, Duration.ZERO));
			}
			else {
				LeaseSpec spec = specs.get(granted);
				handles.add(granted(operation, spec, fencingTokens.get(granted), requestedAt, maxHold,
						observations.get(key)));
				granted++;
			}
		}
		return handles;
	}

	/**
	 * Gives back the keys a failed acquisition of several keys took, without waiting for
	 * a minimum hold time.
	 */
	private static void releaseNow(List<LockHandle> taken) {
		for (int i = taken.size() - 1; i >= 0; i--) {
			LockHandle part = taken.get(i);
			if (!part.isReentrant()) {
				part.defaultLease().release(Duration.ZERO);
			}
		}
	}

	/**
	 * Makes the leases of a lock of several keys lost together: when one is lost, those
	 * this call took are lost with it (and released, best effort). Keys the call chain
	 * held already belong to the outer call and are left alone. The loss is logged once
	 * for the lock, not once for each of its keys.
	 */
	private static void loseTogether(List<LockHandle> parts) {
		List<DefaultLease> own = new ArrayList<>(parts.size());
		for (LockHandle part : parts) {
			if (!part.isReentrant()) {
				own.add(part.defaultLease());
			}
		}
		if (own.size() < 2) {
			return;
		}
		// Only the first loss spreads: the leases it loses run their own lost actions,
		// this one among them.
		AtomicBoolean spread = new AtomicBoolean();
		for (DefaultLease lease : own) {
			lease.onLost((lost) -> {
				if (!spread.compareAndSet(false, true)) {
					return;
				}
				int together = 0;
				for (DefaultLease other : own) {
					if (other != lease && other.lostWith(lost)) {
						together++;
					}
				}
				// One line for the lock, however many keys it has: each of those
				// leases' own line is logged at DEBUG.
				int given = together;
				if (given > 0) {
					logger.warn(() -> "Giving back the " + given + " other key(s) lost with it: " + lost.getMessage());
				}
			});
		}
	}

	/**
	 * An attempt that failed with a backend error may still have been granted: the
	 * request reached the backend, and its answer was lost (a timeout against a paused
	 * server, a connection that dropped, a commit whose outcome is unknown). Nobody would
	 * hold the key until its TTL ran out, so the token this caller sent is released, in
	 * the background, once the backend answers again. Releasing by token never touches
	 * another owner's lease.
	 */
	private void releaseOrphan(LeaseSpec spec, String described) {
		try {
			this.orphans.release(spec, described, System.nanoTime());
		}
		catch (RuntimeException ex) {
			logger.warn(ex, () -> "Could not schedule the release of lock " + described + " after a failed acquire");
		}
	}

	private String fullKey(String key) {
		return LockKeys.full(key, this.settings);
	}

	private static LockBackendException acquireFailed(LockBackendException failure,
			LockObserver.@Nullable Acquisition observation) {
		if (observation != null) {
			LeaseLifecycle.observeSafely(() -> observation.failed(failure));
		}
		return failure;
	}

	private static void notAcquired(LockObserver.@Nullable Acquisition observation) {
		if (observation != null) {
			LeaseLifecycle.observeSafely(observation::notAcquired);
		}
	}

	private LockObserver.@Nullable Acquisition observeAcquisition(String name, LeaseSpec spec) {
		LockObserver observer = this.observer;
		try {
			return (observer != null) ? observer.acquiring(name, spec, this.repository.backend()) : null;
		}
		catch (Throwable ex) {
			logger.warn(ex, () -> "Lock observer " + observer + " failed");
			return null;
		}
	}

	private static LockObserver.@Nullable Hold observeGrant(LockObserver.Acquisition observation, Lease lease) {
		try {
			return observation.acquired(lease);
		}
		catch (Throwable ex) {
			logger.warn(ex, () -> "Lock observer failed");
			return null;
		}
	}

	// Running work under a lock

	<T extends @Nullable Object> T execute(LockOperation operation, Supplier<T> task,
			@Nullable Supplier<T> whenNotAcquired) {
		LockHandle handle = acquire(operation, whenNotAcquired == null);
		if (handle == null) {
			Assert.state(whenNotAcquired != null, "No fallback");
			return whenNotAcquired.get();
		}
		ThreadInterrupter interrupter = null;
		if (!handle.isReentrant() && operation.lostPolicy() != LostPolicy.NOTIFY) {
			interrupter = new ThreadInterrupter(Thread.currentThread());
			handle.onLost(interrupter);
		}
		T result = null;
		Throwable failure = null;
		try (LockContext.Binding binding = LockContext.bind(handle);
				LockObserver.Scope scope = handle.openHoldScope()) {
			result = task.get();
		}
		catch (Throwable ex) {
			failure = ex;
		}
		finally {
			if (interrupter != null && interrupter.finish()) {
				// The interrupt was ours, to stop the work: it ends here, as a
				// LockLostException.
				Thread.interrupted();
			}
			handle.close();
		}
		if (operation.lostPolicy() != LostPolicy.NOTIFY && handle.isLost()) {
			LockLostException lost = handle.lostException();
			if (failure != null && failure != lost) {
				lost.addSuppressed(failure);
			}
			throw lost;
		}
		if (failure != null) {
			throw rethrow(failure);
		}
		return result;
	}

	private static RuntimeException rethrow(Throwable failure) {
		if (failure instanceof RuntimeException runtime) {
			return runtime;
		}
		if (failure instanceof Error error) {
			throw error;
		}
		return new UndeclaredThrowableException(failure);
	}

	/**
	 * Interrupts the thread running guarded work when its lease is lost, but only while
	 * it still runs that work.
	 */
	private static final class ThreadInterrupter implements Consumer<LockLostException> {

		private final Thread thread;

		private boolean running = true;

		private boolean interrupted;

		ThreadInterrupter(Thread thread) {
			this.thread = thread;
		}

		@Override
		public synchronized void accept(LockLostException lost) {
			if (this.running && !this.interrupted) {
				this.interrupted = true;
				this.thread.interrupt();
			}
		}

		synchronized boolean finish() {
			this.running = false;
			return this.interrupted;
		}

	}

}
