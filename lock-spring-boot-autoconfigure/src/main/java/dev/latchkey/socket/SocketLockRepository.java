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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.util.Assert;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockInfo;
import dev.latchkey.LockKeyException;
import dev.latchkey.LockPermitsConflictException;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.support.OwnerRecordLeases;
import dev.latchkey.support.OwnerRecordLeases.Record;

/**
 * The local unix-domain-socket backend: locks shared by the processes of one host (and
 * the threads of each), with no server to run.
 *
 * <pre class="code">
 * try (SocketLockRepository repository = new SocketLockRepository(SocketLockRepository.defaultDirectory())) {
 *     LockTemplate locks = new LockTemplate(repository, LockSettings.defaults());
 *     locks.exclusive("nightly-report").run(this::build);
 * }
 * </pre>
 * <p>
 * <b>The arbiter.</b> One repository on the host serves the lock table to all the others
 * over the socket {@code arbiter.sock} of the lock directory: the first that finds nobody
 * answering wins the election ({@link ArbiterElection}) and runs a {@link SocketArbiter}
 * until it is {@link #close() closed}.
 * <p>
 * <b>Leases</b> belong to the connection that took them: when a client process exits or
 * crashes, its connection closes and its leases are freed at once. When the
 * <em>arbiter's</em> process exits or crashes, no lease is lost: the other clients keep
 * theirs, elect a successor and re-assert them there (key, token, fencing token, expiry);
 * the successor grants nothing new until every client that may hold leases has
 * re-asserted them or is gone, or until every lease its predecessor promised has expired.
 * Fencing continues above every token granted before.
 * <p>
 * <b>Renewal</b> does not grow with the leases held: each lease names the owner record of
 * this repository and its TTL, one renewal of which keeps them all, as on Redis and
 * PostgreSQL; a force-release is still reported for exactly the lease it evicted, and a
 * lease whose renewal the core stopped is given back at its TTL.
 * <p>
 * <b>Validity</b> runs from the arbiter's grant, on the host's monotonic clock, which the
 * client checks it shares with the arbiter when it connects: a queued grant read late
 * (the process was paused) is known to be late.
 *
 * @since 0.1.0
 */
public class SocketLockRepository implements QueueingLockRepository, AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(SocketLockRepository.class);

	static final String SOCKET = "arbiter.sock";

	static final String ELECTION = "arbiter.lock";

	static final String STATE = "state";

	/**
	 * The longest key, in characters, the socket backend takes: far above any sensible
	 * {@code latchkey.max-key-length}, so that one request always fits a frame.
	 */
	public static final int MAX_KEY_LENGTH = 1024 * 1024;

	/**
	 * The name prefix of the repository's threads when no thread factory is given.
	 */
	public static final String DEFAULT_THREAD_NAME_PREFIX = "latchkey-socket-";

	private static final int RENEWALS_PER_FRAME = 4096;

	private static final Duration REASSERT_TIMEOUT = Duration.ofMinutes(1);

	// An acquisition whose owner record is gone is sent again with a new one: the record
	// can be gone only when the arbiter changed between the record and the acquisition.
	private static final int RECORD_ATTEMPTS = 3;

	private final ArbiterLink link;

	private final Map<String, List<Runnable>> subscribers = new ConcurrentHashMap<>();

	/**
	 * The leases this repository holds, by token, and the owner records they name: what
	 * it renews, and re-asserts at a new arbiter.
	 */
	private final OwnerRecordLeases<Held> held;

	/**
	 * Queued acquisitions waiting for the arbiter's grant, by token: queued again at a
	 * new arbiter.
	 */
	private final Map<String, Queued> queued = new ConcurrentHashMap<>();

	private final List<Runnable> lossListeners = new CopyOnWriteArrayList<>();

	/**
	 * Guards changes of {@link #subscribers} and the WATCH and UNWATCH requests they
	 * send; taken after the link's own lock when it connects.
	 */
	private final Object watching = new Object();

	/**
	 * Creates a repository on a lock directory, with a 5 second request timeout.
	 * @param directory the lock directory, shared by every process that locks together
	 */
	public SocketLockRepository(Path directory) {
		this(directory, "pid-" + ProcessHandle.current().pid(), Duration.ofSeconds(5));
	}

	/**
	 * Creates a repository on a lock directory.
	 * @param directory the lock directory, shared by every process that locks together
	 * @param clientName how this process is named to the arbiter
	 * @param timeout how long to wait for the arbiter's answer
	 */
	public SocketLockRepository(Path directory, String clientName, Duration timeout) {
		this(directory, clientName, timeout, defaultThreadFactory());
	}

	/**
	 * Creates a repository on a lock directory whose threads come from the application's
	 * thread factory: the reader of its connection to the arbiter, the arbiter's selector
	 * thread while this repository is the arbiter, and the short-lived threads that
	 * reconnect after the arbiter went away. {@link #close()} stops all of them.
	 *
	 * <pre class="code">
	 * ThreadFactory threads = new CustomizableThreadFactory("locks-");
	 * SocketLockRepository repository = new SocketLockRepository(directory, "orders", Duration.ofSeconds(5), threads);
	 * </pre>
	 * @param directory the lock directory, shared by every process that locks together
	 * @param clientName how this process is named to the arbiter
	 * @param timeout how long to wait for the arbiter's answer
	 * @param threadFactory makes every thread the repository runs
	 */
	public SocketLockRepository(Path directory, String clientName, Duration timeout, ThreadFactory threadFactory) {
		Assert.notNull(directory, "Directory must not be null");
		Assert.isTrue(timeout.toMillis() > 0, "Timeout must be positive");
		Assert.notNull(threadFactory, "ThreadFactory must not be null");
		this.held = new OwnerRecordLeases<>(SocketLockRepository.class, "socket", threadFactory, this::releaseExpired);
		this.link = new ArbiterLink(directory.toAbsolutePath().normalize(), clientName, timeout, threadFactory,
				new LinkSession());
	}

	private static ThreadFactory defaultThreadFactory() {
		CustomizableThreadFactory threads = new CustomizableThreadFactory(DEFAULT_THREAD_NAME_PREFIX);
		threads.setDaemon(true);
		return threads;
	}

	/**
	 * The default lock directory: {@code latchkey-<user>} in the system temporary
	 * directory.
	 * @return the default directory
	 */
	public static Path defaultDirectory() {
		return Path.of(System.getProperty("java.io.tmpdir"), "latchkey-" + System.getProperty("user.name"));
	}

	/**
	 * The lock directory.
	 * @return the directory
	 */
	public Path getDirectory() {
		return this.link.directory();
	}

	/**
	 * Whether this repository serves the directory's lock table.
	 * @return {@code true} if this repository runs the arbiter
	 */
	public boolean isArbiter() {
		return this.link.isArbiter();
	}

	@Override
	public String backend() {
		return "socket";
	}

	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		return acquire(lease);
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		return acquire(lease);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Writers are preferred by the arbiter's queue: a reader's single attempt is refused
	 * while anyone, a writer included, is queued for the key, and a waiting reader queues
	 * behind them.
	 */
	@Override
	public OptionalLong tryAcquireShared(LeaseSpec lease) {
		return acquire(lease);
	}

	private OptionalLong acquire(LeaseSpec lease) {
		checkKey(lease.key());
		int broken = 0;
		int gone = 0;
		while (true) {
			ArbiterConnection current = this.link.connection();
			try {
				Record record = record(lease, current);
				// Its local deadline runs from before the request is sent.
				Held mine = new Held(lease, record);
				long id = current.nextId();
				Protocol.AcquireOutcome outcome = Protocol.Acquire
					.readAnswer(current.call(id, acquireRequest(id, lease, false, record)));
				if (outcome.recordGone()) {
					recordGone(record, lease, ++gone);
					continue;
				}
				if (outcome.limitConflict()) {
					throw new LockPermitsConflictException(lease.key(), lease.permits(), outcome.heldLimit());
				}
				if (!outcome.granted()) {
					return OptionalLong.empty();
				}
				mine.granted(outcome.fencingToken(), outcome.expiresAtNanos());
				this.held.track(mine);
				return OptionalLong.of(outcome.fencingToken());
			}
			catch (ArbiterConnection.NoAnswerException ex) {
				// The arbiter may grant it later: give it back then, rather than leave
				// the key idle for a TTL. The arbiter reads one connection's requests in
				// order, so this release comes after the acquire.
				current.send(releaseRequest(current.nextId(), lease));
				throw failure("Acquiring the lock", lease.key(), ex);
			}
			catch (IOException ex) {
				// The arbiter went away: a fresh connection elects a new one. A grant on
				// the old one died with it.
				if (++broken == 2) {
					throw failure("Acquiring the lock", lease.key(), ex);
				}
			}
		}
	}

	/**
	 * The owner record of the lease's TTL class, made at the arbiter of the given
	 * connection when the class has no usable one.
	 * @throws IOException when the connection failed
	 */
	private Record record(LeaseSpec lease, ArbiterConnection current) throws IOException {
		try {
			return this.held.record(ttlMillis(lease), () -> "owner:" + UUID.randomUUID(),
					(record) -> createRecord(record, lease, current));
		}
		catch (UncheckedIOException ex) {
			throw ex.getCause();
		}
	}

	private void createRecord(Record record, LeaseSpec lease, ArbiterConnection current) {
		try {
			long id = current.nextId();
			if (!Protocol.readYesNo(current.call(id,
					Protocol.OwnerRecord.write(Protocol.RECORD, id, record.name(), recordTtlNanos(record))))) {
				// A random name that exists already: nothing a retry would not fix.
				throw new LockBackendException(backend(), lease.key(),
						"Acquiring at the socket backend failed: its new owner record " + record.name()
								+ " existed already",
						null);
			}
		}
		catch (ArbiterConnection.NoAnswerException ex) {
			throw failure("Acquiring the lock", lease.key(), ex);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Stops using a record the arbiter no longer has (it took over from another
	 * meanwhile), so that the next attempt makes a new one.
	 */
	private void recordGone(Record record, LeaseSpec lease, int attempt) {
		record.gone();
		if (attempt >= RECORD_ATTEMPTS) {
			throw new LockBackendException(backend(), lease.key(), "Acquiring at the socket backend failed: the owner"
					+ " record " + record.name() + " was gone as soon as it was made, " + attempt + " times", null);
		}
	}

	private static long ttlMillis(LeaseSpec lease) {
		return Math.max(1, lease.ttl().toMillis());
	}

	private static long recordTtlNanos(Record record) {
		return TimeUnit.MILLISECONDS.toNanos(record.ttlMillis());
	}

	private static ByteBuffer acquireRequest(long id, LeaseSpec lease, boolean queue, Record record) {
		return new Protocol.Acquire(id, lease.key(), lease.token(), limit(lease), Math.max(1, lease.ttl().toNanos()),
				lease.owner(), description(lease), queue, record.name())
			.write();
	}

	private static String description(LeaseSpec lease) {
		return (lease.description() != null) ? lease.description() : "";
	}

	private static ByteBuffer releaseRequest(long id, LeaseSpec lease) {
		return Protocol.KeyToken.write(Protocol.RELEASE, id, lease.key(), lease.token());
	}

	private static int limit(LeaseSpec lease) {
		return switch (lease.mode()) {
			case EXCLUSIVE -> LockTable.EXCLUSIVE;
			case SHARED -> LockTable.SHARED;
			case SEMAPHORE -> lease.permits();
		};
	}

	private static void checkKey(String key) {
		if (key.length() > MAX_KEY_LENGTH) {
			throw new LockKeyException("Lock key of " + key.length() + " characters is longer than the socket"
					+ " backend's maximum of " + MAX_KEY_LENGTH + "; lower latchkey.max-key-length");
		}
	}

	@Override
	public CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease) {
		checkKey(lease.key());
		Queued waiting = new Queued(lease, new CompletableFuture<>());
		for (int attempt = 1;; attempt++) {
			ArbiterConnection current = this.link.connection();
			// Registered before asking: the grant may be pushed before the answer to this
			// request arrives.
			this.queued.put(lease.token(), waiting);
			try {
				enqueue(current, waiting);
				return waiting.granted;
			}
			catch (ArbiterConnection.NoAnswerException ex) {
				this.queued.remove(lease.token());
				current.send(Protocol.KeyToken.write(Protocol.DEQUEUE, current.nextId(), lease.key(), lease.token()));
				current.send(releaseRequest(current.nextId(), lease));
				throw failure("Queueing for the lock", lease.key(), ex);
			}
			catch (IOException ex) {
				if (attempt == 2) {
					this.queued.remove(lease.token());
					throw failure("Queueing for the lock", lease.key(), ex);
				}
			}
			catch (RuntimeException ex) {
				// Its owner record could not be made: nothing was queued.
				this.queued.remove(lease.token());
				throw ex;
			}
		}
	}

	private void enqueue(ArbiterConnection current, Queued waiting) throws IOException {
		for (int attempt = 1;; attempt++) {
			Record record = record(waiting.lease, current);
			// Before the request: the grant may be pushed before its answer arrives.
			waiting.record = record;
			long id = current.nextId();
			Protocol.AcquireOutcome outcome = Protocol.Acquire
				.readAnswer(current.call(id, acquireRequest(id, waiting.lease, true, record)));
			if (outcome.recordGone()) {
				recordGone(record, waiting.lease, attempt);
				continue;
			}
			if (outcome.granted()) {
				this.queued.remove(waiting.lease.token());
				granted(waiting, outcome.fencingToken(), outcome.expiresAtNanos());
			}
			else if (outcome.limitConflict()) {
				this.queued.remove(waiting.lease.token());
				waiting.granted.completeExceptionally(new LockPermitsConflictException(waiting.lease.key(),
						waiting.lease.permits(), outcome.heldLimit()));
			}
			return;
		}
	}

	private void granted(Queued waiting, long fencingToken, long expiresAtNanos) {
		LeaseSpec lease = waiting.lease;
		Record record = waiting.record;
		Assert.state(record != null, "A queued request names a record");
		Held mine = new Held(lease, record);
		mine.granted(fencingToken, expiresAtNanos);
		this.held.track(mine);
		waiting.granted.complete(new QueuedGrant(fencingToken, expiresAtNanos - Math.max(1, lease.ttl().toNanos())));
	}

	@Override
	public boolean cancelQueued(LeaseSpec lease) {
		Queued waiting = this.queued.get(lease.token());
		if (waiting == null) {
			return false;
		}
		ArbiterConnection current = this.link.current();
		if (current != null) {
			try {
				long id = current.nextId();
				if (!Protocol.readYesNo(
						current.call(id, Protocol.KeyToken.write(Protocol.DEQUEUE, id, lease.key(), lease.token())))) {
					// Granted meanwhile: the push, read before this answer, completed the
					// future.
					return false;
				}
			}
			catch (ArbiterConnection.NoAnswerException ex) {
				// Withdrawn as far as this process knows: a grant that comes later finds
				// no waiter and is given back.
			}
			catch (IOException ex) {
				// The connection and its queue are gone: nothing was granted.
			}
		}
		if (this.queued.remove(lease.token(), waiting)) {
			waiting.granted.completeExceptionally(new CancellationException("Withdrawn from the queue"));
			return true;
		}
		return false;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * One request per owner record renews every lease that names it, and tells which of
	 * them a force-release evicted. A lease renewed for another TTL than its record's (a
	 * maximum hold's last renewals) is renewed by itself, in frames of at most 4,096, and
	 * from then on keeps its own expiry.
	 */
	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		Set<String> lost = new HashSet<>();
		Map<Record, List<Held>> byRecord = new IdentityHashMap<>();
		List<LeaseSpec> oneByOne = new ArrayList<>();
		for (LeaseSpec lease : leases) {
			Held mine = this.held.get(lease.token());
			if (mine == null) {
				lost.add(lease.token());
			}
			else if (!mine.detached && mine.record().ttlMillis() == ttlMillis(lease)) {
				byRecord.computeIfAbsent(mine.record(), (record) -> new ArrayList<>()).add(mine);
			}
			else {
				oneByOne.add(lease);
			}
		}
		ArbiterConnection current = this.link.connection();
		try {
			for (Map.Entry<Record, List<Held>> named : byRecord.entrySet()) {
				lost.addAll(renewRecord(current, named.getKey(), named.getValue()));
			}
			lost.addAll(renewOneByOne(current, oneByOne));
		}
		catch (IOException ex) {
			// Not lost: the leases are re-asserted at the next arbiter. The keeper
			// retries until they run out.
			throw failure("Renewing " + leases.size() + " lease(s)", null, ex);
		}
		return lost;
	}

	/**
	 * Renews an owner record, and with it the given leases, which name it. When the
	 * record is gone (nothing renewed it for its TTL), the leases are renewed by
	 * themselves: one granted less than a TTL ago, by a queued request whose record
	 * expired while it waited, is held by its own expiry; the others are lost.
	 */
	private Set<String> renewRecord(ArbiterConnection current, Record record, List<Held> named) throws IOException {
		long id = current.nextId();
		long sent = System.nanoTime();
		List<String> evicted = Protocol.OwnerRecord.readRenewal(current.call(id,
				Protocol.OwnerRecord.write(Protocol.RENEW_RECORD, id, record.name(), recordTtlNanos(record))));
		if (evicted == null) {
			record.gone();
			return renewOneByOne(current, named.stream().map(Held::spec).toList());
		}
		return this.held.answered(record, named, true, sent, evicted);
	}

	/**
	 * Renews leases each by itself, in frames of at most 4,096: they leave their records.
	 */
	private Set<String> renewOneByOne(ArbiterConnection current, List<LeaseSpec> leases) throws IOException {
		Set<String> lost = new HashSet<>();
		for (int from = 0; from < leases.size(); from += RENEWALS_PER_FRAME) {
			lost.addAll(renewFrame(current, leases.subList(from, Math.min(leases.size(), from + RENEWALS_PER_FRAME))));
		}
		return lost;
	}

	private Set<String> renewFrame(ArbiterConnection current, List<LeaseSpec> leases) throws IOException {
		List<Protocol.Renewal> renewals = new ArrayList<>(leases.size());
		for (LeaseSpec lease : leases) {
			renewals.add(new Protocol.Renewal(lease.key(), lease.token(), Math.max(1, lease.ttl().toNanos())));
		}
		long id = current.nextId();
		long sent = System.nanoTime();
		Set<String> notHeld = new HashSet<>(
				Protocol.readTokens(current.call(id, new Protocol.Renew(id, renewals).write())));
		Set<String> lost = new HashSet<>();
		for (LeaseSpec lease : leases) {
			Held mine = this.held.get(lease.token());
			if (mine == null || notHeld.contains(lease.token())) {
				this.held.forget(lease.token());
				lost.add(lease.token());
			}
			else {
				// Never later than the arbiter's own expiry, which counts from when it
				// read the request.
				mine.detach(sent + Math.max(1, lease.ttl().toNanos()));
			}
		}
		return lost;
	}

	@Override
	public boolean release(LeaseSpec lease) {
		Held mine = this.held.get(lease.token());
		if (mine == null) {
			return false;
		}
		this.held.forget(lease.token());
		ArbiterConnection current = this.link.current();
		if (current == null) {
			// Its arbiter is gone, and the lease is no longer re-asserted at the next
			// one.
			return mine.isValid();
		}
		try {
			long id = current.nextId();
			return Protocol.readYesNo(current.call(id, releaseRequest(id, lease)));
		}
		catch (ArbiterConnection.NoAnswerException ex) {
			// The release stays queued at the arbiter, and the lease is no longer
			// re-asserted.
			return mine.isValid();
		}
		catch (IOException ex) {
			return mine.isValid();
		}
	}

	/**
	 * Gives back a lease whose renewal the core stopped (its record would keep it), from
	 * the sweep's thread, without waiting for the answer.
	 */
	private void releaseExpired(Held mine) {
		ArbiterConnection current = this.link.current();
		if (current != null) {
			current.send(releaseRequest(current.nextId(), mine.spec()));
		}
	}

	@Override
	public boolean forceRelease(String key) {
		checkKey(key);
		return query("Releasing the lock by force", key, (current, id) -> Protocol
			.readYesNo(current.call(id, Protocol.KeyOnly.write(Protocol.FORCE_RELEASE, id, key))));
	}

	@Override
	public Optional<LockInfo> inspect(String key) {
		checkKey(key);
		LockTable.Description lock = query("Inspecting the lock", key, (current, id) -> Protocol.KeyOnly
			.readLock(current.call(id, Protocol.KeyOnly.write(Protocol.INSPECT, id, key))));
		return Optional.ofNullable((lock != null) ? info(lock) : null);
	}

	/**
	 * The requests queued at the arbiter for a key, of every process of the directory:
	 * each caller that waits for the key has one.
	 */
	@Override
	public OptionalInt waiters(String key) {
		checkKey(key);
		return OptionalInt.of(query("Counting the waiters of the lock", key, (current, id) -> Protocol.KeyOnly
			.readWaiters(current.call(id, Protocol.KeyOnly.write(Protocol.WAITERS, id, key)))));
	}

	/**
	 * Lists every held key of the directory, page by page: any number of keys.
	 */
	@Override
	public List<LockInfo> list() {
		List<LockInfo> locks = new ArrayList<>();
		String after = "";
		while (true) {
			String from = after;
			Protocol.Page page = query("Listing the locks", null, (current, id) -> Protocol.ListPage
				.readAnswer(current.call(id, new Protocol.ListPage(id, from).write())));
			page.locks().forEach((lock) -> locks.add(info(lock)));
			if (!page.more() || page.locks().isEmpty()) {
				return locks;
			}
			after = page.locks().get(page.locks().size() - 1).key();
		}
	}

	/**
	 * The arbiter's counters, for operations tools and tests.
	 *
	 * <pre class="code">
	 * ArbiterStats stats = repository.stats();
	 * log.info(stats.clients() + " processes connected, " + stats.holders() + " leases held");
	 * </pre>
	 * @return connected clients, held keys, holders and grants since the arbiter started
	 */
	public ArbiterStats stats() {
		long[] stats = query("Asking for the arbiter's counters", null,
				(current, id) -> Protocol.Bare.readStats(current.call(id, Protocol.Bare.write(Protocol.STATS, id))));
		return new ArbiterStats(stats[0], stats[1], stats[2], stats[3], stats[4]);
	}

	/**
	 * The arbiter's counters at one moment.
	 *
	 * @param clients the processes connected to the arbiter, its own included
	 * @param keys the keys held
	 * @param holders the leases held, over all keys (a semaphore's key has one per
	 * permit)
	 * @param grants the grants the arbiter made since it started
	 * @param requests the requests the arbiter answered since it started, of every
	 * process
	 */
	public record ArbiterStats(long clients, long keys, long holders, long grants, long requests) {
	}

	private <T> T query(String action, @Nullable String key, Query<T> query) {
		for (int attempt = 1;; attempt++) {
			ArbiterConnection current = this.link.connection();
			try {
				return query.ask(current, current.nextId());
			}
			catch (IOException ex) {
				if (attempt == 2 || current.isOpen()) {
					throw failure(action, key, ex);
				}
			}
		}
	}

	private static LockInfo info(LockTable.Description lock) {
		List<LockInfo.Holder> holders = new ArrayList<>(lock.holders().size());
		for (LockTable.Description.Holder holder : lock.holders()) {
			holders.add(new LockInfo.Holder(holder.owner(), holder.fencingToken(),
					Duration.ofMillis(TimeUnit.NANOSECONDS.toMillis(holder.remainingNanos())), holder.description()));
		}
		if (lock.permits() == LockTable.SHARED) {
			return new LockInfo(lock.key(), LeaseMode.SHARED, 1, holders);
		}
		return new LockInfo(lock.key(), lock.exclusive() ? LeaseMode.EXCLUSIVE : LeaseMode.SEMAPHORE, lock.permits(),
				holders);
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		checkKey(key);
		Runnable subscription = onRelease::run;
		// The first subscriber of a key sends WATCH, the last one to leave UNWATCH: under
		// one lock, so that an UNWATCH can never reach the arbiter after the WATCH of a
		// subscriber that came meanwhile.
		synchronized (this.watching) {
			List<Runnable> listeners = this.subscribers.computeIfAbsent(key, (k) -> new CopyOnWriteArrayList<>());
			listeners.add(subscription);
			if (listeners.size() == 1) {
				watch(this.link.current(), key, true);
			}
		}
		return () -> {
			synchronized (this.watching) {
				List<Runnable> listeners = this.subscribers.get(key);
				if (listeners != null && listeners.remove(subscription) && listeners.isEmpty()) {
					this.subscribers.remove(key);
					watch(this.link.current(), key, false);
				}
			}
		};
	}

	@Override
	public ReleaseSubscription subscribeToLoss(Runnable onPossibleLoss) {
		Runnable subscription = onPossibleLoss::run;
		this.lossListeners.add(subscription);
		return () -> this.lossListeners.remove(subscription);
	}

	private static void watch(@Nullable ArbiterConnection current, String key, boolean watch) {
		if (current == null) {
			// Watches are sent again when a connection opens.
			return;
		}
		try {
			long id = current.nextId();
			current.call(id, Protocol.KeyOnly.write(watch ? Protocol.WATCH : Protocol.UNWATCH, id, key));
		}
		catch (IOException ex) {
			// Watches are sent again when a connection opens; a missed notification is
			// made up for by polling.
		}
	}

	private void released(String key) {
		List<Runnable> listeners = this.subscribers.get(key);
		if (listeners != null) {
			listeners.forEach(SocketLockRepository::runQuietly);
		}
	}

	private static void runQuietly(Runnable listener) {
		try {
			listener.run();
		}
		catch (RuntimeException ex) {
			logger.warn(ex, "Socket backend listener failed");
		}
	}

	/**
	 * Tells a new connection's arbiter what this repository holds and waits for: its
	 * leases (those still valid), then that it is done, then its queued requests and
	 * watches. The leases an arbiter refuses are lost, and the lease keeper is told at
	 * once.
	 */
	private void reassert(ArbiterConnection current) throws IOException {
		List<String> refused = new ArrayList<>();
		List<Held> claims = new ArrayList<>(this.held.tracked());
		long now = System.nanoTime();
		claims.removeIf((mine) -> {
			if (now - mine.expiresAt() < 0) {
				return false;
			}
			refused.add(mine.spec().token());
			return true;
		});
		// The arbiter is alive while the connection is: wait for it rather than give up
		// leases for a slow answer.
		Duration patience = (this.link.timeout().compareTo(REASSERT_TIMEOUT) > 0) ? this.link.timeout()
				: REASSERT_TIMEOUT;
		for (int from = 0; from < claims.size(); from += RENEWALS_PER_FRAME) {
			List<Protocol.Claim> chunk = new ArrayList<>();
			for (Held mine : claims.subList(from, Math.min(claims.size(), from + RENEWALS_PER_FRAME))) {
				LeaseSpec lease = mine.spec();
				chunk.add(new Protocol.Claim(lease.key(), lease.token(), limit(lease), lease.owner(), mine.fencingToken,
						mine.expiresAt(), description(lease), mine.detached ? "" : mine.record().name()));
			}
			long id = current.nextId();
			refused.addAll(Protocol.readTokens(current.call(id, new Protocol.Reassert(id, chunk).write(), patience)));
		}
		long id = current.nextId();
		current.call(id, Protocol.Bare.write(Protocol.REASSERTED, id), patience);
		for (Queued waiting : this.queued.values()) {
			try {
				enqueue(current, waiting);
			}
			catch (LockBackendException ex) {
				// Its owner record could not be made: the waiter hears why.
				if (this.queued.remove(waiting.lease.token(), waiting)) {
					waiting.granted.completeExceptionally(ex);
				}
			}
		}
		synchronized (this.watching) {
			for (String key : this.subscribers.keySet()) {
				watch(current, key, true);
			}
		}
		if (!refused.isEmpty()) {
			refused.forEach(this.held::forget);
			logger.warn(() -> "The lock arbiter of " + this.link.directory() + " did not take back " + refused.size()
					+ " lease(s) of this process (they had expired, or conflicted); they are lost");
			this.lossListeners.forEach(SocketLockRepository::runQuietly);
		}
	}

	private void giveUpLeases(String why) {
		List<Held> given = new ArrayList<>(this.held.tracked());
		if (!given.isEmpty()) {
			given.forEach((mine) -> this.held.forget(mine.spec().token()));
			int count = given.size();
			logger.warn(() -> "Giving up " + count + " lease(s) in " + this.link.directory() + ": " + why);
			this.lossListeners.forEach(SocketLockRepository::runQuietly);
		}
	}

	/**
	 * The failure of a request: its message says "the lock", never the key (which may be
	 * personal data); the key is the exception's {@code getKey()}, and the template adds
	 * the lock's name.
	 */
	private LockBackendException failure(String action, @Nullable String key, Exception ex) {
		return this.link.failure(action, key, ex);
	}

	/**
	 * Closes this repository: its connection closes, which frees its leases, and if it
	 * runs the arbiter, the arbiter hands over (the other processes elect a successor and
	 * keep their leases). Called by the application context when it closes, after the
	 * lock template that uses this repository.
	 */
	@Override
	public void close() {
		CancellationException gone = new CancellationException("The socket lock repository is closed");
		this.queued.values().forEach((waiting) -> waiting.granted.completeExceptionally(gone));
		this.queued.clear();
		this.held.close();
		this.link.close();
	}

	/**
	 * What the link tells this repository: pushes from the arbiter, and each new
	 * connection, at which it re-asserts.
	 */
	private final class LinkSession implements ArbiterLink.Session {

		@Override
		public void granted(ArbiterConnection from, Protocol.PushedGrant grant) {
			Queued waiting = SocketLockRepository.this.queued.remove(grant.token());
			if (waiting == null) {
				// Nobody waits for it any more: give it back, without waiting on the
				// reader thread.
				from.send(Protocol.KeyToken.write(Protocol.RELEASE, from.nextId(), grant.key(), grant.token()));
				return;
			}
			SocketLockRepository.this.granted(waiting, grant.fencingToken(), grant.expiresAtNanos());
		}

		@Override
		public void released(String key) {
			SocketLockRepository.this.released(key);
		}

		@Override
		public void reassert(ArbiterConnection connection) throws IOException {
			SocketLockRepository.this.reassert(connection);
		}

		@Override
		public void connected() {
			// The new arbiter's table may differ: let waiters look again.
			SocketLockRepository.this.subscribers.keySet().forEach(SocketLockRepository.this::released);
		}

		@Override
		public void giveUp(String why) {
			giveUpLeases(why);
		}

		@Override
		public void disconnected() {
			SocketLockRepository.this.lossListeners.forEach(SocketLockRepository::runQuietly);
		}

	}

	@FunctionalInterface
	private interface Query<T> {

		T ask(ArbiterConnection connection, long id) throws IOException;

	}

	/**
	 * An acquisition queued at the arbiter.
	 */
	private static final class Queued {

		final LeaseSpec lease;

		final CompletableFuture<QueuedGrant> granted;

		// The owner record its request named.
		volatile @Nullable Record record;

		Queued(LeaseSpec lease, CompletableFuture<QueuedGrant> granted) {
			this.lease = lease;
			this.granted = granted;
		}

	}

	/**
	 * A lease this repository holds, as it would re-assert it.
	 */
	private static final class Held extends OwnerRecordLeases.Held {

		long fencingToken;

		/**
		 * The lease's own expiry at the arbiter as this process knows it: never later
		 * than the arbiter's own.
		 */
		volatile long expiresAtNanos;

		/**
		 * Whether it was renewed by itself, which took it off its record at the arbiter.
		 */
		volatile boolean detached;

		Held(LeaseSpec lease, Record record) {
			super(lease, record);
		}

		void granted(long fencingToken, long expiresAtNanos) {
			this.fencingToken = fencingToken;
			this.expiresAtNanos = expiresAtNanos;
		}

		void detach(long expiresAtNanos) {
			this.detached = true;
			this.expiresAtNanos = expiresAtNanos;
			renewed();
		}

		/**
		 * When the lease expires at the arbiter, as far as this process knows: its own
		 * expiry, or its record's when later.
		 */
		long expiresAt() {
			long own = this.expiresAtNanos;
			if (this.detached) {
				return own;
			}
			long recorded = record().deadlineNanos();
			return (recorded - own > 0) ? recorded : own;
		}

		boolean isValid() {
			return System.nanoTime() - expiresAt() < 0;
		}

	}

}
