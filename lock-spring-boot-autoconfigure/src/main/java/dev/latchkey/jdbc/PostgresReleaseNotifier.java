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

package dev.latchkey.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.support.ReleaseListeners;

/**
 * Listens to the release channel of a PostgreSQL lock table on one connection of the
 * application's {@link DataSource}, held for as long as the repository lives, and hands
 * each released key to the waiters of this process: a key announced to every instance, or
 * one addressed to this instance ({@link PostgresLockDialect#wakePayload}), and not one
 * addressed to another. Started by the first waiter; after a failure it reconnects, and
 * waiters fall back on polling meanwhile. Its one thread comes from the repository's
 * thread factory and ends when the notifier is closed.
 */
final class PostgresReleaseNotifier implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(PostgresReleaseNotifier.class);

	private static final int POLL_MILLIS = 500;

	private static final long RECONNECT_MILLIS = 1000;

	private final DataSource dataSource;

	private final String channel;

	// How a notification addressed to this instance starts.
	private final String address;

	private final ReleaseListeners listeners;

	private final ThreadFactory threadFactory;

	private final CountDownLatch listening = new CountDownLatch(1);

	private final CountDownLatch closing = new CountDownLatch(1);

	private @Nullable Thread thread;

	private volatile boolean closed;

	PostgresReleaseNotifier(DataSource dataSource, String channel, String instance, ReleaseListeners listeners,
			ThreadFactory threadFactory) {
		this.dataSource = dataSource;
		this.channel = channel;
		this.address = PostgresLockDialect.wakePayload(instance, "");
		this.listeners = listeners;
		this.threadFactory = threadFactory;
	}

	/**
	 * Starts listening, once, and the first time waits briefly for the {@code LISTEN} to
	 * take effect, so that the first waiter does not miss a release announced meanwhile
	 * (a waiter also polls, so a miss only delays it).
	 */
	void start() {
		synchronized (this) {
			if (this.thread != null || this.closed) {
				// Started before: waiters are not held up again, even while the listener
				// reconnects.
				return;
			}
			Thread listener = this.threadFactory.newThread(this::listen);
			listener.start();
			this.thread = listener;
		}
		try {
			this.listening.await(2, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void listen() {
		boolean failing = false;
		while (!this.closed) {
			try (Connection connection = this.dataSource.getConnection()) {
				try (Statement statement = connection.createStatement()) {
					statement.execute("LISTEN " + this.channel);
				}
				if (!connection.getAutoCommit()) {
					connection.commit();
				}
				PGConnection notifications = connection.unwrap(PGConnection.class);
				this.listening.countDown();
				if (failing) {
					logger.info(() -> "Listening to lock releases on channel " + this.channel + " again");
					failing = false;
				}
				while (!this.closed) {
					PGNotification[] received = notifications.getNotifications(POLL_MILLIS);
					if (received != null) {
						for (PGNotification notification : received) {
							released(notification.getParameter());
						}
					}
				}
				try (Statement statement = connection.createStatement()) {
					statement.execute("UNLISTEN " + this.channel);
				}
			}
			catch (SQLException | RuntimeException ex) {
				if (this.closed) {
					return;
				}
				// Once per outage: the retries of a database that stays down would flood
				// the log.
				if (!failing) {
					logger.warn(ex, () -> "Lost the connection that listens to lock releases on channel " + this.channel
							+ "; waiters poll until it is back");
					failing = true;
				}
				else {
					logger.debug(ex, () -> "Still no connection to listen to lock releases on channel " + this.channel);
				}
				awaitReconnect();
			}
		}
	}

	private void released(String payload) {
		if (payload.startsWith(this.address)) {
			this.listeners.released(payload.substring(this.address.length()));
		}
		else if (payload.isEmpty() || payload.charAt(0) != PostgresLockDialect.ADDRESSED) {
			this.listeners.released(payload);
		}
		// Otherwise addressed to another instance, which the release woke instead.
	}

	private void awaitReconnect() {
		try {
			this.closing.await(RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/**
	 * Stops listening and waits for the listening thread to end: it notices within one
	 * poll, or, should it be stuck waiting for a connection, when it is interrupted.
	 */
	@Override
	public void close() {
		Thread listener;
		synchronized (this) {
			this.closed = true;
			listener = this.thread;
		}
		this.closing.countDown();
		if (listener == null) {
			return;
		}
		try {
			listener.join(POLL_MILLIS * 2L);
			if (listener.isAlive()) {
				listener.interrupt();
				listener.join(POLL_MILLIS * 2L);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		if (listener.isAlive()) {
			logger.warn(() -> "The thread that listens to lock releases on channel " + this.channel + " did not stop");
		}
	}

}
