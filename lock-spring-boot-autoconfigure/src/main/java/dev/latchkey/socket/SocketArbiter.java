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
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileLock;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

/**
 * The arbiter: serves the {@link LockTable} of one lock directory to every process of the
 * host over a unix-domain socket, on one thread that never blocks on a client. Started by
 * the repository that won the election (it holds the election file lock while the arbiter
 * runs) and stopped by that repository's {@code close()}; that repository calls it
 * directly, on its own threads ({@link LocalConnection}). One lock guards the table and
 * the connections.
 * <p>
 * <b>Clients.</b> Leases belong to the connection that took them: when it closes, they
 * are freed at once and the key's watchers are told. Writes are non-blocking; a client
 * whose unread answers pile up beyond {@link #MAX_PENDING_BYTES} is disconnected, which
 * costs that client alone.
 * <p>
 * <b>Taking over.</b> A new arbiter reads the {@link ArbiterState} its predecessor left.
 * If a client that may hold leases is still alive and the predecessor's horizon is still
 * ahead, it starts in a <em>grace period</em>: it grants nothing new and accepts only
 * re-assertions of leases, until every such client has re-asserted (or its process is
 * gone) or the horizon passes. Attempts that do not queue wait up to
 * {@link #DEFERRAL_NANOS} for the grace to end, then are answered "held".
 */
final class SocketArbiter implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(SocketArbiter.class);

	/** Unread answers a client may leave before it is disconnected. */
	static final int MAX_PENDING_BYTES = 8 * 1024 * 1024;

	/**
	 * How long an attempt that does not queue waits for a grace period to end before it
	 * is answered "held".
	 */
	static final long DEFERRAL_NANOS = TimeUnit.SECONDS.toNanos(1);

	private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	private static final int READ_BUFFER = 64 * 1024;

	private final Path socket;

	private final ServerSocketChannel server;

	private final Selector selector;

	private final FileLock election;

	private final ArbiterState state;

	private final @Nullable UserPrincipal user;

	private final LockTable<Peer> table;

	private final Set<Peer> peers = new LinkedHashSet<>();

	private final Map<String, Set<Peer>> watchers = new HashMap<>();

	/**
	 * Clients of the previous arbiter that may still re-assert leases; empty once the
	 * grace period is over.
	 */
	private final Map<String, ArbiterState.Client> awaited = new LinkedHashMap<>();

	private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();

	private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER);

	private final CountDownLatch stopped = new CountDownLatch(1);

	private final ReentrantLock lock = new ReentrantLock();

	/**
	 * Frames for local links, delivered after the lock is released, in order, by one
	 * thread at a time.
	 */
	private final ConcurrentLinkedQueue<LocalFrame> localFrames = new ConcurrentLinkedQueue<>();

	private final ReentrantLock dispatching = new ReentrantLock();

	private final Thread thread;

	private long nextSweepNanos;

	private volatile boolean closing;

	private final String ownerId;

	/**
	 * Starts serving.
	 * @param socket where to listen
	 * @param election the election lock, held until the arbiter stops
	 * @param user the only user whose processes may connect, or {@code null} if the
	 * platform cannot tell
	 * @param ownerId the client identity of the repository that runs this arbiter: it
	 * stops with the arbiter, so its successor need not wait for it
	 * @param threads makes the arbiter's thread
	 * @throws IOException if the socket cannot be bound
	 */
	SocketArbiter(Path socket, FileLock election, @Nullable UserPrincipal user, String ownerId, ThreadFactory threads)
			throws IOException {
		this.socket = socket;
		this.ownerId = ownerId;
		this.election = election;
		this.user = user;
		long now = System.nanoTime();
		this.state = ArbiterState.read(socket.resolveSibling(SocketLockRepository.STATE), now);
		this.table = new LockTable<>(this.state::nextToken, this.state::cover);
		if (this.state.horizon() - now > 0) {
			for (ArbiterState.Client client : this.state.clients()) {
				if (client.isAlive()) {
					this.awaited.put(client.id(), client);
				}
			}
		}
		LockTable.Effects<Peer> effects = new LockTable.Effects<>();
		if (!this.awaited.isEmpty()) {
			this.table.setGranting(false, now, effects);
			logger.info(() -> "Taking over the locks of " + socket.getParent() + ": waiting for " + this.awaited.size()
					+ " client(s) to re-assert their leases");
		}
		// Whoever takes over from this arbiter must still wait for the clients this one
		// waits for.
		this.state.clients(this.awaited.values());
		this.selector = Selector.open();
		this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
		try {
			this.server.bind(UnixDomainSocketAddress.of(socket));
			this.server.configureBlocking(false);
			this.server.register(this.selector, SelectionKey.OP_ACCEPT);
		}
		catch (IOException ex) {
			this.server.close();
			this.selector.close();
			throw ex;
		}
		this.nextSweepNanos = now + SWEEP_NANOS;
		this.thread = threads.newThread(this::run);
		this.thread.start();
		logger.info(() -> "Process " + ProcessHandle.current().pid() + " is the lock arbiter of " + socket.getParent());
	}

	private void run() {
		try {
			while (!this.closing) {
				long now = System.nanoTime();
				long wait = Math.max(1, TimeUnit.NANOSECONDS.toMillis(this.nextSweepNanos - now));
				this.selector.select(this::ready, wait);
				now = System.nanoTime();
				if (now - this.nextSweepNanos >= 0) {
					this.lock.lock();
					try {
						sweep(now);
					}
					finally {
						this.lock.unlock();
					}
					dispatchLocal();
					this.nextSweepNanos = now + SWEEP_NANOS;
				}
			}
		}
		catch (IOException | RuntimeException ex) {
			if (!this.closing) {
				logger.error(ex,
						"The lock arbiter of " + this.socket.getParent() + " failed; its clients elect another");
			}
		}
		finally {
			this.lock.lock();
			try {
				stop();
			}
			finally {
				this.lock.unlock();
			}
			dispatchLocal();
		}
	}

	private void ready(SelectionKey key) {
		this.lock.lock();
		try {
			serve(key);
		}
		finally {
			this.lock.unlock();
		}
		dispatchLocal();
	}

	private void serve(SelectionKey key) {
		try {
			if (key.isAcceptable()) {
				accept();
				return;
			}
			Peer peer = (Peer) key.attachment();
			if (key.isWritable()) {
				flush(peer);
			}
			if (key.isValid() && key.isReadable()) {
				read(peer);
			}
		}
		catch (IOException ex) {
			if (key.attachment() instanceof Peer peer) {
				logger.debug(ex, () -> "Lock client " + peer.name + " went away: " + ex.getMessage());
				disconnect(peer, true);
			}
			else {
				logger.warn(ex, "Accepting a lock client failed");
			}
		}
		catch (RuntimeException ex) {
			if (key.attachment() instanceof Peer peer) {
				logger.warn(() -> "Closing lock client " + peer.name + ": " + ex.getMessage());
				disconnect(peer, false);
			}
			else {
				logger.warn(ex, "Accepting a lock client failed");
			}
		}
	}

	private void accept() throws IOException {
		SocketChannel channel;
		while ((channel = this.server.accept()) != null) {
			if (!isSameUser(channel)) {
				channel.close();
				continue;
			}
			channel.configureBlocking(false);
			Peer peer = new Peer(channel);
			peer.key = channel.register(this.selector, SelectionKey.OP_READ, peer);
			this.peers.add(peer);
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
			// Peer credentials are not available here; the private directory still keeps
			// other users out.
			return true;
		}
	}

	private void read(Peer peer) throws IOException {
		this.readBuffer.clear();
		int read = peer.socket().read(this.readBuffer);
		if (read < 0) {
			disconnect(peer, true);
			return;
		}
		this.readBuffer.flip();
		peer.append(this.readBuffer);
		ByteBuffer payload;
		while (peer.key.isValid() && (payload = peer.nextFrame()) != null) {
			ByteBuffer answer = handle(peer, Protocol.readRequest(new Frame.Reader(payload)));
			if (answer != null) {
				send(peer, answer);
			}
		}
	}

	/**
	 * Handles one request, with the lock held.
	 * @return the answer, or {@code null} when it is deferred (sent later)
	 */
	private @Nullable ByteBuffer handle(Peer peer, Protocol.Request request) {
		long now = System.nanoTime();
		if (peer.client == null && !(request instanceof Protocol.Hello)) {
			throw new IllegalArgumentException("The first request must be HELLO");
		}
		LockTable.Effects<Peer> effects = new LockTable.Effects<>();
		long id = request.id();
		ByteBuffer answer = switch (request.kind()) {
			case Protocol.HELLO -> hello(peer, (Protocol.Hello) request, now);
			case Protocol.ACQUIRE -> acquire(peer, (Protocol.Acquire) request, now, effects);
			case Protocol.RELEASE, Protocol.DEQUEUE -> keyToken(peer, (Protocol.KeyToken) request, now, effects);
			case Protocol.RENEW ->
				Protocol.tokens(id, this.table.renew(peer, ((Protocol.Renew) request).renewals(), now));
			case Protocol.REASSERT -> reassert(peer, (Protocol.Reassert) request, now);
			case Protocol.REASSERTED -> reasserted(peer, id, now, effects);
			case Protocol.STATS -> Protocol.Bare.stats(id, this.peers.size(), this.table.keys(), this.table.holders(),
					this.table.grants());
			case Protocol.LIST -> list((Protocol.ListPage) request, now);
			default -> keyOnly(peer, (Protocol.KeyOnly) request, now, effects);
		};
		deliver(effects);
		return answer;
	}

	// Local links

	/**
	 * Opens a link for the repository that runs this arbiter.
	 * @param timeout how long its calls wait for a deferred answer
	 * @param listener told of pushes and of the link's end
	 * @return the link
	 */
	LocalConnection connectLocal(Duration timeout, ArbiterConnection.Listener listener) throws IOException {
		LocalConnection local = new LocalConnection(this, timeout, listener);
		this.lock.lock();
		try {
			if (this.closing || !isRunning()) {
				throw new IOException("The lock arbiter has stopped");
			}
			this.peers.add(new Peer(local));
		}
		finally {
			this.lock.unlock();
		}
		return local;
	}

	/**
	 * Handles a local link's request on the calling thread.
	 * @param link the link
	 * @param request the request's frame, its length prefix included
	 * @return the answer's frame, or {@code null} when it is deferred (it then comes
	 * through {@link LocalConnection#receive})
	 */
	@Nullable ByteBuffer handleLocal(LocalConnection link, ByteBuffer request) {
		ByteBuffer answer;
		this.lock.lock();
		try {
			Peer peer = localPeer(link);
			if (peer == null) {
				return null;
			}
			answer = handle(peer, Protocol.readRequest(new Frame.Reader(request.slice(4, request.remaining() - 4))));
		}
		finally {
			this.lock.unlock();
		}
		dispatchLocal();
		return answer;
	}

	void disconnectLocal(LocalConnection link) {
		this.lock.lock();
		try {
			Peer peer = localPeer(link);
			if (peer != null) {
				disconnect(peer, true);
			}
		}
		finally {
			this.lock.unlock();
		}
		dispatchLocal();
	}

	private @Nullable Peer localPeer(LocalConnection link) {
		for (Peer peer : this.peers) {
			if (peer.local == link) {
				return peer;
			}
		}
		return null;
	}

	/**
	 * Delivers the frames queued for local links, without the lock: what they do with
	 * them (complete a waiter's future, give a grant back) may call the arbiter again.
	 */
	void dispatchLocal() {
		while (!this.localFrames.isEmpty() && this.dispatching.tryLock()) {
			try {
				LocalFrame next;
				while ((next = this.localFrames.poll()) != null) {
					try {
						next.link().receive(next.frame());
					}
					catch (RuntimeException ex) {
						logger.warn(ex, "Delivering a message to this process's lock client failed");
					}
				}
			}
			finally {
				this.dispatching.unlock();
			}
		}
	}

	private ByteBuffer hello(Peer peer, Protocol.Hello hello, long now) {
		peer.name = hello.name();
		peer.client = new ArbiterState.Client(hello.clientId(), hello.pid(), hello.started(), hello.pidNamespace());
		recordClients();
		return Protocol.Hello.answer(hello.id(), now);
	}

	private @Nullable ByteBuffer acquire(Peer peer, Protocol.Acquire acquire, long now,
			LockTable.Effects<Peer> effects) {
		if (!this.table.isGranting() && !acquire.queue()) {
			// A grace period: the key may belong to a client that has not re-asserted
			// yet. Answer when it ends.
			this.deferred.addLast(new Deferred(peer, acquire, now + DEFERRAL_NANOS));
			return null;
		}
		LockTable.Outcome outcome = this.table.acquire(peer, acquire.key(), acquire.token(), acquire.permits(),
				acquire.ttlNanos(), acquire.owner(), acquire.queue(), now, effects);
		return switch (outcome.kind()) {
			case GRANTED -> Protocol.Acquire.granted(acquire.id(), outcome.fencingToken(), outcome.expiresAtNanos());
			case QUEUED -> Protocol.Acquire.queued(acquire.id());
			case HELD -> Protocol.Acquire.held(acquire.id());
			case LIMIT_CONFLICT -> Protocol.Acquire.limitConflict(acquire.id(), outcome.heldLimit());
		};
	}

	private ByteBuffer keyToken(Peer peer, Protocol.KeyToken request, long now, LockTable.Effects<Peer> effects) {
		boolean done = (request.kind() == Protocol.RELEASE)
				? this.table.release(peer, request.key(), request.token(), now, effects)
				: this.table.dequeue(peer, request.key(), request.token(), now, effects);
		return done ? Protocol.yes(request.id()) : Protocol.no(request.id());
	}

	private ByteBuffer keyOnly(Peer peer, Protocol.KeyOnly request, long now, LockTable.Effects<Peer> effects) {
		String key = request.key();
		return switch (request.kind()) {
			case Protocol.FORCE_RELEASE ->
				this.table.forceRelease(key, now, effects) ? Protocol.yes(request.id()) : Protocol.no(request.id());
			case Protocol.INSPECT -> this.table.inspect(key, now)
				.map((lock) -> Protocol.KeyOnly.lock(request.id(), lock))
				.orElseGet(() -> Protocol.no(request.id()));
			case Protocol.WATCH -> {
				this.watchers.computeIfAbsent(key, (k) -> new LinkedHashSet<>()).add(peer);
				peer.watched.add(key);
				yield Protocol.yes(request.id());
			}
			default -> {
				unwatch(peer, key);
				peer.watched.remove(key);
				yield Protocol.yes(request.id());
			}
		};
	}

	private ByteBuffer reassert(Peer peer, Protocol.Reassert reassert, long now) {
		List<String> refused = new ArrayList<>();
		for (Protocol.Claim claim : reassert.claims()) {
			if (!this.table.reassert(peer, claim, now)) {
				refused.add(claim.token());
			}
		}
		return Protocol.tokens(reassert.id(), refused);
	}

	private ByteBuffer reasserted(Peer peer, long id, long now, LockTable.Effects<Peer> effects) {
		if (peer.client != null && this.awaited.remove(peer.client.id()) != null) {
			endGraceIfDone(now, effects);
		}
		return Protocol.yes(id);
	}

	private ByteBuffer list(Protocol.ListPage page, long now) {
		Protocol.Page locks = this.table.list(page.after(), Frame.CHUNK_BYTES / 2, now);
		Frame.Writer frame = Protocol.ListPage.startAnswer(page.id());
		Protocol.ListPage.writeLocks(frame, locks.locks(), locks.more());
		return frame.finish();
	}

	private void sweep(long now) {
		LockTable.Effects<Peer> effects = new LockTable.Effects<>();
		if (!this.awaited.isEmpty()) {
			this.awaited.values().removeIf((client) -> !client.isAlive());
			endGraceIfDone(now, effects);
		}
		this.table.expire(now, effects);
		while (!this.deferred.isEmpty() && now - this.deferred.peekFirst().deadlineNanos >= 0) {
			Deferred late = this.deferred.removeFirst();
			send(late.peer, Protocol.Acquire.held(late.request.id()));
		}
		deliver(effects);
	}

	private void endGraceIfDone(long now, LockTable.Effects<Peer> effects) {
		if (this.table.isGranting() || (!this.awaited.isEmpty() && this.state.horizon() - now > 0)) {
			return;
		}
		if (!this.awaited.isEmpty()) {
			logger.info(() -> "Lock arbiter grace period over: the leases of " + this.awaited.size()
					+ " silent client(s) have expired");
			this.awaited.clear();
		}
		this.table.setGranting(true, now, effects);
		recordClients();
		while (!this.deferred.isEmpty()) {
			Deferred waiting = this.deferred.removeFirst();
			if (this.peers.contains(waiting.peer)) {
				ByteBuffer answer = acquire(waiting.peer, waiting.request, now, effects);
				if (answer != null) {
					send(waiting.peer, answer);
				}
			}
		}
	}

	/**
	 * Records whom a successor must wait for: the clients still awaited, the connected
	 * ones, and those whose leases outlive their connection (the arbiter closed it).
	 */
	private void recordClients() {
		Map<String, ArbiterState.Client> clients = new LinkedHashMap<>(this.awaited);
		for (Peer peer : this.peers) {
			if (peer.client != null) {
				clients.put(peer.client.id(), peer.client);
			}
		}
		for (Peer peer : this.table.clientsWithLeases()) {
			if (peer.client != null) {
				clients.put(peer.client.id(), peer.client);
			}
		}
		this.state.clients(clients.values());
	}

	private void deliver(LockTable.Effects<Peer> effects) {
		for (LockTable.Grant<Peer> grant : effects.grants) {
			send(grant.client(),
					Protocol.pushedGrant(grant.key(), grant.token(), grant.fencingToken(), grant.expiresAtNanos()));
		}
		for (String key : effects.released) {
			Set<Peer> watching = this.watchers.get(key);
			if (watching != null) {
				ByteBuffer push = Protocol.pushedRelease(key);
				for (Peer peer : List.copyOf(watching)) {
					send(peer, push.duplicate());
				}
			}
		}
	}

	private void send(Peer peer, ByteBuffer frame) {
		if (peer.local != null) {
			if (this.peers.contains(peer)) {
				this.localFrames.add(new LocalFrame(peer.local, frame));
			}
			return;
		}
		if (!peer.key.isValid()) {
			return;
		}
		peer.out.addLast(frame);
		peer.pendingBytes += frame.remaining();
		try {
			flush(peer);
		}
		catch (IOException ex) {
			disconnect(peer, true);
			return;
		}
		if (peer.pendingBytes > MAX_PENDING_BYTES) {
			logger.warn(() -> "Disconnecting lock client " + peer.name + ": it left " + peer.pendingBytes
					+ " bytes of answers unread; its leases run out unless it takes them back");
			disconnect(peer, false);
		}
	}

	private void flush(Peer peer) throws IOException {
		while (!peer.out.isEmpty()) {
			ByteBuffer head = peer.out.peekFirst();
			int written = peer.socket().write(head);
			peer.pendingBytes -= written;
			if (head.hasRemaining()) {
				if (peer.key.interestOps() != (SelectionKey.OP_READ | SelectionKey.OP_WRITE)) {
					peer.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
					// Written from a local link's thread, perhaps: the selector must see
					// the new interest.
					this.selector.wakeup();
				}
				return;
			}
			peer.out.removeFirst();
		}
		if (peer.key.interestOps() != SelectionKey.OP_READ) {
			peer.key.interestOps(SelectionKey.OP_READ);
		}
	}

	/**
	 * Drops a connection.
	 * @param peer the connection
	 * @param gone whether the client closed it (it exited, crashed or gave up its
	 * leases): its leases are freed at once; otherwise the arbiter closed it, and its
	 * leases run out unless it takes them back
	 */
	private void disconnect(Peer peer, boolean gone) {
		if (!this.peers.remove(peer)) {
			return;
		}
		if (peer.local == null) {
			peer.key.cancel();
			try {
				peer.socket().close();
			}
			catch (IOException ex) {
				// Closing: nothing left to do.
			}
		}
		for (String key : peer.watched) {
			unwatch(peer, key);
		}
		this.deferred.removeIf((waiting) -> waiting.peer == peer);
		LockTable.Effects<Peer> effects = new LockTable.Effects<>();
		if (gone) {
			this.table.disconnect(peer, System.nanoTime(), effects);
		}
		else {
			this.table.orphan(peer, System.nanoTime(), effects);
		}
		if (peer.client != null && !this.closing) {
			recordClients();
		}
		deliver(effects);
	}

	private void unwatch(Peer peer, String key) {
		Set<Peer> watching = this.watchers.get(key);
		if (watching != null && watching.remove(peer) && watching.isEmpty()) {
			this.watchers.remove(key);
		}
	}

	/**
	 * Stops serving, in order: the state file then names exactly the clients that hold or
	 * wait for something, so that the next arbiter waits for them alone, and no longer
	 * than their leases run. Then every connection is closed; the clients elect a
	 * successor and re-assert their leases there.
	 */
	@Override
	public void close() {
		this.closing = true;
		this.selector.wakeup();
		try {
			if (Thread.currentThread() != this.thread) {
				if (!this.stopped.await(10, TimeUnit.SECONDS)) {
					logger.warn(() -> "The lock arbiter of " + this.socket.getParent() + " did not stop within 10 s");
				}
				// It delivers the last frames of local links after it stopped serving:
				// its end is near.
				this.thread.join(TimeUnit.SECONDS.toMillis(1));
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	boolean isRunning() {
		return this.stopped.getCount() > 0;
	}

	// On the arbiter's thread, once.
	private void stop() {
		long now = System.nanoTime();
		try {
			Map<String, ArbiterState.Client> clients = new LinkedHashMap<>(this.awaited);
			for (Peer peer : this.table.clientsWithLeases()) {
				if (peer.client != null && !peer.client.id().equals(this.ownerId)) {
					clients.put(peer.client.id(), peer.client);
				}
			}
			long horizon = this.awaited.isEmpty() ? this.table.latestExpiry(now)
					: Math.max(this.state.horizon(), this.table.latestExpiry(now));
			this.state.handOver(clients.values(), horizon);
		}
		catch (RuntimeException ex) {
			// The state written last still holds: a successor waits longer, but safely.
			logger.warn(ex, "Could not record the hand-over of the lock arbiter");
		}
		for (Peer peer : new ArrayList<>(this.peers)) {
			if (peer.local != null) {
				peer.local.closedByArbiter();
				continue;
			}
			try {
				peer.socket().close();
			}
			catch (IOException ex) {
				// Closing: nothing left to do.
			}
		}
		this.peers.clear();
		closeQuietly(this.server);
		closeQuietly(this.selector);
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
		this.stopped.countDown();
	}

	private static void closeQuietly(AutoCloseable closeable) {
		try {
			closeable.close();
		}
		catch (Exception ex) {
			logger.debug(ex, "Closing failed");
		}
	}

	private record Deferred(Peer peer, Protocol.Acquire request, long deadlineNanos) {
	}

	private record LocalFrame(LocalConnection link, ByteBuffer frame) {
	}

	/**
	 * One connection: its half-read frame, its unsent answers and what it watches.
	 */
	private static final class Peer {

		// Exactly one of channel and local is set.
		private final @Nullable SocketChannel channel;

		final @Nullable LocalConnection local;

		final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();

		final Set<String> watched = new HashSet<>();

		// Set right after registration, before the peer is served.
		SelectionKey key;

		ArbiterState.@Nullable Client client;

		String name = "unnamed";

		long pendingBytes;

		private ByteBuffer in = ByteBuffer.allocate(0);

		Peer(SocketChannel channel) {
			this.channel = channel;
			this.local = null;
		}

		Peer(LocalConnection local) {
			this.channel = null;
			this.local = local;
			this.name = "this process";
		}

		SocketChannel socket() {
			if (this.channel == null) {
				throw new IllegalStateException("A local link has no socket");
			}
			return this.channel;
		}

		void append(ByteBuffer bytes) {
			if (this.in.remaining() < bytes.remaining()) {
				ByteBuffer larger = ByteBuffer
					.allocate(Math.max(this.in.position() + bytes.remaining(), Math.max(256, this.in.capacity() * 2)));
				larger.put(this.in.flip());
				this.in = larger;
			}
			this.in.put(bytes);
		}

		/**
		 * The next complete frame's payload, or {@code null} when more bytes are needed.
		 */
		@Nullable ByteBuffer nextFrame() {
			if (this.in.position() < 4) {
				return null;
			}
			int length = this.in.getInt(0);
			if (length < 1 || length > Frame.MAX_BYTES) {
				throw new IllegalArgumentException("Frame of " + length + " bytes");
			}
			if (this.in.position() < 4 + length) {
				return null;
			}
			byte[] payload = new byte[length];
			this.in.flip().position(4);
			this.in.get(payload);
			this.in.compact();
			return ByteBuffer.wrap(payload);
		}

	}

}
