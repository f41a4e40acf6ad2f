package dev.latchkey.etcd;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.stub.StreamObserver;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.util.Assert;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockInfo;
import dev.latchkey.LockLimitConflictException;
import dev.latchkey.LockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.support.FailureMessages;
import dev.latchkey.support.ReleaseListeners;

/**
 * The etcd v3 backend: locks shared by every process that uses the same etcd cluster, through a jetcd
 * {@link Client}.
 * <pre class="code">
 * Client client = Client.builder().endpoints("http://etcd-1:2379", "http://etcd-2:2379", "http://etcd-3:2379").build();
 * EtcdLockRepository repository = new EtcdLockRepository(client, "latchkey/", Duration.ofSeconds(5));
 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults(), null);
 * locks.exclusive("order:42").run(() -&gt; pay(42));
 * </pre>
 * <p>
 * <b>Keys.</b> For the lock key {@code k} in the namespace {@code ns}, an exclusive holder is the etcd key
 * {@code ns k \0} and each semaphore permit the etcd key {@code ns k \0 token}, so that one prefix ({@code ns k \0})
 * covers every holder of a key: one range read inspects it, one watch hears all its releases, one delete
 * force-releases it. The value is {@code token \n limit \n owner}. Lock keys must not contain the NUL character.
 * <p>
 * <b>Acquire and release.</b> Acquiring is one transaction: put the key with this instance's lease if its create
 * revision is 0 (it does not exist). The revision of that put is the fencing token: etcd revisions are global to the
 * cluster and never go backwards, so tokens strictly increase for every key, across holders, expiry and force-release.
 * Releasing is one transaction that deletes the key only if its value is still ours. A semaphore permit is one
 * transaction too: put the holder's key and read the first {@code limit} holders ordered by create revision; the
 * permit is granted when the new key is among them, and otherwise deleted again at once. Since create revisions are
 * totally ordered and a key that is deleted never comes back with its old revision, no more than {@code limit} keys
 * can ever have seen themselves among the first {@code limit}. A repository that was refused a permit reads the
 * holders before it writes on its next attempt at that key, so that waiting processes do not wake each other with the
 * deletions of refused attempts.
 * <p>
 * <b>Leases.</b> Keys are attached to one etcd lease per <em>time-to-live class</em> and repository: a lock's TTL
 * rounded up to whole seconds (etcd counts lease TTLs in seconds). jetcd's keep-alive stream keeps each of these
 * leases alive, so the keep-alive traffic depends on the number of distinct TTLs in use, never on the number of held
 * locks. When this process dies, its leases expire after their TTL and etcd deletes their keys. While the process
 * lives, a key whose lock the core stops renewing is deleted by this repository itself when the lock's own TTL has
 * passed since its last renewal (measured on the local monotonic clock, from after the server answered, so never before
 * the core stops trusting the lease). {@link #renew} therefore verifies with one read transaction that the keys still
 * exist with our token, and answers those that do not. A lease that etcd reports expired or revoked, or whose
 * keep-alive went unanswered for its TTL, makes every lock on it lost at once: the repository tells the core through
 * {@link #subscribeToLoss}, and the next renewal reports them.
 * <p>
 * <b>Waiting.</b> {@link #subscribe} opens one watch per key (shared by the key's local waiters) for deletions under
 * the key's prefix, which come from releases, force-releases and expired leases alike.
 * <p>
 * etcd failures (unreachable cluster, no leader, timeouts, authentication) are thrown as {@link LockBackendException}.
 * Close the repository to stop its watches and keep-alives and to revoke its leases, which frees the keys this
 * instance still holds.
 */
public class EtcdLockRepository implements LockRepository, AutoCloseable {

	/**
	 * The namespace used when none is given.
	 */
	public static final String DEFAULT_NAMESPACE = "latchkey/";

	/**
	 * The request timeout used when none is given.
	 */
	public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);

	private static final LogAccessor logger = new LogAccessor(EtcdLockRepository.class);

	private static final byte SEPARATOR = 0;

	private static final long SWEEP_INTERVAL_MILLIS = 50;

	// etcd refuses transactions of more than 128 operations by default (--max-txn-ops).
	private static final int MAX_OPERATIONS = 100;

	private static final int MAX_REMEMBERED_FULL_SEMAPHORES = 10_000;

	private final KV kv;

	private final Lease leaseClient;

	private final Watch watchClient;

	private final byte[] namespace;

	private final Duration requestTimeout;

	private final ReleaseListeners listeners = new ReleaseListeners();

	private final List<Runnable> lossListeners = new CopyOnWriteArrayList<>();

	private final Object leaseMonitor = new Object();

	private final Map<Long, SharedLease> leases = new ConcurrentHashMap<>();

	private final Map<String, Held> held = new ConcurrentHashMap<>();

	private final Object watchMonitor = new Object();

	private final Map<String, KeyWatch> watches = new HashMap<>();

	private final Set<String> fullSemaphores = ConcurrentHashMap.newKeySet();

	private final ScheduledThreadPoolExecutor expiry;

	private volatile boolean closed;

	/**
	 * Makes a repository in the {@linkplain #DEFAULT_NAMESPACE default namespace}, with the
	 * {@linkplain #DEFAULT_REQUEST_TIMEOUT default request timeout}.
	 * @param client the jetcd client, which the repository uses but does not close
	 */
	public EtcdLockRepository(Client client) {
		this(client, DEFAULT_NAMESPACE, DEFAULT_REQUEST_TIMEOUT);
	}

	/**
	 * Makes a repository.
	 * @param client the jetcd client, which the repository uses but does not close
	 * @param namespace the prefix of every etcd key the repository writes; repositories lock together only when they
	 * use the same namespace
	 * @param requestTimeout how long one request may wait for etcd's answer before it fails; keep it well below the
	 * locks' TTL
	 */
	public EtcdLockRepository(Client client, String namespace, Duration requestTimeout) {
		Assert.notNull(client, "Client must not be null");
		Assert.hasLength(namespace, "Namespace must not be empty");
		Assert.isTrue(namespace.indexOf(SEPARATOR) < 0, "Namespace must not contain the NUL character");
		Assert.isTrue(requestTimeout != null && !requestTimeout.isNegative() && !requestTimeout.isZero(),
				"Request timeout must be positive");
		this.kv = client.getKVClient();
		this.leaseClient = client.getLeaseClient();
		this.watchClient = client.getWatchClient();
		this.namespace = namespace.getBytes(StandardCharsets.UTF_8);
		this.requestTimeout = requestTimeout;
		CustomizableThreadFactory threads = new CustomizableThreadFactory("latchkey-etcd-expiry-");
		threads.setDaemon(true);
		this.expiry = new ScheduledThreadPoolExecutor(1, threads);
		this.expiry.scheduleWithFixedDelay(this::deleteExpired, SWEEP_INTERVAL_MILLIS, SWEEP_INTERVAL_MILLIS,
				TimeUnit.MILLISECONDS);
	}

	@Override
	public String backend() {
		return "etcd";
	}

	/**
	 * The namespace of this repository's keys.
	 * @return the namespace
	 */
	public String getNamespace() {
		return new String(this.namespace, StandardCharsets.UTF_8);
	}

	// Acquire and release

	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		checkKey(lease.key());
		ByteSequence etcdKey = lockKey(lease.key());
		ByteSequence value = value(lease);
		TxnResponse response = withLease(lease, etcdKey, value, (shared) -> call(
				() -> "Acquiring '" + lease.key() + "'",
				() -> this.kv.txn()
					.If(absent(etcdKey))
					.Then(Op.put(etcdKey, value, leased(shared)), Op.get(holdersPrefix(lease.key()), countOnly()))
					.commit()));
		if (!response.isSucceeded()) {
			this.held.remove(lease.token());
			return OptionalLong.empty();
		}
		if (response.getGetResponses().get(0).getCount() > 1) {
			// Permits of a semaphore are held on the same key: an exclusive lease must not join them.
			deleteIfOurs(lease, etcdKey, value);
			return OptionalLong.empty();
		}
		granted(lease);
		return OptionalLong.of(response.getHeader().getRevision());
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		checkKey(lease.key());
		ByteSequence lockKey = lockKey(lease.key());
		ByteSequence prefix = holdersPrefix(lease.key());
		if (this.fullSemaphores.contains(lease.key())) {
			GetOption firstHolder = GetOption.builder()
				.isPrefix(true)
				.withSortField(GetOption.SortTarget.CREATE)
				.withSortOrder(GetOption.SortOrder.ASCEND)
				.withLimit(1)
				.build();
			TxnResponse probe = call(() -> "Acquiring a permit of '" + lease.key() + "'",
					() -> this.kv.txn()
						.If(absent(lockKey))
						.Then(Op.get(prefix, countOnly()), Op.get(prefix, firstHolder))
						.commit());
			if (!probe.isSucceeded()) {
				return OptionalLong.empty();
			}
			checkLimit(lease, probe.getGetResponses().get(1).getKvs());
			if (probe.getGetResponses().get(0).getCount() >= lease.limit()) {
				return OptionalLong.empty();
			}
		}
		ByteSequence etcdKey = permitKey(lease.key(), lease.token());
		ByteSequence value = value(lease);
		GetOption firstHolders = GetOption.builder()
			.isPrefix(true)
			.withSortField(GetOption.SortTarget.CREATE)
			.withSortOrder(GetOption.SortOrder.ASCEND)
			.withLimit(lease.limit())
			.build();
		TxnResponse response = withLease(lease, etcdKey, value, (shared) -> call(
				() -> "Acquiring a permit of '" + lease.key() + "'",
				() -> this.kv.txn()
					.If(absent(lockKey))
					.Then(Op.put(etcdKey, value, leased(shared)), Op.get(prefix, firstHolders))
					.commit()));
		if (!response.isSucceeded()) {
			this.held.remove(lease.token());
			return OptionalLong.empty();
		}
		List<KeyValue> first = response.getGetResponses().get(0).getKvs();
		if (!first.isEmpty() && !first.get(0).getKey().equals(etcdKey)) {
			int heldLimit = Holder.parse(first.get(0)).limit();
			if (heldLimit != lease.limit()) {
				deleteIfOurs(lease, etcdKey, value);
				throw new LockLimitConflictException(lease.key(), lease.limit(), heldLimit);
			}
		}
		boolean granted = first.stream().anyMatch((holder) -> holder.getKey().equals(etcdKey));
		if (!granted) {
			deleteIfOurs(lease, etcdKey, value);
			rememberFull(lease.key());
			return OptionalLong.empty();
		}
		this.fullSemaphores.remove(lease.key());
		granted(lease);
		return OptionalLong.of(response.getHeader().getRevision());
	}

	/**
	 * Refuses a permit whose limit is not the one of the key's first holder, which fixes it while the key is held.
	 */
	private static void checkLimit(LeaseSpec lease, List<KeyValue> firstHolder) {
		if (!firstHolder.isEmpty()) {
			int heldLimit = Holder.parse(firstHolder.get(0)).limit();
			if (heldLimit != lease.limit()) {
				throw new LockLimitConflictException(lease.key(), lease.limit(), heldLimit);
			}
		}
	}

	private void rememberFull(String key) {
		if (this.fullSemaphores.size() >= MAX_REMEMBERED_FULL_SEMAPHORES) {
			this.fullSemaphores.clear();
		}
		this.fullSemaphores.add(key);
	}

	/**
	 * Runs an acquisition with the shared lease of the lease's TTL class; again with a new one if etcd no longer knows
	 * the lease. The lease is tracked before the request is sent: should the answer be lost (a timeout), a put that did
	 * land is still deleted when the lock's TTL has passed, rather than kept alive by the shared lease for ever.
	 */
	private TxnResponse withLease(LeaseSpec lease, ByteSequence etcdKey, ByteSequence value,
			Function<SharedLease, TxnResponse> acquisition) {
		for (int attempt = 1;; attempt++) {
			SharedLease shared = sharedLease(lease.ttl());
			this.held.put(lease.token(), new Held(lease, etcdKey, value, shared, deadline(lease.ttl())));
			try {
				return acquisition.apply(shared);
			}
			catch (LockBackendException ex) {
				if (attempt == 1 && isLeaseNotFound(ex)) {
					this.held.remove(lease.token());
					shared.expired("etcd no longer knows it");
					continue;
				}
				throw ex;
			}
		}
	}

	private void granted(LeaseSpec lease) {
		Held entry = this.held.get(lease.token());
		if (entry != null) {
			entry.deadlineNanos = deadline(lease.ttl());
		}
	}

	private void deleteIfOurs(LeaseSpec lease, ByteSequence etcdKey, ByteSequence value) {
		try {
			call(() -> "Withdrawing the refused attempt at '" + lease.key() + "'",
					() -> this.kv.txn().If(ours(etcdKey, value)).Then(Op.delete(etcdKey, DeleteOption.DEFAULT)).commit());
			this.held.remove(lease.token());
		}
		catch (LockBackendException ex) {
			// Left to the expiry sweep, which retries until the key is gone.
			logger.debug(ex, () -> "Could not withdraw the refused attempt at '" + lease.key() + "'");
		}
	}

	@Override
	public boolean release(LeaseSpec lease) {
		ByteSequence etcdKey = etcdKey(lease);
		ByteSequence value = value(lease);
		TxnResponse response;
		try {
			response = call(() -> "Releasing '" + lease.key() + "'",
					() -> this.kv.txn().If(ours(etcdKey, value)).Then(Op.delete(etcdKey, DeleteOption.DEFAULT)).commit());
		}
		catch (LockBackendException ex) {
			Held entry = this.held.get(lease.token());
			if (entry != null) {
				// The caller has given the lease up: the expiry sweep deletes it as soon as etcd answers again.
				entry.deadlineNanos = System.nanoTime();
			}
			throw ex;
		}
		this.held.remove(lease.token());
		return response.isSucceeded();
	}

	@Override
	public boolean forceRelease(String key) {
		checkKey(key);
		TxnResponse response = call(() -> "Force-releasing '" + key + "'",
				() -> this.kv.txn()
					.Then(Op.delete(holdersPrefix(key), DeleteOption.builder().isPrefix(true).build()))
					.commit());
		// No fencing counter to bump: the next grant's revision is above the deletion's, which is above every evicted
		// holder's.
		return response.getDeleteResponses().get(0).getDeleted() > 0;
	}

	// Renewal

	/**
	 * Verifies that the leases' keys still exist with their tokens, in one read transaction per hundred leases, and
	 * moves each verified lease's local deadline. The etcd leases themselves are kept alive by jetcd's keep-alive
	 * stream, whatever the number of locks.
	 */
	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		if (leases.isEmpty()) {
			return Set.of();
		}
		Set<String> lost = new HashSet<>();
		List<LeaseSpec> all = List.copyOf(leases);
		for (int from = 0; from < all.size(); from += MAX_OPERATIONS) {
			List<LeaseSpec> batch = all.subList(from, Math.min(all.size(), from + MAX_OPERATIONS));
			long requestedAt = System.nanoTime();
			Op[] reads = new Op[batch.size()];
			for (int i = 0; i < batch.size(); i++) {
				reads[i] = Op.get(etcdKey(batch.get(i)), GetOption.DEFAULT);
			}
			TxnResponse response = call(() -> "Renewing " + batch.size() + " lease(s)",
					() -> this.kv.txn().Then(reads).commit());
			List<GetResponse> answers = response.getGetResponses();
			for (int i = 0; i < batch.size(); i++) {
				LeaseSpec lease = batch.get(i);
				List<KeyValue> found = answers.get(i).getKvs();
				if (found.isEmpty() || !lease.token().equals(Holder.parse(found.get(0)).token())
						|| !stillKeptAlive(lease, found.get(0), requestedAt)) {
					lost.add(lease.token());
				}
			}
		}
		return lost;
	}

	/**
	 * Moves the local deadline of a verified lease, and moves its key to the shared lease of its TTL class when its TTL
	 * changed (a lease shortened to its minimum hold time must end then, even if this process dies).
	 */
	private boolean stillKeptAlive(LeaseSpec lease, KeyValue found, long requestedAt) {
		Held entry = this.held.get(lease.token());
		if (entry == null) {
			// Granted by another repository on the same namespace: its keys are that repository's to keep.
			return true;
		}
		if (!entry.lease.alive) {
			this.held.remove(lease.token());
			deleteIfOurs(lease, entry.etcdKey, entry.value);
			return false;
		}
		if (ttlClass(lease.ttl()) != entry.lease.seconds || found.getLease() != entry.lease.id) {
			SharedLease shared = sharedLease(lease.ttl());
			TxnResponse moved = call(() -> "Renewing '" + lease.key() + "'",
					() -> this.kv.txn()
						.If(ours(entry.etcdKey, entry.value))
						.Then(Op.put(entry.etcdKey, entry.value, leased(shared)))
						.commit());
			if (!moved.isSucceeded()) {
				this.held.remove(lease.token());
				return false;
			}
			entry.lease = shared;
		}
		entry.deadlineNanos = requestedAt + lease.ttl().toNanos();
		return true;
	}

	/**
	 * Deletes the keys of leases the core stopped renewing, once their TTL has passed: a live process does not keep a
	 * lock it no longer renews.
	 */
	private void deleteExpired() {
		long now = System.nanoTime();
		for (Held entry : this.held.values()) {
			if (this.closed) {
				return;
			}
			if (now - entry.deadlineNanos >= 0) {
				try {
					call(() -> "Deleting the expired lease of '" + entry.spec.key() + "'",
							() -> this.kv.txn()
								.If(ours(entry.etcdKey, entry.value))
								.Then(Op.delete(entry.etcdKey, DeleteOption.DEFAULT))
								.commit());
					this.held.remove(entry.spec.token(), entry);
				}
				catch (RuntimeException ex) {
					entry.deadlineNanos = now + TimeUnit.SECONDS.toNanos(1);
					logger.debug(ex, () -> "Could not delete the expired lease of '" + entry.spec.key() + "'");
				}
			}
		}
	}

	// Inspection

	@Override
	public Optional<LockInfo> inspect(String key) {
		checkKey(key);
		GetResponse response = call(() -> "Inspecting '" + key + "'",
				() -> this.kv.get(holdersPrefix(key), GetOption.builder().isPrefix(true).build()));
		Map<Long, Optional<Duration>> leaseTtls = new HashMap<>();
		return describe(key, response.getKvs(), leaseTtls);
	}

	@Override
	public List<LockInfo> list() {
		GetResponse response = call(() -> "Listing the held keys",
				() -> this.kv.get(ByteSequence.from(this.namespace), GetOption.builder().isPrefix(true).build()));
		Map<String, List<KeyValue>> byKey = new TreeMap<>();
		int start = this.namespace.length;
		for (KeyValue entry : response.getKvs()) {
			byte[] etcdKey = entry.getKey().getBytes();
			int separator = indexOf(etcdKey, SEPARATOR, start);
			if (separator > start) {
				String key = new String(etcdKey, start, separator - start, StandardCharsets.UTF_8);
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
		ByteSequence lockKey = lockKey(key);
		int limit = 1;
		List<LockInfo.Holder> holders = new ArrayList<>();
		for (KeyValue entry : entries) {
			Holder holder = Holder.parse(entry);
			LockInfo.Holder described = new LockInfo.Holder(holder.owner(), entry.getCreateRevision(),
					remainingTtl(holder.token(), entry.getLease(), leaseTtls));
			if (entry.getKey().equals(lockKey)) {
				return Optional.of(new LockInfo(key, LeaseMode.EXCLUSIVE, 1, List.of(described)));
			}
			limit = Math.max(limit, holder.limit());
			holders.add(described);
		}
		return Optional.of(new LockInfo(key, LeaseMode.SHARED, limit, holders));
	}

	/**
	 * The remaining TTL of a holder: for this repository's own leases the local deadline (the key is deleted then),
	 * otherwise the remaining TTL of the holder's etcd lease, in the whole seconds etcd counts.
	 */
	private @Nullable Duration remainingTtl(String token, long leaseId, Map<Long, Optional<Duration>> leaseTtls) {
		Held entry = this.held.get(token);
		if (entry != null) {
			return Duration.ofNanos(Math.max(0, entry.deadlineNanos - System.nanoTime()));
		}
		if (leaseId == 0) {
			return null;
		}
		return leaseTtls.computeIfAbsent(leaseId, (id) -> {
			try {
				long seconds = call(() -> "Reading the TTL of lease " + id,
						() -> this.leaseClient.timeToLive(id, LeaseOption.DEFAULT)).getTTL();
				return Optional.of(Duration.ofSeconds(Math.max(0, seconds)));
			}
			catch (LockBackendException ex) {
				return Optional.empty();
			}
		}).orElse(null);
	}

	// Release and loss notifications

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		checkKey(key);
		ReleaseSubscription listener = this.listeners.add(key, onRelease);
		KeyWatch watch;
		synchronized (this.watchMonitor) {
			if (this.closed) {
				listener.close();
				throw new LockBackendException(backend(), "etcd lock repository is closed", null);
			}
			watch = this.watches.get(key);
			if (watch == null || watch.isClosed()) {
				watch = new KeyWatch(key);
				this.watches.put(key, watch);
			}
			watch.users++;
		}
		KeyWatch subscribed = watch;
		ReleaseSubscription subscription = new ReleaseSubscription() {

			private final AtomicBoolean closed = new AtomicBoolean();

			@Override
			public void close() {
				if (this.closed.compareAndSet(false, true)) {
					listener.close();
					unwatch(subscribed);
				}
			}

		};
		subscribed.awaitCreated(this.requestTimeout);
		return subscription;
	}

	private void unwatch(KeyWatch watch) {
		synchronized (this.watchMonitor) {
			if (--watch.users > 0) {
				return;
			}
			this.watches.remove(watch.key, watch);
		}
		watch.close();
	}

	@Override
	public ReleaseSubscription subscribeToLoss(Runnable onPossibleLoss) {
		Runnable listener = onPossibleLoss::run;
		this.lossListeners.add(listener);
		return () -> this.lossListeners.remove(listener);
	}

	private void possibleLoss() {
		for (Runnable listener : this.lossListeners) {
			try {
				listener.run();
			}
			catch (RuntimeException ex) {
				logger.warn(ex, "Loss listener failed");
			}
		}
	}

	/**
	 * Stops the watches, the keep-alives and the expiry sweep, and revokes this repository's etcd leases, which deletes
	 * the keys it still holds. Does not close the client.
	 */
	@Override
	public void close() {
		List<KeyWatch> open;
		synchronized (this.watchMonitor) {
			if (this.closed) {
				return;
			}
			this.closed = true;
			open = new ArrayList<>(this.watches.values());
			this.watches.clear();
		}
		this.expiry.shutdownNow();
		open.forEach(KeyWatch::close);
		List<SharedLease> granted;
		synchronized (this.leaseMonitor) {
			granted = new ArrayList<>(this.leases.values());
			this.leases.clear();
		}
		for (SharedLease shared : granted) {
			shared.revoke();
		}
		this.held.clear();
	}

	// Shared leases

	private SharedLease sharedLease(Duration ttl) {
		long seconds = ttlClass(ttl);
		SharedLease shared = this.leases.get(seconds);
		if (shared != null && shared.alive) {
			return shared;
		}
		synchronized (this.leaseMonitor) {
			if (this.closed) {
				throw new LockBackendException(backend(), "etcd lock repository is closed", null);
			}
			shared = this.leases.get(seconds);
			if (shared != null && shared.alive) {
				return shared;
			}
			long id = call(() -> "Granting a lease of " + seconds + " s", () -> this.leaseClient.grant(seconds))
				.getID();
			shared = new SharedLease(seconds, id);
			this.leases.put(seconds, shared);
			shared.keepAlive();
			return shared;
		}
	}

	private static long ttlClass(Duration ttl) {
		return Math.max(1, (ttl.toMillis() + 999) / 1000);
	}

	/**
	 * One etcd lease that the keys of every lock of one TTL class are attached to, kept alive by jetcd's keep-alive
	 * stream.
	 */
	private final class SharedLease implements StreamObserver<LeaseKeepAliveResponse> {

		final long seconds;

		final long id;

		volatile boolean alive = true;

		private volatile boolean answering = true;

		private @Nullable CloseableClient keepAlive;

		SharedLease(long seconds, long id) {
			this.seconds = seconds;
			this.id = id;
		}

		void keepAlive() {
			this.keepAlive = EtcdLockRepository.this.leaseClient.keepAlive(this.id, this);
		}

		@Override
		public void onNext(LeaseKeepAliveResponse response) {
			this.answering = true;
		}

		@Override
		public void onError(Throwable failure) {
			if (isLeaseNotFound(failure)) {
				expired("etcd reports it expired or revoked");
				return;
			}
			// jetcd restarts the stream itself; tell the core once per outage, so it verifies its leases now.
			logger.debug(failure, () -> "Keep-alive of etcd lease " + Long.toHexString(this.id) + " failed");
			if (this.answering) {
				this.answering = false;
				possibleLoss();
			}
		}

		@Override
		public void onCompleted() {
			// jetcd completes a keep-alive when the lease's TTL passed without an answer: etcd has expired it.
			expired("its keep-alive went unanswered for its TTL");
		}

		void expired(String why) {
			if (!this.alive) {
				return;
			}
			this.alive = false;
			EtcdLockRepository.this.leases.remove(this.seconds, this);
			closeKeepAlive();
			if (!EtcdLockRepository.this.closed) {
				logger.warn(() -> "etcd lease " + Long.toHexString(this.id) + " (TTL " + this.seconds + " s) is lost: "
						+ why + "; the locks on it are lost");
				possibleLoss();
			}
		}

		void revoke() {
			this.alive = false;
			closeKeepAlive();
			try {
				EtcdLockRepository.this.leaseClient.revoke(this.id).get(1, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			catch (ExecutionException | TimeoutException | RuntimeException ex) {
				logger.debug(ex, () -> "Could not revoke etcd lease " + Long.toHexString(this.id)
						+ "; it expires after its TTL");
			}
		}

		private void closeKeepAlive() {
			CloseableClient keepAlive = this.keepAlive;
			if (keepAlive != null) {
				try {
					keepAlive.close();
				}
				catch (RuntimeException ex) {
					logger.debug(ex, "Closing a keep-alive failed");
				}
			}
		}

	}

	/**
	 * A lease this repository granted and tracks until it is released or lost: its key is deleted when its local
	 * deadline passes without a renewal.
	 */
	private static final class Held {

		final LeaseSpec spec;

		final ByteSequence etcdKey;

		final ByteSequence value;

		volatile SharedLease lease;

		volatile long deadlineNanos;

		Held(LeaseSpec spec, ByteSequence etcdKey, ByteSequence value, SharedLease lease, long deadlineNanos) {
			this.spec = spec;
			this.etcdKey = etcdKey;
			this.value = value;
			this.lease = lease;
			this.deadlineNanos = deadlineNanos;
		}

	}

	/**
	 * One watch of a key's prefix for deletions, shared by the key's local subscribers.
	 */
	private final class KeyWatch implements Watch.Listener {

		final String key;

		int users;

		private final CompletableFuture<Void> created = new CompletableFuture<>();

		private final AtomicBoolean closed = new AtomicBoolean();

		private final Watch.Watcher watcher;

		KeyWatch(String key) {
			this.key = key;
			WatchOption option = WatchOption.builder()
				.isPrefix(true)
				.withNoPut(true)
				.withCreateNotify(true)
				.build();
			this.watcher = EtcdLockRepository.this.watchClient.watch(holdersPrefix(key), option, this);
		}

		/**
		 * Waits until etcd confirmed the watch, so that no release after the subscription is missed. A watch that is not
		 * confirmed in time stays (jetcd keeps trying); waiters poll meanwhile.
		 */
		void awaitCreated(Duration timeout) {
			try {
				this.created.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			catch (ExecutionException | TimeoutException ex) {
				logger.debug(ex, () -> "Watch of '" + this.key + "' not confirmed within " + timeout);
			}
		}

		@Override
		public void onNext(WatchResponse response) {
			if (response.isCreatedNotify()) {
				this.created.complete(null);
				return;
			}
			for (WatchEvent event : response.getEvents()) {
				if (event.getEventType() == WatchEvent.EventType.DELETE) {
					EtcdLockRepository.this.listeners.released(this.key);
					return;
				}
			}
		}

		@Override
		public void onError(Throwable failure) {
			// jetcd resumes the watch where it stopped; wake the waiters anyway, in case the resumption misses a release.
			logger.debug(failure, () -> "Watch of '" + this.key + "' failed");
			EtcdLockRepository.this.listeners.released(this.key);
		}

		@Override
		public void onCompleted() {
			this.closed.set(true);
			EtcdLockRepository.this.listeners.released(this.key);
		}

		boolean isClosed() {
			return this.closed.get();
		}

		void close() {
			this.closed.set(true);
			try {
				this.watcher.close();
			}
			catch (RuntimeException ex) {
				logger.debug(ex, "Closing a watch failed");
			}
		}

	}

	/**
	 * What a key's value says: the holder's lease token, the semaphore's limit and the owner.
	 */
	private record Holder(String token, int limit, String owner) {

		static Holder parse(KeyValue entry) {
			String[] parts = entry.getValue().toString(StandardCharsets.UTF_8).split("\n", 3);
			if (parts.length < 3) {
				return new Holder(parts[0], 1, "?");
			}
			int limit;
			try {
				limit = Integer.parseInt(parts[1]);
			}
			catch (NumberFormatException ex) {
				limit = 1;
			}
			return new Holder(parts[0], limit, parts[2]);
		}

	}

	// Keys and values

	private void checkKey(String key) {
		Assert.isTrue(key.indexOf(SEPARATOR) < 0, "Lock keys of the etcd backend must not contain the NUL character");
	}

	private ByteSequence holdersPrefix(String key) {
		byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
		byte[] prefix = Arrays.copyOf(this.namespace, this.namespace.length + bytes.length + 1);
		System.arraycopy(bytes, 0, prefix, this.namespace.length, bytes.length);
		prefix[prefix.length - 1] = SEPARATOR;
		return ByteSequence.from(prefix);
	}

	private ByteSequence lockKey(String key) {
		return holdersPrefix(key);
	}

	private ByteSequence permitKey(String key, String token) {
		return holdersPrefix(key).concat(ByteSequence.from(token, StandardCharsets.UTF_8));
	}

	private ByteSequence etcdKey(LeaseSpec lease) {
		return (lease.mode() == LeaseMode.EXCLUSIVE) ? lockKey(lease.key()) : permitKey(lease.key(), lease.token());
	}

	private static ByteSequence value(LeaseSpec lease) {
		return ByteSequence.from(lease.token() + "\n" + lease.limit() + "\n" + lease.owner(), StandardCharsets.UTF_8);
	}

	private static Cmp absent(ByteSequence etcdKey) {
		return new Cmp(etcdKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0));
	}

	private static Cmp ours(ByteSequence etcdKey, ByteSequence value) {
		return new Cmp(etcdKey, Cmp.Op.EQUAL, CmpTarget.value(value));
	}

	private static PutOption leased(SharedLease shared) {
		return PutOption.builder().withLeaseId(shared.id).build();
	}

	private static GetOption countOnly() {
		return GetOption.builder().isPrefix(true).withCountOnly(true).build();
	}

	private static int indexOf(byte[] bytes, byte wanted, int from) {
		for (int i = from; i < bytes.length; i++) {
			if (bytes[i] == wanted) {
				return i;
			}
		}
		return -1;
	}

	private static long deadline(Duration ttl) {
		return System.nanoTime() + ttl.toNanos();
	}

	// Requests and failures

	private <T> T call(Supplier<String> action, Supplier<CompletableFuture<T>> request) {
		CompletableFuture<T> future;
		try {
			future = request.get();
		}
		catch (RuntimeException ex) {
			throw failed(action, ex);
		}
		try {
			return future.get(this.requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (TimeoutException ex) {
			future.cancel(true);
			throw new LockBackendException(backend(), action.get() + " at the etcd backend failed: no answer within "
					+ this.requestTimeout.toMillis() + " ms (are the endpoints reachable, and does the cluster have a"
					+ " quorum?)", ex);
		}
		catch (ExecutionException ex) {
			throw failed(action, (ex.getCause() != null) ? ex.getCause() : ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			future.cancel(true);
			throw new LockBackendException(backend(), action.get() + " at the etcd backend was interrupted", ex);
		}
	}

	private LockBackendException failed(Supplier<String> action, Throwable failure) {
		return new LockBackendException(backend(), action.get() + " at the etcd backend failed: "
				+ FailureMessages.reason(failure),
				failure);
	}

	private static boolean isLeaseNotFound(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof EtcdException etcd && etcd.getErrorCode() == ErrorCode.NOT_FOUND
					&& String.valueOf(etcd.getMessage()).contains("lease not found")) {
				return true;
			}
			if (cause.getCause() == cause) {
				break;
			}
		}
		return false;
	}

}
