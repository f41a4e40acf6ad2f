package dev.latchkey.socket;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileLock;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

/**
 * The arbiter: serves the lock table of one lock directory to every process of the host over a unix-domain socket.
 * Started by the process that won the election (it holds the election file lock for as long as it runs).
 * <p>
 * Each connection is served by its own thread. Leases belong to the connection that took them: when it closes, for
 * whatever reason, they are released at once and the key's watchers are told. Leases also expire by the arbiter's
 * clock after their TTL unless renewed.
 */
final class SocketArbiter implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(SocketArbiter.class);

	private final Path socket;

	private final ServerSocketChannel server;

	private final FileLock election;

	private final FencingCounter fencing;

	private final @Nullable UserPrincipal user;

	private final Thread acceptor;

	private final Set<Peer> peers = new HashSet<>();

	private final Map<String, Entry> entries = new TreeMap<>();

	private final Map<String, Set<Peer>> watchers = new LinkedHashMap<>();

	private static final long SWEEP_MILLIS = 100;

	/**
	 * How long an arbiter that takes over from another grants nothing (it queues requests instead): the previous
	 * arbiter's clients see their connections close at once, and this gives them time to report their leases lost and
	 * stop before anyone else is granted a key they held. Fencing tokens cover a holder paused for longer.
	 */
	static final long TAKEOVER_GRACE_MILLIS = 500;

	private final long grantsFromNanos;

	private final AtomicLong peerIds = new AtomicLong();

	private long grants;

	private volatile boolean closed;

	SocketArbiter(Path socket, FileLock election, FencingCounter fencing, @Nullable UserPrincipal user)
			throws IOException {
		this.socket = socket;
		this.election = election;
		this.fencing = fencing;
		this.user = user;
		this.grantsFromNanos = System.nanoTime()
				+ (fencing.isTakeover() ? TimeUnit.MILLISECONDS.toNanos(TAKEOVER_GRACE_MILLIS) : 0);
		this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
		this.server.bind(UnixDomainSocketAddress.of(socket));
		this.acceptor = new Thread(this::accept, "latchkey-socket-arbiter");
		this.acceptor.setDaemon(true);
		this.acceptor.start();
		Thread sweeper = new Thread(this::sweep, "latchkey-socket-sweeper");
		sweeper.setDaemon(true);
		sweeper.start();
		logger.info(() -> "Process " + ProcessHandle.current().pid() + " is the lock arbiter of " + socket.getParent());
	}

	private void accept() {
		while (!this.closed) {
			SocketChannel channel;
			try {
				channel = this.server.accept();
			}
			catch (IOException ex) {
				if (!this.closed) {
					logger.error(ex, "Lock arbiter stopped accepting connections");
				}
				return;
			}
			if (!isSameUser(channel)) {
				close(channel);
				continue;
			}
			Peer peer = new Peer(this.peerIds.incrementAndGet(), new LineChannel(channel));
			synchronized (this) {
				if (this.closed) {
					peer.line.close();
					return;
				}
				this.peers.add(peer);
			}
			Thread thread = new Thread(() -> serve(peer), "latchkey-socket-peer-" + peer.id);
			thread.setDaemon(true);
			thread.start();
		}
	}

	private boolean isSameUser(SocketChannel channel) {
		if (this.user == null) {
			return true;
		}
		try {
			UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
			if (!peer.user().equals(this.user)) {
				logger.warn(() -> "Refused a lock client of user " + peer.user().getName());
				return false;
			}
			return true;
		}
		catch (UnsupportedOperationException | IOException ex) {
			// Peer credentials are not available here; the private directory still keeps other users out.
			return true;
		}
	}

	private static void close(SocketChannel channel) {
		try {
			channel.close();
		}
		catch (IOException ex) {
			// Refused peer: nothing more to do.
		}
	}

	private void serve(Peer peer) {
		try {
			String line;
			while ((line = peer.line.readLine()) != null) {
				String answer = handle(peer, line);
				peer.line.writeLine(answer);
			}
		}
		catch (IOException | RuntimeException ex) {
			if (!this.closed) {
				logger.debug(ex, () -> "Closing lock client " + peer.name + ": " + ex.getMessage());
			}
		}
		finally {
			disconnect(peer);
		}
	}

	private String handle(Peer peer, String line) {
		String[] parts = line.split(" ");
		if (parts.length < 2) {
			throw new IllegalArgumentException("Malformed request");
		}
		if (parts[0].equals("HELLO")) {
			peer.name = Protocol.decode(parts[1]);
			return "0 OK " + peer.id;
		}
		long id = Long.parseLong(parts[0]);
		String verb = parts[1];
		return id + " " + switch (verb) {
			case "ACQ" -> acquire(peer, parts, false);
			case "QACQ" -> acquire(peer, parts, true);
			case "DEQ" -> dequeue(peer, Protocol.decode(parts[2]), parts[3]) ? "OK" : "NO";
			case "FORCE" -> forceRelease(Protocol.decode(parts[2])) ? "OK" : "NO";
			case "REL" -> release(peer, Protocol.decode(parts[2]), parts[3]) ? "OK" : "NO";
			case "RENEW" -> renew(peer, parts);
			case "INSPECT" -> inspect(Protocol.decode(parts[2]));
			case "DUMP" -> dump();
			case "WATCH" -> watch(peer, Protocol.decode(parts[2]), true);
			case "UNWATCH" -> watch(peer, Protocol.decode(parts[2]), false);
			case "STATS" -> stats();
			default -> throw new IllegalArgumentException("Unknown request " + verb);
		};
	}

	private String acquire(Peer peer, String[] parts, boolean queue) {
		String key = Protocol.decode(parts[2]);
		String token = parts[3];
		int limit = Integer.parseInt(parts[4]);
		long ttlNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(parts[5]));
		String owner = Protocol.decode(parts[6]);
		if (limit < 0 || ttlNanos <= 0) {
			throw new IllegalArgumentException("Bad limit or TTL");
		}
		Request request = new Request(peer, token, limit, ttlNanos, owner);
		List<Push> pushes = new ArrayList<>();
		String answer;
		synchronized (this) {
			long now = System.nanoTime();
			Entry entry = this.entries.computeIfAbsent(key, (k) -> new Entry());
			entry.purge(now);
			// Holders that just expired make room for the waiters queued first.
			drain(key, entry, now, pushes);
			// First come, first served: a key with queued waiters is not free for newcomers.
			if (entry.queue.isEmpty() && entry.fits(request) && mayGrant(now)) {
				answer = "OK " + grant(entry, request, now);
			}
			else if (queue) {
				entry.queue.addLast(request);
				answer = "QUEUED";
			}
			else {
				answer = "NO";
			}
		}
		send(pushes);
		return answer;
	}

	private boolean mayGrant(long now) {
		return now - this.grantsFromNanos >= 0;
	}

	// Called with the monitor held.
	private long grant(Entry entry, Request request, long now) {
		if (entry.holders.isEmpty()) {
			entry.exclusive = request.limit == 0;
			entry.limit = entry.exclusive ? 1 : request.limit;
		}
		long fence = this.fencing.next();
		this.grants++;
		entry.holders.put(request.token, new Holder(request.peer, request.owner, fence, now + request.ttlNanos));
		return fence;
	}

	/**
	 * Grants a key to its queued waiters, first come first served, while they fit. Called with the monitor held.
	 */
	private void drain(String key, Entry entry, long now, List<Push> pushes) {
		while (!entry.queue.isEmpty() && entry.fits(entry.queue.peekFirst()) && mayGrant(now)) {
			Request next = entry.queue.removeFirst();
			long fence = grant(entry, next, now);
			pushes.add(new Push(next.peer,
					Protocol.PUSH + " GRANTED " + Protocol.encode(key) + " " + next.token + " " + fence));
		}
	}

	private boolean forceRelease(String key) {
		List<Push> pushes = new ArrayList<>();
		boolean evicted;
		synchronized (this) {
			Entry entry = this.entries.get(key);
			if (entry == null) {
				return false;
			}
			long now = System.nanoTime();
			evicted = !entry.purge(now);
			entry.holders.clear();
			if (evicted) {
				// Fence the evicted holders off: the next grant's token is above any of theirs.
				this.fencing.next();
				announce(key, pushes);
			}
			drain(key, entry, now, pushes);
			if (entry.isIdle()) {
				this.entries.remove(key);
			}
		}
		send(pushes);
		return evicted;
	}

	private boolean dequeue(Peer peer, String key, String token) {
		List<Push> pushes = new ArrayList<>();
		boolean removed;
		synchronized (this) {
			Entry entry = this.entries.get(key);
			if (entry == null) {
				return false;
			}
			removed = entry.queue.removeIf((request) -> request.peer == peer && request.token.equals(token));
			// The withdrawn request may have stood in front of others that fit now.
			drain(key, entry, System.nanoTime(), pushes);
			if (entry.isIdle()) {
				this.entries.remove(key);
			}
		}
		send(pushes);
		return removed;
	}

	private boolean release(Peer peer, String key, String token) {
		boolean released;
		List<Push> pushes = new ArrayList<>();
		synchronized (this) {
			Entry entry = this.entries.get(key);
			if (entry == null) {
				return false;
			}
			long now = System.nanoTime();
			Holder holder = entry.holders.get(token);
			released = holder != null && holder.peer == peer && now - holder.expiresAtNanos < 0;
			if (holder != null && holder.peer == peer) {
				entry.holders.remove(token);
			}
			entry.purge(now);
			drain(key, entry, now, pushes);
			if (entry.isIdle()) {
				this.entries.remove(key);
			}
			if (released) {
				announce(key, pushes);
			}
		}
		send(pushes);
		return released;
	}

	private String renew(Peer peer, String[] parts) {
		StringBuilder lost = new StringBuilder("LOST");
		synchronized (this) {
			long now = System.nanoTime();
			for (int i = 2; i + 2 < parts.length; i += 3) {
				long ttlNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(parts[i]));
				String key = Protocol.decode(parts[i + 1]);
				String token = parts[i + 2];
				Entry entry = this.entries.get(key);
				Holder holder = (entry != null) ? entry.holders.get(token) : null;
				if (holder != null && holder.peer == peer && now - holder.expiresAtNanos < 0) {
					holder.expiresAtNanos = now + ttlNanos;
				}
				else {
					lost.append(' ').append(token);
				}
			}
		}
		return lost.toString();
	}

	// Reading changes nothing: expired holders are left to the sweeper, which also grants their keys to the queue.
	private synchronized String inspect(String key) {
		Entry entry = this.entries.get(key);
		long now = System.nanoTime();
		if (entry == null || !entry.isHeld(now)) {
			return "NONE";
		}
		return "INFO " + entry.describe(key, now);
	}

	private synchronized String dump() {
		StringBuilder locks = new StringBuilder("LOCKS");
		long now = System.nanoTime();
		for (Map.Entry<String, Entry> entry : this.entries.entrySet()) {
			if (entry.getValue().isHeld(now)) {
				locks.append(' ').append(entry.getValue().describe(entry.getKey(), now));
			}
		}
		return locks.toString();
	}

	private synchronized String watch(Peer peer, String key, boolean watch) {
		if (watch) {
			this.watchers.computeIfAbsent(key, (k) -> new LinkedHashSet<>()).add(peer);
			peer.watched.add(key);
		}
		else {
			Set<Peer> watching = this.watchers.get(key);
			if (watching != null && watching.remove(peer) && watching.isEmpty()) {
				this.watchers.remove(key);
			}
			peer.watched.remove(key);
		}
		return "OK";
	}

	private synchronized String stats() {
		int holders = this.entries.values().stream().mapToInt((entry) -> entry.holders.size()).sum();
		return "STATS " + this.peers.size() + " " + this.entries.size() + " " + holders + " " + this.grants;
	}

	private void disconnect(Peer peer) {
		List<Push> pushes = new ArrayList<>();
		synchronized (this) {
			this.peers.remove(peer);
			for (String key : peer.watched) {
				Set<Peer> watching = this.watchers.get(key);
				if (watching != null && watching.remove(peer) && watching.isEmpty()) {
					this.watchers.remove(key);
				}
			}
			long now = System.nanoTime();
			for (Iterator<Map.Entry<String, Entry>> it = this.entries.entrySet().iterator(); it.hasNext();) {
				Map.Entry<String, Entry> mapped = it.next();
				Entry entry = mapped.getValue();
				boolean withdrawn = entry.queue.removeIf((request) -> request.peer == peer);
				boolean freed = entry.holders.values().removeIf((holder) -> holder.peer == peer);
				if (freed || withdrawn) {
					drain(mapped.getKey(), entry, now, pushes);
				}
				if (freed) {
					announce(mapped.getKey(), pushes);
				}
				if (entry.isIdle()) {
					it.remove();
				}
			}
		}
		peer.line.close();
		send(pushes);
	}

	/**
	 * Expires leases whose holders stopped renewing, grants their keys to queued waiters and tells watchers.
	 */
	private void sweep() {
		while (!this.closed) {
			try {
				Thread.sleep(SWEEP_MILLIS);
			}
			catch (InterruptedException ex) {
				return;
			}
			List<Push> pushes = new ArrayList<>();
			synchronized (this) {
				long now = System.nanoTime();
				for (Iterator<Map.Entry<String, Entry>> it = this.entries.entrySet().iterator(); it.hasNext();) {
					Map.Entry<String, Entry> mapped = it.next();
					Entry entry = mapped.getValue();
					int before = entry.holders.size();
					entry.purge(now);
					// Also after a takeover's grace period, when nothing expired but the queue may be served.
					drain(mapped.getKey(), entry, now, pushes);
					if (entry.holders.size() < before) {
						announce(mapped.getKey(), pushes);
					}
					if (entry.isIdle()) {
						it.remove();
					}
				}
			}
			send(pushes);
		}
	}

	// Called with the monitor held: the pushes are sent after it is released.
	private void announce(String key, List<Push> pushes) {
		Set<Peer> watching = this.watchers.get(key);
		if (watching != null) {
			String line = Protocol.PUSH + " RELEASED " + Protocol.encode(key);
			for (Peer peer : watching) {
				pushes.add(new Push(peer, line));
			}
		}
	}

	private static void send(List<Push> pushes) {
		for (Push push : pushes) {
			try {
				push.peer.line.writeLine(push.line);
			}
			catch (IOException ex) {
				// That client is going away; its own thread cleans up.
			}
		}
	}

	@Override
	public void close() {
		List<Peer> open;
		synchronized (this) {
			if (this.closed) {
				return;
			}
			this.closed = true;
			open = new ArrayList<>(this.peers);
		}
		try {
			this.server.close();
		}
		catch (IOException ex) {
			logger.debug(ex, "Closing the arbiter socket failed");
		}
		for (Peer peer : open) {
			peer.line.close();
		}
		try {
			Files.deleteIfExists(this.socket);
		}
		catch (IOException ex) {
			logger.debug(ex, "Removing the arbiter socket file failed");
		}
		try {
			this.election.release();
			this.election.channel().close();
		}
		catch (IOException ex) {
			logger.debug(ex, "Releasing the election lock failed");
		}
	}

	private record Push(Peer peer, String line) {
	}

	private record Request(Peer peer, String token, int limit, long ttlNanos, String owner) {
	}

	private static final class Peer {

		final long id;

		final LineChannel line;

		final Set<String> watched = new HashSet<>();


		volatile String name = "unnamed";

		Peer(long id, LineChannel line) {
			this.id = id;
			this.line = line;
		}

	}

	private static final class Holder {

		final Peer peer;

		final String owner;

		final long fencingToken;

		long expiresAtNanos;

		Holder(Peer peer, String owner, long fencingToken, long expiresAtNanos) {
			this.peer = peer;
			this.owner = owner;
			this.fencingToken = fencingToken;
			this.expiresAtNanos = expiresAtNanos;
		}

	}

	private static final class Entry {

		boolean exclusive = true;

		int limit = 1;

		final Map<String, Holder> holders = new LinkedHashMap<>();

		final ArrayDeque<Request> queue = new ArrayDeque<>();

		boolean fits(Request request) {
			if (this.holders.isEmpty()) {
				return true;
			}
			boolean exclusiveRequest = request.limit == 0;
			return !this.exclusive && !exclusiveRequest && this.holders.size() < request.limit;
		}

		boolean isIdle() {
			return this.holders.isEmpty() && this.queue.isEmpty();
		}

		/**
		 * Whether a holder's lease is still running, without dropping expired holders: only a caller that also grants
		 * the key to the queue may drop them.
		 */
		boolean isHeld(long now) {
			return this.holders.values().stream().anyMatch((holder) -> now - holder.expiresAtNanos < 0);
		}

		/**
		 * Drops expired holders.
		 * @return whether no holder is left
		 */
		boolean purge(long now) {
			this.holders.values().removeIf((holder) -> now - holder.expiresAtNanos >= 0);
			return this.holders.isEmpty();
		}

		String describe(String key, long now) {
			StringBuilder text = new StringBuilder(Protocol.encode(key)).append(',')
				.append(this.exclusive ? "EXCLUSIVE" : "SHARED")
				.append(',')
				.append(this.limit);
			for (Holder holder : this.holders.values()) {
				if (now - holder.expiresAtNanos >= 0) {
					continue;
				}
				text.append(',')
					.append(Protocol.encode(holder.owner))
					.append(':')
					.append(holder.fencingToken)
					.append(':')
					.append(TimeUnit.NANOSECONDS.toMillis(Math.max(0, holder.expiresAtNanos - now)));
			}
			return text.toString();
		}

	}

}
