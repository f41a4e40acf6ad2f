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

package dev.latchkey.etcd;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.util.Assert;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockInfo;
import dev.latchkey.LockPermitsConflictException;
import dev.latchkey.LockRepository;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.support.BoundedMemory;
import dev.latchkey.support.FairExclusiveQueueing;

/**
 * The etcd v3 backend: locks shared by every process that uses the same etcd cluster,
 * through a jetcd {@link Client}.
 *
 * <pre class="code">
 * Client client = Client.builder().endpoints("http://etcd-1:2379", "http://etcd-2:2379", "http://etcd-3:2379").build();
 * EtcdLockRepository repository = new EtcdLockRepository(client, "latchkey/", Duration.ofSeconds(5));
 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults());
 * locks.exclusive("order:42").run(() -&gt; pay(42));
 * </pre>
 * <p>
 * Acquiring and releasing are one etcd transaction each, and the revision of the grant is
 * its fencing token. Every lock's key is attached to a shared etcd lease that this
 * repository keeps alive, so a process that dies frees its locks once their TTL has
 * passed. Repositories lock together when they use the same namespace. Lock keys must not
 * contain the NUL character.
 * <p>
 * etcd failures (unreachable cluster, no leader, timeouts, authentication) are thrown as
 * {@link LockBackendException}. The repository runs one thread
 * ({@value #DEFAULT_THREAD_NAME_PREFIX}, or one of the application's thread factory) that
 * deletes the keys of locks nobody renews any more. Close the repository to stop it, its
 * watches and keep-alives, and to revoke its leases, which frees the keys this instance
 * still holds; the client stays open.
 * <p>
 * Exclusive leases that ask for fairness ({@link LeaseSpec#fair()}) wait in a queue per
 * key ({@link QueueingLockRepository}), in the order of their places' etcd revisions,
 * each waiting only for its predecessor's place to go, as etcd's own
 * {@code concurrency.Mutex} does: a release wakes exactly the next fair waiter. Other
 * leases wait as on every backend.
 *
 * <pre class="code">
 * LockTemplate locks = new LockTemplate(new EtcdLockRepository(client), LockSettings.defaults());
 * locks.exclusive("ledger").fair(true).waitTime(Duration.ofSeconds(30)).run(() -&gt; ledger.post(entry));
 * </pre>
 *
 * @since 0.1.0
 */
public class EtcdLockRepository implements FairExclusiveQueueing, AutoCloseable {

	/**
	 * The namespace used when none is given.
	 */
	public static final String DEFAULT_NAMESPACE = "latchkey/";

	/**
	 * The request timeout used when none is given.
	 */
	public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);

	/**
	 * The name prefix of the thread the repository makes when no thread factory is given.
	 */
	public static final String DEFAULT_THREAD_NAME_PREFIX = "latchkey-etcd-expiry-";

	private static final LogAccessor logger = new LogAccessor(EtcdLockRepository.class);

	// etcd refuses transactions of more than 128 operations by default (--max-txn-ops).
	private static final int MAX_OPERATIONS = 100;

	// A force-release that finds the holders changed this many times running gives up.
	private static final int MAX_EVICTION_ATTEMPTS = 50;

	/**
	 * The most keys {@link #tryAcquireAll} takes in one transaction: two operations each.
	 */
	static final int MAX_KEYS_AT_ONCE = MAX_OPERATIONS / 2;

	// The most keys or leases each of the repository's memories below holds.
	private static final int MAX_REMEMBERED = 10_000;

	private static final ByteSequence NO_VALUE = ByteSequence.from(new byte[0]);

	private final KV kv;

	private final Lease leaseClient;

	// The etcd leases of this repository's writer waits and wake-line places, one per
	// TTL class: kept alive by the waiters' own attempts (once a third of the TTL has
	// passed), not by the keep-alive stream, so that a wait whose writer stops attempting
	// ends with its TTL.
	private final Map<Long, WaitLease> waitLeases = new ConcurrentHashMap<>();

	// The tokens of the leases whose writer wait this repository put: a grant keeps its
	// wait (a reader cannot pass the holder anyway) and the release deletes it, in the
	// same transaction as the holder's key. A wait forgotten here (a lease that ended
	// without a release) ends with its wait lease.
	private final BoundedMemory<String, Boolean> writerWaits = new BoundedMemory<>(MAX_REMEMBERED);

	private final EtcdKeys keys;

	private final EtcdRequests requests;

	private final EtcdLeasePool leases;

	private final EtcdHeldLeases held;

	private final EtcdKeyWatches watches;

	private final EtcdFairQueue queue;

	// The semaphores this repository found full, until it is granted a permit of one:
	// their attempts read the holders first.
	private final BoundedMemory<String, Boolean> fullSemaphores = new BoundedMemory<>(MAX_REMEMBERED);

	// This repository's name in the wake lines of the keys it waits for.
	private final String instance = UUID.randomUUID().toString();

	// The keys a waiting caller of this instance was refused on, until a grant finds no
	// other instance in the key's wake line: their grants read the line.
	// Forgotten keys are released to every instance, and join again when refused.
	private final BoundedMemory<String, Boolean> contendedKeys = new BoundedMemory<>(MAX_REMEMBERED);

	// The place first in its key's wake line when each exclusive lease of this repository
	// was granted, by the lease's token: the release deletes it, which wakes that
	// instance. None when nobody else waited, or the key was not contended here.
	// Leases that ended without a release (lost, swept) leave theirs until it is full:
	// their keys' releases tell every instance instead.
	private final BoundedMemory<String, ByteSequence> nextToWake = new BoundedMemory<>(MAX_REMEMBERED);

	private final AtomicBoolean closed = new AtomicBoolean();

	/**
	 * Makes a repository in the {@linkplain #DEFAULT_NAMESPACE default namespace}, with
	 * the {@linkplain #DEFAULT_REQUEST_TIMEOUT default request timeout}.
	 * @param client the jetcd client, which the repository uses but does not close
	 */
	public EtcdLockRepository(Client client) {
		this(client, DEFAULT_NAMESPACE, DEFAULT_REQUEST_TIMEOUT);
	}

	/**
	 * Makes a repository whose expiry sweep runs on a daemon thread named
	 * {@value #DEFAULT_THREAD_NAME_PREFIX}.
	 * @param client the jetcd client, which the repository uses but does not close
	 * @param namespace the prefix of every etcd key the repository writes; repositories
	 * lock together only when they use the same namespace
	 * @param requestTimeout how long one request may wait for etcd's answer before it
	 * fails; keep it well below the locks' TTL
	 */
	public EtcdLockRepository(Client client, String namespace, Duration requestTimeout) {
		this(client, namespace, requestTimeout, defaultThreadFactory());
	}

	/**
	 * Makes a repository whose expiry sweep runs on a thread of the application's thread
	 * factory.
	 *
	 * <pre class="code">
	 * ThreadFactory threads = new CustomizableThreadFactory("locks-");
	 * EtcdLockRepository repository = new EtcdLockRepository(client, "latchkey/", Duration.ofSeconds(5), threads);
	 * </pre>
	 * @param client the jetcd client, which the repository uses but does not close
	 * @param namespace the prefix of every etcd key the repository writes; repositories
	 * lock together only when they use the same namespace
	 * @param requestTimeout how long one request may wait for etcd's answer before it
	 * fails; keep it well below the locks' TTL
	 * @param threadFactory makes the one thread the repository runs, which
	 * {@link #close()} stops
	 */
	public EtcdLockRepository(Client client, String namespace, Duration requestTimeout, ThreadFactory threadFactory) {
		Assert.notNull(client, "Client must not be null");
		Assert.notNull(threadFactory, "ThreadFactory must not be null");
		this.keys = new EtcdKeys(namespace);
		this.requests = new EtcdRequests(requestTimeout);
		this.kv = client.getKVClient();
		this.leaseClient = client.getLeaseClient();
		this.leases = new EtcdLeasePool(this.leaseClient, this.requests);
		this.held = new EtcdHeldLeases(this.kv, this.keys, this.requests, threadFactory);
		this.watches = new EtcdKeyWatches(client.getWatchClient(), this.keys, this.instance, requestTimeout, this.held);
		this.queue = new EtcdFairQueue(this.kv, client.getWatchClient(), this.keys, this.requests, this.leases,
				this.held);
	}

	private static ThreadFactory defaultThreadFactory() {
		CustomizableThreadFactory threads = new CustomizableThreadFactory(DEFAULT_THREAD_NAME_PREFIX);
		threads.setDaemon(true);
		return threads;
	}

	@Override
	public String backend() {
		return EtcdRequests.BACKEND;
	}

	/**
	 * The namespace of this repository's keys.
	 * @return the namespace
	 */
	public String getNamespace() {
		return this.keys.namespace();
	}

	// Acquire and release

	/**
	 * {@inheritDoc}
	 * <p>
	 * A fair lease's single attempt first reads whether fair waiters queue for the key,
	 * and is refused if any do, or the key is held: it does not pass the queue by.
	 */
	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		if (lease.fair()) {
			EtcdKeys.checkKey(lease.key());
			TxnResponse probe = this.requests.call(lease.key(), () -> "Acquiring the lock",
					() -> this.kv.txn()
						.If(EtcdKeys.absent(this.keys.lockKey(lease.key())))
						.Then(Op.get(this.keys.queuePrefix(lease.key()), countOnly()))
						.commit());
			if (!probe.isSucceeded() || probe.getGetResponses().get(0).getCount() > 0) {
				return OptionalLong.empty();
			}
		}
		return acquire(lease, false);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * For a fair exclusive lease: one transaction puts the waiter's place in the key's
	 * queue, on the etcd lease of its TTL class, and reads the place before it; it
	 * returns once etcd has the place. The waiter then waits for that place alone to go
	 * (through this repository's one watch of the key's queue, which hands each deletion
	 * to the waiter behind it), and when it goes (a release, a withdrawal, an expired
	 * etcd lease), makes the first's attempt: one transaction that puts the holder's key
	 * if it is absent, no place before its own is left and its own is still there. Its
	 * revision is the fencing token. A waiter whose place is gone (its etcd lease
	 * expired) fails, and the template joins again.
	 */
	@Override
	public CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease) {
		Assert.isTrue(queues(lease), "The etcd backend queues fair exclusive leases only");
		EtcdKeys.checkKey(lease.key());
		return this.queue.join(lease);
	}

	@Override
	public boolean cancelQueued(LeaseSpec lease) {
		return this.queue.cancel(lease);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * One transaction for every key, as the exclusive acquire's for one: it compares that
	 * none of the keys exists, and then puts them all, each on the etcd lease of its TTL,
	 * and counts each key's holders. Their fencing token is the revision of that
	 * transaction, the same for all of them, and above every earlier grant of each key.
	 * When a key turns out to be held by a semaphore's permits or shared holders, the
	 * keys are withdrawn at once and the attempt is refused. More than
	 * {@value #MAX_KEYS_AT_ONCE} keys (etcd's default limit of operations in one
	 * transaction is 128) are taken one by one, as the interface's default does.
	 */
	@Override
	public List<Long> tryAcquireAll(List<LeaseSpec> leases) {
		LockRepository.checkAll(leases);
		if (leases.size() > MAX_KEYS_AT_ONCE) {
			return FairExclusiveQueueing.super.tryAcquireAll(leases);
		}
		int count = leases.size();
		List<ByteSequence> etcdKeys = new ArrayList<>(count);
		List<ByteSequence> values = new ArrayList<>(count);
		Cmp[] absent = new Cmp[count];
		for (int i = 0; i < count; i++) {
			LeaseSpec lease = leases.get(i);
			EtcdKeys.checkKey(lease.key());
			etcdKeys.add(this.keys.lockKey(lease.key()));
			values.add(EtcdKeys.value(lease));
			absent[i] = EtcdKeys.absent(etcdKeys.get(i));
		}
		TxnResponse response;
		for (int attempt = 1;; attempt++) {
			Set<EtcdLeasePool.SharedLease> shared = new LinkedHashSet<>();
			Op[] operations = new Op[count * 2];
			for (int i = 0; i < count; i++) {
				LeaseSpec lease = leases.get(i);
				EtcdLeasePool.SharedLease on = this.leases.lease(lease.ttl());
				shared.add(on);
				this.held.track(lease, on);
				operations[i] = Op.put(etcdKeys.get(i), values.get(i), leased(on));
				operations[count + i] = Op.get(this.keys.holdersPrefix(lease.key()), countOnly());
			}
			try {
				response = this.requests.call(() -> "Acquiring " + count + " keys at once",
						() -> this.kv.txn().If(absent).Then(operations).commit());
				break;
			}
			catch (LockBackendException ex) {
				if (attempt == 1 && EtcdRequests.isLeaseNotFound(ex)) {
					leases.forEach((lease) -> this.held.forget(lease.token()));
					shared.forEach((on) -> on.expired("etcd no longer knows it"));
					continue;
				}
				throw ex;
			}
		}
		if (!response.isSucceeded()) {
			leases.forEach((lease) -> this.held.forget(lease.token()));
			return List.of();
		}
		boolean joined = response.getGetResponses().stream().anyMatch((holders) -> holders.getCount() > 1);
		if (joined) {
			// Permits of a semaphore or shared holders are held on one of the keys: an
			// exclusive lease must not join them, nor may the others be kept.
			for (int i = 0; i < count; i++) {
				deleteIfOurs(leases.get(i), etcdKeys.get(i), values.get(i));
			}
			return List.of();
		}
		leases.forEach(this.held::granted);
		return Collections.nCopies(count, response.getHeader().getRevision());
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * A refused writer's wait is the etcd key {@code ns k \1 token}, put in the attempt's
	 * own transaction (its Else branch, beside the instance's place in the wake line) on
	 * the repository's wait lease of the lease's TTL class: an etcd lease that only the
	 * waiters' attempts keep alive, once a third of its TTL has passed, so a wait that is
	 * not renewed ends with it. A grant keeps the wait, and the release deletes it in the
	 * same transaction as the holder's key: once the writer has left, a reader finds no
	 * wait of it.
	 */
	@Override
	public OptionalLong tryAcquireWaiting(LeaseSpec lease) {
		return acquire(lease, true);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Withdraws the writer wait, and this instance's place in the key's wake line
	 * (another caller of this instance that still waits joins again with its next
	 * attempt), in one transaction.
	 */
	@Override
	public void stopWaiting(LeaseSpec lease) {
		if (this.writerWaits.remove(lease.token()) != null) {
			try {
				this.requests.call(lease.key(), () -> "Withdrawing the writer wait on the lock",
						() -> this.kv.txn()
							.Then(Op.delete(this.keys.writerKey(lease.key(), lease.token()), DeleteOption.DEFAULT),
									Op.delete(this.keys.placeKey(lease.key(), this.instance), DeleteOption.DEFAULT))
							.commit());
			}
			catch (LockBackendException ex) {
				logger.debug(ex, () -> "Could not withdraw the writer wait on '" + lease.key()
						+ "'; it ends with its wait lease, once this instance's waiters stop renewing it");
			}
		}
	}

	/**
	 * The wait lease of a lease's TTL class, kept alive now if a third of its TTL has
	 * passed since it was granted or last kept alive, or granted now if there is none or
	 * etcd no longer knows it.
	 */
	private WaitLease waitLease(LeaseSpec lease) {
		long seconds = EtcdLeasePool.ttlClass(lease.ttl());
		long now = System.nanoTime();
		WaitLease wait = this.waitLeases.get(seconds);
		if (wait != null && wait.alive) {
			if (now - wait.renewedAt < TimeUnit.SECONDS.toNanos(seconds) / 3) {
				return wait;
			}
			if (keepAlive(lease, wait)) {
				wait.renewedAt = now;
				return wait;
			}
		}
		long id = this.requests
			.call(lease.key(), () -> "Recording a writer wait on the lock", () -> this.leaseClient.grant(seconds))
			.getID();
		WaitLease granted = new WaitLease(id, now);
		// Two threads that granted one at once: the other's, never used, ends with its
		// TTL.
		this.waitLeases.put(seconds, granted);
		return granted;
	}

	/**
	 * Keeps a wait lease alive once.
	 * @return whether etcd still knew it; if not, it is marked dead
	 */
	private boolean keepAlive(LeaseSpec lease, WaitLease wait) {
		try {
			long ttl = this.requests
				.call(lease.key(), () -> "Renewing the writer waits on the lock",
						() -> this.leaseClient.keepAliveOnce(wait.id))
				.getTTL();
			if (ttl > 0) {
				return true;
			}
		}
		catch (LockBackendException ex) {
			if (!EtcdRequests.isLeaseNotFound(ex)) {
				throw ex;
			}
		}
		wait.alive = false;
		return false;
	}

	private void revokeQuietly(long waitLease) {
		this.leaseClient.revoke(waitLease).exceptionally((ex) -> null);
	}

	/**
	 * One transaction: puts the holder's key if it is absent and counts the key's
	 * holders. A caller that waits and is refused puts its instance's place in the key's
	 * wake line (a place already there keeps its create revision, so its turn) and its
	 * writer wait, in the transaction's Else branch, on the wait lease of the lease's TTL
	 * class, which ends them should this process die or its waiters stop attempting; the
	 * key then counts as contended here. On a contended key a grant also deletes this
	 * instance's place, and reads the first place left, which the release deletes to wake
	 * that instance; a grant that finds nobody else in the line makes the key uncontended
	 * again. So an uncontended lock costs the transaction of before.
	 */
	private OptionalLong acquire(LeaseSpec lease, boolean waiting) {
		EtcdKeys.checkKey(lease.key());
		ByteSequence etcdKey = this.keys.lockKey(lease.key());
		ByteSequence prefix = this.keys.holdersPrefix(lease.key());
		ByteSequence value = EtcdKeys.value(lease);
		ByteSequence place = this.keys.placeKey(lease.key(), this.instance);
		ByteSequence writerKey = this.keys.writerKey(lease.key(), lease.token());
		boolean contended = this.contendedKeys.contains(lease.key());
		boolean recorded = this.writerWaits.contains(lease.token());
		TxnResponse response = withLease(lease, (shared) -> {
			List<Op> then = new ArrayList<>(5);
			then.add(Op.put(etcdKey, value, leased(shared)));
			then.add(Op.get(prefix, countOnly()));
			if (contended) {
				then.add(Op.delete(place, DeleteOption.DEFAULT));
				then.add(Op.get(this.keys.wakePrefix(lease.key()), firstCreated()));
			}
			Op[] thenOps = then.toArray(new Op[0]);
			if (!waiting) {
				return this.requests.call(lease.key(), () -> "Acquiring the lock",
						() -> this.kv.txn().If(EtcdKeys.absent(etcdKey)).Then(thenOps).commit());
			}
			return withWaitLease(lease,
					(wait) -> this.requests.call(lease.key(), () -> "Acquiring the lock",
							() -> this.kv.txn()
								.If(EtcdKeys.absent(etcdKey))
								.Then(thenOps)
								.Else(waitOps(lease, writerKey, place, wait))
								.commit()));
		});
		if (!response.isSucceeded()) {
			this.held.forget(lease.token());
			if (waiting) {
				this.writerWaits.put(lease.token(), true);
				this.contendedKeys.put(lease.key(), true);
			}
			return OptionalLong.empty();
		}
		if (response.getGetResponses().get(0).getCount() > 1) {
			// Permits of a semaphore or shared holders are held on the same key: an
			// exclusive lease must not join them. A waiting writer records its wait (and
			// place), as a refusal's Else branch does, unless it did already.
			deleteIfOurs(lease, etcdKey, value);
			if (waiting && !recorded) {
				withWaitLease(lease,
						(wait) -> this.requests.call(lease.key(), () -> "Recording a writer wait on the lock",
								() -> this.kv.txn().Then(waitOps(lease, writerKey, place, wait)).commit()));
				this.writerWaits.put(lease.token(), true);
			}
			return OptionalLong.empty();
		}
		this.held.granted(lease);
		if (contended) {
			List<KeyValue> first = response.getGetResponses().get(1).getKvs();
			if (first.isEmpty()) {
				this.contendedKeys.remove(lease.key());
			}
			else {
				this.nextToWake.put(lease.token(), first.get(0).getKey());
			}
		}
		return OptionalLong.of(response.getHeader().getRevision());
	}

	/**
	 * What a refused waiting writer puts on its wait lease: its wait, which keeps new
	 * readers out, and its instance's place in the key's wake line (a place already there
	 * keeps its create revision, so its turn).
	 */
	private Op[] waitOps(LeaseSpec lease, ByteSequence writerKey, ByteSequence place, WaitLease wait) {
		PutOption onWaitLease = PutOption.builder().withLeaseId(wait.id).build();
		return new Op[] { Op.put(writerKey, ByteSequence.from(lease.owner(), StandardCharsets.UTF_8), onWaitLease),
				Op.put(place, NO_VALUE, onWaitLease) };
	}

	/**
	 * Runs a request that puts keys on the wait lease of the lease's TTL class; again
	 * with a new wait lease if etcd no longer knows it. A lease-not-found answer while
	 * the wait lease lives is the shared lease's, and is thrown for {@link #withLease}.
	 */
	private TxnResponse withWaitLease(LeaseSpec lease, Function<WaitLease, TxnResponse> request) {
		for (int attempt = 1;; attempt++) {
			WaitLease wait = waitLease(lease);
			try {
				return request.apply(wait);
			}
			catch (LockBackendException ex) {
				if (attempt == 1 && EtcdRequests.isLeaseNotFound(ex) && !keepAlive(lease, wait)) {
					continue;
				}
				throw ex;
			}
		}
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * One transaction, as a permit's: put the holder's key if the key has no exclusive
	 * holder, and read its first holder and whether a writer waits; a holder of a
	 * semaphore or a waiting writer makes the attempt withdraw its key at once.
	 */
	@Override
	public OptionalLong tryAcquireShared(LeaseSpec lease) {
		EtcdKeys.checkKey(lease.key());
		ByteSequence lockKey = this.keys.lockKey(lease.key());
		ByteSequence prefix = this.keys.holdersPrefix(lease.key());
		ByteSequence etcdKey = this.keys.permitKey(lease.key(), lease.token());
		ByteSequence value = EtcdKeys.value(lease);
		TxnResponse response = withLease(lease,
				(shared) -> this.requests.call(lease.key(), () -> "Acquiring a shared lease of the lock",
						() -> this.kv.txn()
							.If(EtcdKeys.absent(lockKey))
							.Then(Op.put(etcdKey, value, leased(shared)), Op.get(prefix, firstHolder()),
									Op.get(this.keys.writersPrefix(lease.key()), countOnly()),
									Op.get(this.keys.queuePrefix(lease.key()), countOnly()))
							.commit()));
		if (!response.isSucceeded()) {
			this.held.forget(lease.token());
			return OptionalLong.empty();
		}
		List<KeyValue> first = response.getGetResponses().get(0).getKvs();
		boolean semaphore = !first.isEmpty() && !heldShared(first);
		// A writer waits: a recorded writer wait, or a fair writer in the key's queue.
		if (semaphore || response.getGetResponses().get(1).getCount() > 0
				|| response.getGetResponses().get(2).getCount() > 0) {
			deleteIfOurs(lease, etcdKey, value);
			return OptionalLong.empty();
		}
		this.held.granted(lease);
		return OptionalLong.of(response.getHeader().getRevision());
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		EtcdKeys.checkKey(lease.key());
		ByteSequence lockKey = this.keys.lockKey(lease.key());
		ByteSequence prefix = this.keys.holdersPrefix(lease.key());
		if (this.fullSemaphores.contains(lease.key())) {
			TxnResponse probe = this.requests.call(lease.key(), () -> "Acquiring a permit of the semaphore",
					() -> this.kv.txn()
						.If(EtcdKeys.absent(lockKey))
						.Then(Op.get(prefix, countOnly()), Op.get(prefix, firstHolder()))
						.commit());
			if (!probe.isSucceeded() || heldShared(probe.getGetResponses().get(1).getKvs())) {
				return OptionalLong.empty();
			}
			checkLimit(lease, probe.getGetResponses().get(1).getKvs());
			if (probe.getGetResponses().get(0).getCount() >= lease.permits()) {
				return OptionalLong.empty();
			}
		}
		ByteSequence etcdKey = this.keys.permitKey(lease.key(), lease.token());
		ByteSequence value = EtcdKeys.value(lease);
		TxnResponse response = withLease(lease,
				(shared) -> this.requests.call(lease.key(), () -> "Acquiring a permit of the semaphore",
						() -> this.kv.txn()
							.If(EtcdKeys.absent(lockKey))
							.Then(Op.put(etcdKey, value, leased(shared)), Op.get(prefix, firstHolders(lease.permits())))
							.commit()));
		if (!response.isSucceeded()) {
			this.held.forget(lease.token());
			return OptionalLong.empty();
		}
		List<KeyValue> first = response.getGetResponses().get(0).getKvs();
		if (heldShared(first)) {
			deleteIfOurs(lease, etcdKey, value);
			return OptionalLong.empty();
		}
		if (!first.isEmpty() && !first.get(0).getKey().equals(etcdKey)) {
			int heldLimit = EtcdKeys.Holder.parse(first.get(0)).permits();
			if (heldLimit != lease.permits()) {
				deleteIfOurs(lease, etcdKey, value);
				throw new LockPermitsConflictException(lease.key(), lease.permits(), heldLimit);
			}
		}
		boolean granted = first.stream().anyMatch((holder) -> holder.getKey().equals(etcdKey));
		if (!granted) {
			deleteIfOurs(lease, etcdKey, value);
			this.fullSemaphores.put(lease.key(), true);
			return OptionalLong.empty();
		}
		this.fullSemaphores.remove(lease.key());
		this.held.granted(lease);
		return OptionalLong.of(response.getHeader().getRevision());
	}

	private static boolean heldShared(List<KeyValue> firstHolder) {
		return !firstHolder.isEmpty() && EtcdKeys.Holder.parse(firstHolder.get(0)).permits() == EtcdKeys.SHARED_LIMIT;
	}

	/**
	 * Refuses a permit whose limit is not the one of the key's first holder, which fixes
	 * it while the key is held.
	 */
	private static void checkLimit(LeaseSpec lease, List<KeyValue> firstHolder) {
		if (!firstHolder.isEmpty()) {
			int heldLimit = EtcdKeys.Holder.parse(firstHolder.get(0)).permits();
			if (heldLimit != lease.permits()) {
				throw new LockPermitsConflictException(lease.key(), lease.permits(), heldLimit);
			}
		}
	}

	/**
	 * Runs an acquisition with the shared lease of the lease's TTL class; again with a
	 * new one if etcd no longer knows the lease. The lease is tracked before the request
	 * is sent: should the answer be lost (a timeout), a put that did land is still
	 * deleted when the lock's TTL has passed, rather than kept alive by the shared lease
	 * for ever.
	 */
	private TxnResponse withLease(LeaseSpec lease, Function<EtcdLeasePool.SharedLease, TxnResponse> acquisition) {
		for (int attempt = 1;; attempt++) {
			EtcdLeasePool.SharedLease shared = this.leases.lease(lease.ttl());
			this.held.track(lease, shared);
			try {
				return acquisition.apply(shared);
			}
			catch (LockBackendException ex) {
				if (attempt == 1 && EtcdRequests.isLeaseNotFound(ex)) {
					this.held.forget(lease.token());
					shared.expired("etcd no longer knows it");
					continue;
				}
				throw ex;
			}
		}
	}

	private void deleteIfOurs(LeaseSpec lease, ByteSequence etcdKey, ByteSequence value) {
		try {
			this.requests.call(lease.key(), () -> "Withdrawing the refused attempt at the lock",
					() -> EtcdKeys.deleteIfOurs(this.kv, etcdKey, value));
			this.held.forget(lease.token());
		}
		catch (LockBackendException ex) {
			// Left to the expiry sweep, which retries until the key is gone.
			logger.debug(ex, () -> "Could not withdraw the refused attempt at '" + lease.key() + "'");
		}
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * An exclusive lease, not fair, whose grant found another instance first in the key's
	 * wake line deletes that instance's place in the same transaction as its key: the
	 * watches of every instance see both deletions in one response, and only that
	 * instance wakes its waiters. Otherwise every instance's watch sees the key go, and
	 * this instance's waiters are woken here at once.
	 */
	@Override
	public boolean release(LeaseSpec lease) {
		ByteSequence etcdKey = this.keys.etcdKey(lease);
		ByteSequence value = EtcdKeys.value(lease);
		boolean fair = queues(lease);
		ByteSequence next = this.nextToWake.remove(lease.token());
		ByteSequence writerWait = (this.writerWaits.remove(lease.token()) != null)
				? this.keys.writerKey(lease.key(), lease.token()) : null;
		TxnResponse response;
		try {
			response = this.requests.call(lease.key(), () -> "Releasing the lock", () -> {
				if (fair) {
					return EtcdKeys.releaseFair(this.kv, etcdKey, value,
							this.keys.queueKey(lease.key(), lease.token()));
				}
				return EtcdKeys.release(this.kv, etcdKey, value, next, writerWait);
			});
		}
		catch (LockBackendException ex) {
			// The caller has given the lease up: the expiry sweep deletes it as soon as
			// etcd answers again.
			this.held.expireNow(lease.token());
			throw ex;
		}
		this.held.forget(lease.token());
		if (response.isSucceeded() && (fair || next == null)) {
			this.watches.released(lease.key());
		}
		return response.isSucceeded();
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * A release wakes one instance, the first in the key's wake line, or, with nobody in
	 * it, every instance, this one by the repository at once.
	 */
	@Override
	public boolean wakesWaitersOfItsOwnReleases() {
		return true;
	}

	@Override
	public boolean forceRelease(String key) {
		EtcdKeys.checkKey(key);
		boolean deleted = false;
		for (int attempt = 1;; attempt++) {
			List<KeyValue> holders = this.requests
				.call(key, () -> "Reading the holders of the lock",
						() -> this.kv.get(this.keys.holdersPrefix(key), GetOption.builder().isPrefix(true).build()))
				.getKvs();
			if (holders.isEmpty()) {
				return deleted;
			}
			boolean evicted = true;
			for (int from = 0; from < holders.size(); from += MAX_OPERATIONS / 2) {
				List<KeyValue> part = holders.subList(from, Math.min(holders.size(), from + MAX_OPERATIONS / 2));
				if (evict(key, part)) {
					deleted = true;
				}
				else {
					evicted = false;
				}
			}
			if (!evicted && attempt == MAX_EVICTION_ATTEMPTS) {
				throw new LockBackendException(EtcdRequests.BACKEND, key,
						"The holders of the lock changed during each of " + MAX_EVICTION_ATTEMPTS
								+ " attempts to force-release it; try again",
						null);
			}
			if (evicted) {
				// No fencing counter to bump: the next grant's revision is above the
				// deletion's, which is above every evicted holder's.
				return true;
			}
		}
	}

	/**
	 * Deletes holders' keys (and a fair exclusive holder's place in the key's queue),
	 * each with a revocation on its holder's etcd lease that its repository reads at its
	 * next renewal, in one transaction that holds only while none of the keys changed
	 * since they were read.
	 * @return whether they were deleted; {@code false} when one changed, or its holder's
	 * etcd lease ended, since they were read (the caller reads them again)
	 */
	private boolean evict(String key, List<KeyValue> holders) {
		List<Cmp> unchanged = new ArrayList<>(holders.size());
		List<Op> evictions = new ArrayList<>(holders.size() * 2);
		ByteSequence lockKey = this.keys.lockKey(key);
		for (KeyValue holder : holders) {
			String token = EtcdKeys.Holder.parse(holder).token();
			unchanged.add(new Cmp(holder.getKey(), Cmp.Op.EQUAL, CmpTarget.modRevision(holder.getModRevision())));
			evictions.add(Op.delete(holder.getKey(), DeleteOption.DEFAULT));
			if (holder.getKey().equals(lockKey)) {
				// A fair holder's place in the queue goes with it (nothing to delete for
				// an unfair one), so that the queue's next waiter moves up.
				evictions.add(Op.delete(this.keys.queueKey(key, token), DeleteOption.DEFAULT));
			}
			if (holder.getLease() != 0) {
				evictions.add(Op.put(this.keys.revocationKey(holder.getLease(), token), ByteSequence.EMPTY,
						PutOption.builder().withLeaseId(holder.getLease()).build()));
			}
		}
		try {
			return this.requests.call(key, () -> "Force-releasing the lock",
					() -> this.kv.txn().If(unchanged.toArray(new Cmp[0])).Then(evictions.toArray(new Op[0])).commit())
				.isSucceeded();
		}
		catch (LockBackendException ex) {
			if (EtcdRequests.isLeaseNotFound(ex)) {
				// A holder's etcd lease ended since the read, and with it the holder's
				// key.
				return false;
			}
			throw ex;
		}
	}

	// Renewal

	/**
	 * Renews leases at a cost that does not grow with their number: the etcd lease that
	 * the keys of each TTL class are attached to is kept alive once (which proves the
	 * keys on it alive, and renews them at etcd), and the revocations that force-releases
	 * left on those etcd leases are read in one transaction. A lease is lost when its
	 * etcd lease has ended, or when a force-release revoked it. The keys of leases this
	 * repository does not track (granted by another repository on the same namespace), or
	 * that move to another TTL class, are read one by one, in a read transaction per
	 * hundred.
	 */
	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		if (leases.isEmpty()) {
			return Set.of();
		}
		long requestedAt = System.nanoTime();
		Set<String> lost = new HashSet<>();
		Map<EtcdLeasePool.SharedLease, List<LeaseSpec>> byEtcdLease = new IdentityHashMap<>();
		List<LeaseSpec> readOneByOne = new ArrayList<>();
		for (LeaseSpec lease : leases) {
			EtcdHeldLeases.Held entry = this.held.get(lease.token());
			if (entry == null || EtcdLeasePool.isOtherClass(lease.ttl(), entry.lease)) {
				readOneByOne.add(lease);
			}
			else {
				byEtcdLease.computeIfAbsent(entry.lease, (shared) -> new ArrayList<>()).add(lease);
			}
		}
		List<EtcdLeasePool.SharedLease> alive = new ArrayList<>(byEtcdLease.size());
		byEtcdLease.forEach((shared, onIt) -> {
			if (this.leases.keepAliveOnce(shared)) {
				alive.add(shared);
			}
			else {
				// etcd deleted every key attached to it.
				onIt.forEach((lease) -> {
					this.held.forget(lease.token());
					lost.add(lease.token());
				});
			}
		});
		readRevocations(alive);
		for (EtcdLeasePool.SharedLease shared : alive) {
			for (LeaseSpec lease : byEtcdLease.get(shared)) {
				EtcdHeldLeases.Held entry = this.held.get(lease.token());
				if (entry == null || entry.revoked) {
					this.held.forget(lease.token());
					lost.add(lease.token());
					if (entry == null && lease.fair()) {
						// Swept meanwhile: its place in the queue goes too (a
						// force-release
						// deleted a revoked one's already).
						this.held.deleteLater(lease.token(), this.keys.queueKey(lease.key(), lease.token()));
					}
				}
				else {
					entry.deadlineNanos = requestedAt + lease.ttl().toNanos();
				}
			}
		}
		lost.addAll(renewOneByOne(readOneByOne));
		return lost;
	}

	/**
	 * Reads the revocations on the etcd leases, in one transaction, marks the leases they
	 * name revoked, and deletes them.
	 */
	private void readRevocations(List<EtcdLeasePool.SharedLease> etcdLeases) {
		for (int from = 0; from < etcdLeases.size(); from += MAX_OPERATIONS) {
			List<EtcdLeasePool.SharedLease> part = etcdLeases.subList(from,
					Math.min(etcdLeases.size(), from + MAX_OPERATIONS));
			// Each built once: read by prefix, then cut from the answers' keys.
			ByteSequence[] prefixes = new ByteSequence[part.size()];
			Op[] reads = new Op[part.size()];
			for (int i = 0; i < part.size(); i++) {
				prefixes[i] = this.keys.revocationsPrefix(part.get(i).id);
				reads[i] = Op.get(prefixes[i], GetOption.builder().isPrefix(true).build());
			}
			List<GetResponse> answers = this.requests
				.call(() -> "Reading the revocations of " + part.size() + " etcd lease(s)",
						() -> this.kv.txn().Then(reads).commit())
				.getGetResponses();
			List<Op> deletions = new ArrayList<>();
			for (int i = 0; i < part.size(); i++) {
				int prefixLength = prefixes[i].size();
				for (KeyValue revocation : answers.get(i).getKvs()) {
					byte[] name = revocation.getKey().getBytes();
					String token = new String(name, prefixLength, name.length - prefixLength, StandardCharsets.UTF_8);
					EtcdHeldLeases.Held entry = this.held.get(token);
					if (entry != null) {
						entry.revoked = true;
					}
					deletions.add(Op.delete(revocation.getKey(), DeleteOption.DEFAULT));
				}
			}
			for (int d = 0; d < deletions.size(); d += MAX_OPERATIONS) {
				Op[] some = deletions.subList(d, Math.min(deletions.size(), d + MAX_OPERATIONS)).toArray(new Op[0]);
				this.requests.call(() -> "Deleting " + some.length + " read revocation(s)",
						() -> this.kv.txn().Then(some).commit());
			}
		}
	}

	/**
	 * Verifies that the leases' keys still exist with their tokens, in one read
	 * transaction per hundred leases, and moves each verified lease's local deadline.
	 */
	private Set<String> renewOneByOne(List<LeaseSpec> all) {
		Set<String> lost = new HashSet<>();
		for (int from = 0; from < all.size(); from += MAX_OPERATIONS) {
			List<LeaseSpec> batch = all.subList(from, Math.min(all.size(), from + MAX_OPERATIONS));
			long requestedAt = System.nanoTime();
			Op[] reads = new Op[batch.size()];
			for (int i = 0; i < batch.size(); i++) {
				reads[i] = Op.get(this.keys.etcdKey(batch.get(i)), GetOption.DEFAULT);
			}
			TxnResponse response = this.requests.call(() -> "Renewing " + batch.size() + " lease(s)",
					() -> this.kv.txn().Then(reads).commit());
			List<GetResponse> answers = response.getGetResponses();
			for (int i = 0; i < batch.size(); i++) {
				LeaseSpec lease = batch.get(i);
				List<KeyValue> found = answers.get(i).getKvs();
				if (found.isEmpty() || !lease.token().equals(EtcdKeys.Holder.parse(found.get(0)).token())
						|| !stillKeptAlive(lease, found.get(0), requestedAt)) {
					lost.add(lease.token());
					if (lease.fair()) {
						// Its place in the queue goes too, so that its successor moves
						// up.
						this.held.deleteLater(lease.token(), this.keys.queueKey(lease.key(), lease.token()));
					}
				}
			}
		}
		return lost;
	}

	/**
	 * Moves the local deadline of a verified lease, and moves its key to the shared lease
	 * of its TTL class when its TTL changed (a lease shortened to its minimum hold time
	 * must end then, even if this process dies).
	 */
	private boolean stillKeptAlive(LeaseSpec lease, KeyValue found, long requestedAt) {
		EtcdHeldLeases.Held entry = this.held.get(lease.token());
		if (entry == null) {
			// Granted by another repository on the same namespace: its keys are that
			// repository's to keep.
			return true;
		}
		if (!entry.lease.alive) {
			this.held.forget(lease.token());
			deleteIfOurs(lease, entry.etcdKey(), entry.value());
			return false;
		}
		if (EtcdLeasePool.isOtherClass(lease.ttl(), entry.lease) || found.getLease() != entry.lease.id) {
			EtcdLeasePool.SharedLease shared = this.leases.lease(lease.ttl());
			ByteSequence etcdKey = entry.etcdKey();
			ByteSequence value = entry.value();
			TxnResponse moved = this.requests.call(lease.key(), () -> "Renewing the lock",
					() -> this.kv.txn()
						.If(EtcdKeys.ours(etcdKey, value))
						.Then(Op.put(etcdKey, value, leased(shared)))
						.commit());
			if (!moved.isSucceeded()) {
				this.held.forget(lease.token());
				return false;
			}
			entry.lease = shared;
		}
		entry.deadlineNanos = requestedAt + lease.ttl().toNanos();
		return true;
	}

	// Inspection

	@Override
	public Optional<LockInfo> inspect(String key) {
		EtcdKeys.checkKey(key);
		GetResponse response = this.requests.call(key, () -> "Inspecting the lock",
				() -> this.kv.get(this.keys.holdersPrefix(key), GetOption.builder().isPrefix(true).build()));
		Map<Long, Optional<Duration>> leaseTtls = new HashMap<>();
		return describe(key, response.getKvs(), leaseTtls);
	}

	@Override
	public List<LockInfo> list() {
		GetResponse response = this.requests.call(() -> "Listing the held keys",
				() -> this.kv.get(this.keys.namespacePrefix(), GetOption.builder().isPrefix(true).build()));
		Map<String, List<KeyValue>> byKey = new TreeMap<>();
		for (KeyValue entry : response.getKvs()) {
			String key = this.keys.lockKeyOf(entry.getKey());
			if (key != null) {
				byKey.computeIfAbsent(key, (k) -> new ArrayList<>()).add(entry);
			}
		}
		Map<Long, Optional<Duration>> leaseTtls = new HashMap<>();
		List<LockInfo> listed = new ArrayList<>();
		byKey.forEach((key, entries) -> describe(key, entries, leaseTtls).ifPresent(listed::add));
		return listed;
	}

	private Optional<LockInfo> describe(String key, List<KeyValue> entries, Map<Long, Optional<Duration>> leaseTtls) {
		if (entries.isEmpty()) {
			return Optional.empty();
		}
		ByteSequence lockKey = this.keys.lockKey(key);
		int limit = 1;
		boolean shared = false;
		List<LockInfo.Holder> holders = new ArrayList<>();
		for (KeyValue entry : entries) {
			EtcdKeys.Holder holder = EtcdKeys.Holder.parse(entry);
			LockInfo.Holder described = new LockInfo.Holder(holder.owner(), entry.getCreateRevision(),
					remainingTtl(holder.token(), entry.getLease(), leaseTtls), holder.description());
			if (entry.getKey().equals(lockKey)) {
				return Optional.of(new LockInfo(key, LeaseMode.EXCLUSIVE, 1, List.of(described)));
			}
			shared = holder.permits() == EtcdKeys.SHARED_LIMIT;
			limit = Math.max(limit, holder.permits());
			holders.add(described);
		}
		return Optional.of(shared ? new LockInfo(key, LeaseMode.SHARED, 1, holders)
				: new LockInfo(key, LeaseMode.SEMAPHORE, limit, holders));
	}

	/**
	 * The remaining TTL of a holder: for this repository's own leases the local deadline
	 * (the key is deleted then), otherwise the remaining TTL of the holder's etcd lease,
	 * in the whole seconds etcd counts.
	 */
	private @Nullable Duration remainingTtl(String token, long leaseId, Map<Long, Optional<Duration>> leaseTtls) {
		EtcdHeldLeases.Held entry = this.held.get(token);
		if (entry != null) {
			return entry.remaining();
		}
		if (leaseId == 0) {
			return null;
		}
		return leaseTtls.computeIfAbsent(leaseId, (id) -> {
			try {
				long seconds = this.requests
					.call(() -> "Reading the TTL of lease " + id,
							() -> this.leaseClient.timeToLive(id, LeaseOption.DEFAULT))
					.getTTL();
				return Optional.of(Duration.ofSeconds(Math.max(0, seconds)));
			}
			catch (LockBackendException ex) {
				return Optional.empty();
			}
		}).orElse(null);
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		EtcdKeys.checkKey(key);
		return this.watches.subscribe(key, onRelease);
	}

	/**
	 * Tells the listener when every lock on one of this repository's etcd leases is lost
	 * at once: etcd reports the lease expired or revoked, or its keep-alive went
	 * unanswered for its TTL (also, once per outage, when the keep-alive stream fails, so
	 * that the core verifies its leases at once).
	 */
	@Override
	public ReleaseSubscription subscribeToLoss(Runnable onPossibleLoss) {
		return this.leases.subscribeToLoss(onPossibleLoss);
	}

	/**
	 * Stops the watches, the keep-alives and the expiry sweep (waiting for its thread to
	 * end), and revokes this repository's etcd leases, which deletes the keys it still
	 * holds and its writer waits. Does not close the client.
	 */
	@Override
	public void close() {
		if (!this.closed.compareAndSet(false, true)) {
			return;
		}
		this.watches.close();
		this.queue.close();
		this.held.close();
		this.leases.close();
		// Writer waits and places still recorded (a waiter that had not given up yet) end
		// now.
		this.waitLeases.values().forEach((wait) -> revokeQuietly(wait.id));
		this.waitLeases.clear();
	}

	private static PutOption leased(EtcdLeasePool.SharedLease shared) {
		return PutOption.builder().withLeaseId(shared.id).build();
	}

	private static GetOption countOnly() {
		return GetOption.builder().isPrefix(true).withCountOnly(true).build();
	}

	private static GetOption firstCreated() {
		return GetOption.builder()
			.isPrefix(true)
			.withSortField(GetOption.SortTarget.CREATE)
			.withSortOrder(GetOption.SortOrder.ASCEND)
			.withLimit(1)
			.withKeysOnly(true)
			.build();
	}

	/**
	 * The holder of a key's prefix created first: its limit is the key's mode and number
	 * of permits.
	 */
	private static GetOption firstHolder() {
		return firstHolders(1);
	}

	/**
	 * The holders of a key's prefix, first created first, up to a number.
	 */
	private static GetOption firstHolders(int limit) {
		return GetOption.builder()
			.isPrefix(true)
			.withSortField(GetOption.SortTarget.CREATE)
			.withSortOrder(GetOption.SortOrder.ASCEND)
			.withLimit(limit)
			.build();
	}

	/**
	 * A wait lease: its id, when it was last granted or kept alive
	 * ({@link System#nanoTime()}), and whether etcd still knew it then.
	 */
	private static final class WaitLease {

		final long id;

		volatile long renewedAt;

		volatile boolean alive = true;

		WaitLease(long id, long renewedAt) {
			this.id = id;
			this.renewedAt = renewedAt;
		}

	}

}
