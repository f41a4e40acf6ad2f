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

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

import com.zaxxer.hikari.HikariDataSource;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;

import dev.latchkey.LockRepository;
import dev.latchkey.test.FaultMatrix;

/**
 * The {@link FaultMatrix} on a JDBC database: a lock table of each test's own in a
 * database server of the test class's own ({@link DatabaseServerProcess}), which the
 * matrix may pause and restart, never the shared one.
 */
abstract class JdbcFaultMatrix extends FaultMatrix {

	private static @Nullable DatabaseServerProcess server;

	private final String script;

	private final boolean sequence;

	private String table;

	private HikariDataSource dataSource;

	private JdbcLockRepository repository;

	JdbcFaultMatrix(String script, boolean sequence) {
		this.script = script;
		this.sequence = sequence;
	}

	/**
	 * Starts the test class's database server.
	 * @return the running server
	 */
	abstract DatabaseServerProcess startServer();

	@AfterAll
	static void stopServer() {
		if (server != null) {
			server.close();
			server = null;
		}
	}

	private String url() {
		if (server == null) {
			server = startServer();
		}
		return server.url();
	}

	@Override
	protected void startBackend(Path temporary) {
		this.table = JdbcTestSupport.newTableName();
		this.dataSource = JdbcTestSupport.dataSource(url(), 8);
		JdbcTestSupport.createTable(this.dataSource, this.script, this.table);
		this.repository = new JdbcLockRepository(this.dataSource, this.table);
	}

	@Override
	protected void stopBackend() {
		if (this.repository != null) {
			this.repository.close();
		}
		if (this.dataSource != null) {
			JdbcTestSupport.dropTable(this.dataSource, this.table, this.sequence);
			this.dataSource.close();
		}
	}

	@Override
	protected String childBackend() {
		return "jdbc|" + url() + "|" + this.table;
	}

	@Override
	protected InetSocketAddress serverAddress() {
		URI server = URI.create(url().substring("jdbc:".length()));
		return new InetSocketAddress(server.getHost(), server.getPort());
	}

	@Override
	protected String childBackendThrough(int port) {
		URI server = URI.create(url().substring("jdbc:".length()));
		return "jdbc|" + url().replaceFirst(":" + server.getPort() + "/", ":" + port + "/") + "|" + this.table;
	}

	@Override
	protected LockRepository repository() {
		return this.repository;
	}

	@Override
	protected boolean freesKeyOfCrashedHolderAtOnce() {
		return false;
	}

	@Override
	protected Duration crashRecoveryBound() {
		// The lease's TTL on the database's clock; a waiter finds the expiry by polling,
		// with a backoff of up to 1 s.
		return TTL.plusSeconds(3);
	}

	@Override
	protected Server server() {
		DatabaseServerProcess database = server;
		return Server.of(database::pids, database::restart);
	}

	@Override
	protected int leakCycles() {
		// Every acquisition and release is a commit: 100,000 cycles would take minutes.
		return 5_000;
	}

}
