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
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * What it serves (the table, the watchers, a new arbiter's grace period, the state kept
 * for a successor) is the {@link ArbiterService}'s; this class moves the bytes.
 */
final class SocketArbiter implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(SocketArbiter.class);

	/** Unread answers a client may leave before it is disconnected. */
	static final int MAX_PENDING_BYTES = 8 * 1024 * 1024;

	private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	private static final int READ_BUFFER = 64 * 1024;

	private final Path socket;

	private final ServerSocketChannel server;

	private final Selector selector;

	private final FileLock election;

	private final @Nullable UserPrincipal user;

	private final Set<ArbiterPeer> peers = new LinkedHashSet<>();

	private final ArbiterService service;

	private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER);

	private final CountDownLatch stopped = new CountDownLatch(1);

	private final ReentrantLock lock = new ReentrantLock();

	/**
	 * Threads waiting for the lock that this process's own requests must not overtake:
	 * the selector thread (every other process of the host) and renewals. The lock is
	 * unfair, for the throughput of this process's own lock traffic; but threads of this
	 * process that acquire in a loop would otherwise take it again and again ahead of a
	 * waiter that was woken, and on a busy machine a renewal of 100,000 leases then took
	 * longer than their TTL.
	 */
	private final AtomicInteger priorityWaiters = new AtomicInteger();

	/**
	 * Frames for local links, delivered after the lock is released, in order, by one
	 * thread at a time.
	 */
	private final ConcurrentLinkedQueue<LocalFrame> localFrames = new ConcurrentLinkedQueue<>();

	private final ReentrantLock dispatching = new ReentrantLock();

	private final Thread thread;

	private long nextSweepNanos;

	private volatile boolean closing;

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
		this.election = election;
		this.user = user;
		long now = System.nanoTime();
		this.service = new ArbiterService(socket.resolveSibling(SocketLockRepository.STATE), ownerId, this.peers,
				this::send);
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
					lockFirst();
					try {
						this.service.sweep(now);
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
			lockFirst();
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
		lockFirst();
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
			ArbiterPeer peer = (ArbiterPeer) key.attachment();
			if (key.isWritable()) {
				flush(peer);
			}
			if (key.isValid() && key.isReadable()) {
				read(peer);
			}
		}
		catch (IOException ex) {
			if (key.attachment() instanceof ArbiterPeer peer) {
				logger.debug(ex, () -> "Lock client " + peer.name + " went away: " + ex.getMessage());
				disconnect(peer, true);
			}
			else {
				logger.warn(ex, "Accepting a lock client failed");
			}
		}
		catch (RuntimeException ex) {
			if (key.attachment() instanceof ArbiterPeer peer) {
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
			ArbiterPeer peer = new ArbiterPeer(channel);
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
			// ArbiterPeer credentials are not available here; the private directory still
			// keeps other users out.
			return true;
		}
	}

	private void read(ArbiterPeer peer) throws IOException {
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
			ByteBuffer answer = this.service.handle(peer, Protocol.readRequest(new Frame.Reader(payload)));
			if (answer != null) {
				send(peer, answer);
			}
		}
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
			this.peers.add(new ArbiterPeer(local));
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
		Protocol.Request parsed = Protocol.readRequest(new Frame.Reader(request.slice(4, request.remaining() - 4)));
		if (parsed.kind() == Protocol.RENEW || parsed.kind() == Protocol.RENEW_RECORD
				|| parsed.kind() == Protocol.REASSERT) {
			lockFirst();
		}
		else {
			lockBehindFirst();
		}
		ByteBuffer answer;
		try {
			ArbiterPeer peer = localPeer(link);
			if (peer == null) {
				return null;
			}
			answer = this.service.handle(peer, parsed);
		}
		finally {
			this.lock.unlock();
		}
		dispatchLocal();
		return answer;
	}

	void disconnectLocal(LocalConnection link) {
		lockBehindFirst();
		try {
			ArbiterPeer peer = localPeer(link);
			if (peer != null) {
				disconnect(peer, true);
			}
		}
		finally {
			this.lock.unlock();
		}
		dispatchLocal();
	}

	/**
	 * Takes the lock ahead of this process's own requests that arrive meanwhile.
	 */
	private void lockFirst() {
		if (this.lock.tryLock()) {
			return;
		}
		this.priorityWaiters.incrementAndGet();
		try {
			this.lock.lock();
		}
		finally {
			this.priorityWaiters.decrementAndGet();
		}
	}

	/**
	 * Takes the lock once no thread that must come first is waiting for it.
	 */
	private void lockBehindFirst() {
		while (this.priorityWaiters.get() > 0 && !this.lock.isHeldByCurrentThread()) {
			Thread.yield();
		}
		this.lock.lock();
	}

	private @Nullable ArbiterPeer localPeer(LocalConnection link) {
		for (ArbiterPeer peer : this.peers) {
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

	private void send(ArbiterPeer peer, ByteBuffer frame) {
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

	private void flush(ArbiterPeer peer) throws IOException {
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
	private void disconnect(ArbiterPeer peer, boolean gone) {
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
		this.service.disconnected(peer, gone, this.closing);
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
		try {
			this.service.handOver();
		}
		catch (RuntimeException ex) {
			// The state written last still holds: a successor waits longer, but safely.
			logger.warn(ex, "Could not record the hand-over of the lock arbiter");
		}
		for (ArbiterPeer peer : new ArrayList<>(this.peers)) {
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

	private record LocalFrame(LocalConnection link, ByteBuffer frame) {
	}

}
