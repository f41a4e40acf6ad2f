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
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.LockBackendException;

/**
 * A repository's link to its directory's arbiter, and the link's whole life: connect, or
 * win the election and run the arbiter; after the arbiter went away, connect again at
 * once (electing a successor if needed) and let the {@link Session} re-assert what it
 * holds there before anything else is asked.
 * <p>
 * The link knows nothing of leases: what to re-assert, and what a grant or a release
 * notification means, is the session's ({@link SocketLockRepository}).
 */
final class ArbiterLink implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(ArbiterLink.class);

	private final Path directory;

	private final String clientName;

	private final Duration timeout;

	private final ArbiterState.Client identity;

	private final ThreadFactory threads;

	private final Session session;

	private final ArbiterConnection.Listener listener;

	/**
	 * Threads under way that reconnect after the arbiter went away: close() waits for
	 * them.
	 */
	private final Set<Thread> reconnecting = ConcurrentHashMap.newKeySet();

	private final Object connecting = new Object();

	private volatile @Nullable ArbiterConnection connection;

	private volatile @Nullable SocketArbiter arbiter;

	private volatile boolean closed;

	ArbiterLink(Path directory, String clientName, Duration timeout, ThreadFactory threads, Session session) {
		this.directory = directory;
		this.clientName = clientName;
		this.timeout = timeout;
		this.identity = ArbiterState.Client.current(UUID.randomUUID().toString());
		this.threads = threads;
		this.session = session;
		this.listener = new ArbiterConnection.Listener() {

			@Override
			public void granted(ArbiterConnection from, Protocol.PushedGrant grant) {
				session.granted(from, grant);
			}

			@Override
			public void released(String key) {
				session.released(key);
			}

			@Override
			public void closed(ArbiterConnection connection) {
				connectionClosed(connection);
			}

		};
	}

	Path directory() {
		return this.directory;
	}

	Duration timeout() {
		return this.timeout;
	}

	boolean isArbiter() {
		SocketArbiter current = this.arbiter;
		return current != null && current.isRunning();
	}

	/**
	 * The current connection, if one is open; never connects.
	 * @return the open connection, or {@code null}
	 */
	@Nullable ArbiterConnection current() {
		ArbiterConnection current = this.connection;
		return (current != null && current.isOpen()) ? current : null;
	}

	/**
	 * The open connection, connecting (and re-asserting) first when there is none.
	 * @return an open connection whose arbiter knows what the session holds
	 * @throws LockBackendException when no arbiter answers, or it did not take the
	 * re-assertion
	 */
	ArbiterConnection connection() {
		ArbiterConnection current = current();
		if (current != null) {
			return current;
		}
		synchronized (this.connecting) {
			current = current();
			if (current != null) {
				return current;
			}
			if (this.closed) {
				throw new LockBackendException("socket", "Socket lock repository is closed", null);
			}
			try {
				current = connectOrElect();
			}
			catch (IOException ex) {
				throw failure("Connecting to the lock arbiter in " + this.directory, ex);
			}
			try {
				this.session.reassert(current);
			}
			catch (IOException ex) {
				if (ex instanceof ArbiterConnection.NoAnswerException) {
					// Closing the connection frees what was taken back on it: this
					// process stops believing first.
					this.session.giveUp("the lock arbiter did not answer their re-assertion");
				}
				current.close();
				throw failure("Re-asserting leases at the lock arbiter in " + this.directory, ex);
			}
			this.connection = current;
			this.session.connected();
			return current;
		}
	}

	private ArbiterConnection connectOrElect() throws IOException {
		ArbiterElection.prepare(this.directory);
		Path socket = this.directory.resolve(SocketLockRepository.SOCKET);
		long deadline = System.nanoTime() + this.timeout.toNanos();
		IOException last = null;
		while (System.nanoTime() - deadline < 0) {
			SocketArbiter mine = this.arbiter;
			if (mine != null && mine.isRunning()) {
				return connectLocal(mine);
			}
			try {
				return SocketConnection.open(socket, this.identity, this.clientName, this.timeout, this.listener,
						this.threads);
			}
			catch (IOException ex) {
				last = ex;
			}
			if (!this.closed) {
				SocketArbiter elected = ArbiterElection.tryElect(this.directory, this.identity.id(), this.threads);
				if (elected != null) {
					this.arbiter = elected;
					return connectLocal(elected);
				}
			}
			try {
				Thread.sleep(ThreadLocalRandom.current().nextLong(1, 5));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IOException("Interrupted while connecting to the lock arbiter", ex);
			}
		}
		throw new IOException("No lock arbiter answered in " + this.directory + " within " + this.timeout, last);
	}

	/**
	 * Links to the arbiter this process runs: requests are then handled on the calling
	 * thread.
	 */
	private ArbiterConnection connectLocal(SocketArbiter mine) throws IOException {
		LocalConnection local = mine.connectLocal(this.timeout, this.listener);
		long id = local.nextId();
		ArbiterState.Client me = this.identity;
		local.call(id, new Protocol.Hello(id, me.id(), this.clientName, me.pid(), me.started(), me.pidNamespace(),
				System.nanoTime())
			.write());
		return local;
	}

	/**
	 * The arbiter went away (or this connection failed). Nothing is lost yet: connect
	 * again at once, electing a successor if needed, and re-assert there, so that the
	 * successor's grace period ends quickly.
	 */
	private void connectionClosed(ArbiterConnection closedConnection) {
		if (this.closed || this.connection != closedConnection) {
			return;
		}
		logger.debug(() -> "The connection to the lock arbiter in " + this.directory + " closed; reconnecting");
		Thread reconnect = this.threads.newThread(() -> {
			try {
				connection();
			}
			catch (RuntimeException ex) {
				if (!this.closed) {
					logger.warn(ex, "Could not reconnect to a lock arbiter in " + this.directory
							+ "; held leases are lost when they run out");
					this.session.disconnected();
				}
			}
			finally {
				this.reconnecting.remove(Thread.currentThread());
			}
		});
		this.reconnecting.add(reconnect);
		reconnect.start();
	}

	LockBackendException failure(String action, Exception ex) {
		return failure(action, null, ex);
	}

	LockBackendException failure(String action, @Nullable String key, Exception ex) {
		return new LockBackendException("socket", key,
				action + " at the socket backend (" + this.directory + ") failed: " + ex.getMessage(), ex);
	}

	/**
	 * Closes the connection (which frees what the session held on it) and, if this
	 * process runs the arbiter, stops it, so that the others elect a successor; then
	 * waits for a reconnection under way. No connection opens after this.
	 */
	@Override
	public void close() {
		this.closed = true;
		// Under the connecting lock: a reconnection under way finishes first, and none
		// starts after this.
		synchronized (this.connecting) {
			ArbiterConnection current = this.connection;
			if (current != null) {
				current.close();
			}
			SocketArbiter running = this.arbiter;
			if (running != null) {
				running.close();
				this.arbiter = null;
			}
		}
		// A reconnection that started before the close finds the link closed and ends at
		// once.
		for (Thread reconnect : this.reconnecting) {
			if (reconnect != Thread.currentThread()) {
				try {
					reconnect.join(TimeUnit.SECONDS.toMillis(1));
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return;
				}
			}
		}
	}

	/**
	 * What uses the link: it is told of pushes, and re-asserts at each new arbiter.
	 */
	interface Session {

		/**
		 * The arbiter granted a queued request.
		 * @param from the connection the grant came on
		 * @param grant the grant
		 */
		void granted(ArbiterConnection from, Protocol.PushedGrant grant);

		/**
		 * A watched key was released.
		 * @param key the key
		 */
		void released(String key);

		/**
		 * Tells a new connection's arbiter what this process holds and waits for, before
		 * the connection is used for anything else.
		 * @param connection the new connection
		 * @throws IOException when the arbiter did not take it
		 */
		void reassert(ArbiterConnection connection) throws IOException;

		/**
		 * A new connection is in place: its arbiter's table may differ from the last.
		 */
		void connected();

		/**
		 * The leases held can no longer be trusted, and are dropped now.
		 * @param why what happened, for the log
		 */
		void giveUp(String why);

		/**
		 * No arbiter could be reached after the last one went away: held leases are lost
		 * when they run out.
		 */
		void disconnected();

	}

}
