package dev.latchkey.socket;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.util.Assert;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockInfo;
import dev.latchkey.LockRepository;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.ReleaseSubscription;

/**
 * The local unix-domain-socket backend: locks shared by the processes of one host (and the threads of each), with no
 * server to run.
 * <pre class="code">
 * LockRepository repository = new SocketLockRepository(Path.of(System.getProperty("java.io.tmpdir"), "latchkey-" + user));
 * </pre>
 * <p>
 * <b>Election.</b> The lock directory (created owner-only, 0700) holds the socket {@code arbiter.sock}, the election
 * lock {@code arbiter.lock} and the fencing counter {@code fencing}. A process that needs a lock connects to the
 * socket. If nobody answers, it tries the election lock: the process that gets it is the arbiter (the operating system
 * releases it the moment that process dies, so a crashed arbiter never blocks an election); it removes a stale socket
 * file, checking first that it is a socket, and binds a new one. The others keep connecting until it answers. Two
 * processes can never both be arbiter, since only one can hold the file lock.
 * <p>
 * <b>Leases</b> belong to the connection: when a client process exits or crashes, its connection closes and its
 * leases are released at once. When the arbiter's process dies, every client's leases die with it: the next renewal
 * reports them lost, a new arbiter is elected on the next request, and waiters are woken to try again.
 */
public class SocketLockRepository implements QueueingLockRepository, AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(SocketLockRepository.class);

	static final String SOCKET = "arbiter.sock";

	static final String ELECTION = "arbiter.lock";

	static final String FENCING = "fencing";

	private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

	/** Arbiters running in this JVM, by directory: a JVM holds one election lock per directory. */
	private static final Map<Path, SocketArbiter> arbiters = new ConcurrentHashMap<>();

	private final Path directory;

	private final String clientName;

	private final Duration timeout;

	private final Map<String, List<Runnable>> subscribers = new ConcurrentHashMap<>();

	/** Tokens of the leases granted through each connection: when it closes, they are lost. */
	private final Map<String, SocketConnection> grants = new ConcurrentHashMap<>();

	private final List<Runnable> lossListeners = new CopyOnWriteArrayList<>();

	/** Queued acquisitions waiting for the arbiter's grant, by token. */
	private final Map<String, Queued> queued = new ConcurrentHashMap<>();

	private final Object connecting = new Object();

	/** Guards changes of {@link #subscribers} and the WATCH and UNWATCH requests they send; taken after connecting. */
	private final Object watching = new Object();

	private volatile @Nullable SocketConnection connection;

	private volatile boolean closed;

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
		Assert.notNull(directory, "Directory must not be null");
		this.directory = directory.toAbsolutePath().normalize();
		this.clientName = clientName;
		this.timeout = timeout;
	}

	/**
	 * The default lock directory: {@code latchkey-<user>} in the system temporary directory.
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
		return this.directory;
	}

	/**
	 * Whether this process is the arbiter of the directory.
	 * @return {@code true} if this JVM serves the lock table
	 */
	public boolean isArbiter() {
		return arbiters.containsKey(this.directory);
	}

	@Override
	public String backend() {
		return "socket";
	}

	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		return acquire(lease, 0);
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		return acquire(lease, lease.limit());
	}

	private OptionalLong acquire(LeaseSpec lease, int limit) {
		String request = "ACQ " + Protocol.encode(lease.key()) + " " + lease.token() + " " + limit + " "
				+ Math.max(1, lease.ttl().toMillis()) + " " + Protocol.encode(lease.owner());
		for (int attempt = 1;; attempt++) {
			SocketConnection current = connection();
			try {
				String[] answer = current.call(request);
				if (answer[0].equals("OK")) {
					this.grants.put(lease.token(), current);
					return OptionalLong.of(Long.parseLong(answer[1]));
				}
				return OptionalLong.empty();
			}
			catch (IOException ex) {
				// The arbiter went away: a fresh connection elects a new one. A grant on the old one died with it.
				dropped(current);
				if (attempt == 2) {
					throw failure("Acquiring '" + lease.key() + "'", ex);
				}
			}
		}
	}

	@Override
	public CompletableFuture<Long> acquireQueued(LeaseSpec lease) {
		String request = "QACQ " + Protocol.encode(lease.key()) + " " + lease.token() + " "
				+ ((lease.mode() == LeaseMode.EXCLUSIVE) ? 0 : lease.limit()) + " " + Math.max(1, lease.ttl().toMillis())
				+ " " + Protocol.encode(lease.owner());
		for (int attempt = 1;; attempt++) {
			SocketConnection current = connection();
			CompletableFuture<Long> granted = new CompletableFuture<>();
			// Registered before asking: the grant may be pushed before the answer to this request arrives.
			this.queued.put(lease.token(), new Queued(granted, current));
			try {
				String[] answer = current.call(request);
				if (answer[0].equals("OK")) {
					this.queued.remove(lease.token());
					this.grants.put(lease.token(), current);
					granted.complete(Long.parseLong(answer[1]));
				}
				return granted;
			}
			catch (IOException ex) {
				this.queued.remove(lease.token());
				dropped(current);
				if (attempt == 2) {
					throw failure("Queueing for '" + lease.key() + "'", ex);
				}
			}
		}
	}

	@Override
	public boolean cancelQueued(LeaseSpec lease) {
		Queued waiting = this.queued.get(lease.token());
		if (waiting == null) {
			return false;
		}
		try {
			if (!waiting.connection.call("DEQ " + Protocol.encode(lease.key()) + " " + lease.token())[0].equals("OK")) {
				// Granted meanwhile: the push completes the future.
				return false;
			}
		}
		catch (IOException ex) {
			// The connection and its queue are gone: nothing was granted.
			dropped(waiting.connection);
		}
		this.queued.remove(lease.token());
		waiting.granted.completeExceptionally(new CancellationException("Withdrawn from the queue"));
		return true;
	}

	private void granted(String[] grant) {
		String key = grant[0];
		String token = grant[1];
		Queued waiting = this.queued.remove(token);
		if (waiting == null) {
			// Nobody waits for it any more: give it back, without waiting on the reader thread.
			SocketConnection current = this.connection;
			if (current != null) {
				current.send("REL " + Protocol.encode(key) + " " + token);
			}
			return;
		}
		this.grants.put(token, waiting.connection);
		waiting.granted.complete(Long.parseLong(grant[2]));
	}

	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		Set<String> lost = new HashSet<>();
		Map<SocketConnection, List<LeaseSpec>> byConnection = new IdentityHashMap<>();
		for (LeaseSpec lease : leases) {
			SocketConnection granted = this.grants.get(lease.token());
			if (granted == null || !granted.isOpen()) {
				lost.add(lease.token());
			}
			else {
				byConnection.computeIfAbsent(granted, (c) -> new ArrayList<>()).add(lease);
			}
		}
		byConnection.forEach((granted, held) -> {
			StringBuilder request = new StringBuilder("RENEW");
			for (LeaseSpec lease : held) {
				request.append(' ')
					.append(Math.max(1, lease.ttl().toMillis()))
					.append(' ')
					.append(Protocol.encode(lease.key()))
					.append(' ')
					.append(lease.token());
			}
			try {
				String[] answer = granted.call(request.toString());
				for (int i = 1; i < answer.length; i++) {
					lost.add(answer[i]);
				}
			}
			catch (IOException ex) {
				// The connection, and every lease granted on it, is gone.
				dropped(granted);
				held.forEach((lease) -> lost.add(lease.token()));
			}
		});
		lost.forEach(this.grants::remove);
		return lost;
	}

	@Override
	public boolean release(LeaseSpec lease) {
		SocketConnection granted = this.grants.remove(lease.token());
		if (granted == null || !granted.isOpen()) {
			return false;
		}
		try {
			return granted.call("REL " + Protocol.encode(lease.key()) + " " + lease.token())[0].equals("OK");
		}
		catch (IOException ex) {
			dropped(granted);
			// The connection closed, so the arbiter released the lease, or died with it.
			return false;
		}
	}

	@Override
	public boolean forceRelease(String key) {
		return query("FORCE " + Protocol.encode(key))[0].equals("OK");
	}

	@Override
	public Optional<LockInfo> inspect(String key) {
		String[] answer = query("INSPECT " + Protocol.encode(key));
		return answer[0].equals("INFO") ? Optional.of(parse(answer[1])) : Optional.empty();
	}

	@Override
	public List<LockInfo> list() {
		String[] answer = query("DUMP");
		List<LockInfo> locks = new ArrayList<>();
		for (int i = 1; i < answer.length; i++) {
			if (!answer[i].isEmpty()) {
				locks.add(parse(answer[i]));
			}
		}
		return locks;
	}

	/**
	 * The arbiter's counters.
	 * @return connected clients, held keys, holders and grants since the arbiter started
	 */
	public Map<String, Long> stats() {
		String[] answer = query("STATS");
		return Map.of("clients", Long.parseLong(answer[1]), "keys", Long.parseLong(answer[2]), "holders",
				Long.parseLong(answer[3]), "grants", Long.parseLong(answer[4]));
	}

	private String[] query(String request) {
		for (int attempt = 1;; attempt++) {
			SocketConnection current = connection();
			try {
				return current.call(request);
			}
			catch (IOException ex) {
				dropped(current);
				if (attempt == 2) {
					throw failure("Asking the lock arbiter", ex);
				}
			}
		}
	}

	private static LockInfo parse(String text) {
		String[] fields = text.split(",");
		List<LockInfo.Holder> holders = new ArrayList<>();
		for (int i = 3; i < fields.length; i++) {
			String[] holder = fields[i].split(":");
			holders.add(new LockInfo.Holder(Protocol.decode(holder[0]), Long.parseLong(holder[1]),
					Duration.ofMillis(Long.parseLong(holder[2]))));
		}
		return new LockInfo(Protocol.decode(fields[0]), LeaseMode.valueOf(fields[1]), Integer.parseInt(fields[2]),
				holders);
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		Runnable subscription = onRelease::run;
		// The first subscriber of a key sends WATCH, the last one to leave UNWATCH: under one lock, so that an UNWATCH
		// can never reach the arbiter after the WATCH of a subscriber that came meanwhile.
		synchronized (this.watching) {
			List<Runnable> listeners = this.subscribers.computeIfAbsent(key, (k) -> new CopyOnWriteArrayList<>());
			listeners.add(subscription);
			if (listeners.size() == 1) {
				watch(key, true);
			}
		}
		return () -> {
			synchronized (this.watching) {
				List<Runnable> listeners = this.subscribers.get(key);
				if (listeners != null && listeners.remove(subscription) && listeners.isEmpty()) {
					this.subscribers.remove(key);
					watch(key, false);
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

	private void watch(String key, boolean watch) {
		SocketConnection current = this.connection;
		if (current == null || !current.isOpen()) {
			// Watches are (re)sent when a connection opens.
			return;
		}
		try {
			current.call((watch ? "WATCH " : "UNWATCH ") + Protocol.encode(key));
		}
		catch (IOException ex) {
			dropped(current);
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
			logger.warn(ex, "Release listener failed");
		}
	}

	// Connection and election

	private SocketConnection connection() {
		SocketConnection current = this.connection;
		if (current != null && current.isOpen()) {
			return current;
		}
		synchronized (this.connecting) {
			current = this.connection;
			if (current != null && current.isOpen()) {
				return current;
			}
			if (this.closed) {
				throw new LockBackendException(backend(), "Socket lock repository is closed", null);
			}
			try {
				current = connectOrElect();
			}
			catch (IOException ex) {
				throw failure("Connecting to the lock arbiter in " + this.directory, ex);
			}
			this.connection = current;
			synchronized (this.watching) {
				for (String key : this.subscribers.keySet()) {
					watch(key, true);
				}
			}
			// A new arbiter has a new lock table: let waiters try again.
			this.subscribers.keySet().forEach(this::released);
			return current;
		}
	}

	private SocketConnection connectOrElect() throws IOException {
		prepareDirectory();
		Path socket = this.directory.resolve(SOCKET);
		long deadline = System.nanoTime() + this.timeout.toNanos();
		IOException last = null;
		while (System.nanoTime() - deadline < 0) {
			try {
				return SocketConnection.open(socket, this.clientName, this.timeout, this::released, this::granted,
						this::closedByArbiter);
			}
			catch (IOException ex) {
				last = ex;
			}
			if (!arbiters.containsKey(this.directory)) {
				elect(socket);
			}
			try {
				Thread.sleep(ThreadLocalRandom.current().nextLong(1, 10));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IOException("Interrupted while connecting to the lock arbiter", ex);
			}
		}
		throw new IOException("No lock arbiter answered in " + this.directory + " within " + this.timeout, last);
	}

	private void elect(Path socket) throws IOException {
		synchronized (arbiters) {
			if (arbiters.containsKey(this.directory)) {
				return;
			}
			FileChannel channel = FileChannel.open(this.directory.resolve(ELECTION), StandardOpenOption.CREATE,
					StandardOpenOption.WRITE);
			FileLock lock;
			try {
				lock = channel.tryLock();
			}
			catch (OverlappingFileLockException ex) {
				lock = null;
			}
			if (lock == null) {
				// Another process is the arbiter, or is becoming it: keep connecting.
				channel.close();
				return;
			}
			try {
				removeStaleSocket(socket);
				SocketArbiter arbiter = new SocketArbiter(socket, lock, new FencingCounter(this.directory.resolve(FENCING)),
						currentUser());
				arbiters.put(this.directory, arbiter);
				// On a normal exit, close the socket at once: clients then elect a new arbiter without waiting for the
				// JVM to finish stopping.
				Runtime.getRuntime().addShutdownHook(new Thread(arbiter::close, "latchkey-socket-arbiter-shutdown"));
			}
			catch (IOException | RuntimeException ex) {
				lock.release();
				channel.close();
				throw ex;
			}
		}
	}

	private static void removeStaleSocket(Path socket) throws IOException {
		if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		// We hold the election lock, so no live arbiter serves this file. Remove it only if it is a socket.
		Object mode = Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
		if (!(mode instanceof Integer bits) || (bits & 0170000) != 0140000) {
			throw new IOException(socket + " exists and is not a socket; remove it or choose another lock directory");
		}
		Files.delete(socket);
	}

	private void prepareDirectory() throws IOException {
		if (!Files.exists(this.directory)) {
			Files.createDirectories(this.directory.getParent());
			try {
				Files.createDirectory(this.directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
			}
			catch (FileAlreadyExistsException ex) {
				// Created by another process meanwhile: checked below.
			}
		}
		PosixFileAttributeView view = Files.getFileAttributeView(this.directory, PosixFileAttributeView.class,
				LinkOption.NOFOLLOW_LINKS);
		if (view == null) {
			return;
		}
		var attributes = view.readAttributes();
		UserPrincipal user = currentUser();
		if (!attributes.isDirectory()) {
			throw new IOException("Lock directory " + this.directory + " is not a directory");
		}
		if (user != null && !attributes.owner().equals(user)) {
			throw new IOException("Lock directory " + this.directory + " belongs to " + attributes.owner().getName()
					+ ", not to " + user.getName() + "; choose another latchkey.socket.directory");
		}
		Set<PosixFilePermission> open = EnumSet.copyOf(attributes.permissions());
		open.removeAll(OWNER_ONLY);
		if (!open.isEmpty()) {
			throw new IOException("Lock directory " + this.directory + " is accessible by other users ("
					+ PosixFilePermissions.toString(attributes.permissions()) + "); run chmod 700 on it");
		}
	}

	private static @Nullable UserPrincipal currentUser() {
		try {
			return FileSystems.getDefault()
				.getUserPrincipalLookupService()
				.lookupPrincipalByName(System.getProperty("user.name"));
		}
		catch (IOException | UnsupportedOperationException ex) {
			return null;
		}
	}

	private void dropped(SocketConnection failed) {
		failed.close();
	}

	private void closedByArbiter() {
		if (!this.closed) {
			logger.warn(() -> "Lost the connection to the lock arbiter in " + this.directory
					+ "; leases held through it are lost, and the next request elects a new arbiter");
		}
		// Queued requests died with the connection: their waiters queue again at the next arbiter.
		IOException gone = new IOException("Connection to the lock arbiter closed");
		this.queued.values().removeIf((waiting) -> {
			if (!waiting.connection.isOpen()) {
				waiting.granted.completeExceptionally(gone);
				return true;
			}
			return false;
		});
		// Every lease granted through the connection is gone: let the lease keeper find out now.
		this.lossListeners.forEach(SocketLockRepository::runQuietly);
		// Waiters should not sleep until their next poll: the key may be free at the next arbiter.
		this.subscribers.keySet().forEach(this::released);
	}

	private record Queued(CompletableFuture<Long> granted, SocketConnection connection) {
	}

	private LockBackendException failure(String action, Exception ex) {
		return new LockBackendException(backend(), action + " at the socket backend (" + this.directory + ") failed: "
				+ ex.getMessage(), ex);
	}

	/**
	 * Closes the connection: its leases are released. If this process is the arbiter, the arbiter keeps serving the
	 * other processes (and other repositories of this JVM) until the JVM exits.
	 */
	@Override
	public void close() {
		this.closed = true;
		SocketConnection current = this.connection;
		if (current != null) {
			current.close();
		}
	}

	/**
	 * Stops this JVM's arbiter of a directory, if it runs one: every client's leases are lost and a new arbiter is
	 * elected by the next request. For tests and for an orderly shutdown.
	 * @param directory the lock directory
	 */
	static void stopArbiter(Path directory) {
		SocketArbiter arbiter = arbiters.remove(directory.toAbsolutePath().normalize());
		if (arbiter != null) {
			arbiter.close();
		}
	}

}
