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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.springframework.core.log.LogAccessor;
import org.springframework.test.util.TestSocketUtils;

import dev.latchkey.test.ServerProcesses;

/**
 * A database server of a test's own, on a free loopback port, with its data in a
 * directory of its own: for the tests that pause or kill a server, which they must never
 * do to the shared one. {@link #postgres()} and {@link #mariadb()} run the server
 * binaries of the machine's PostgreSQL and MariaDB packages ({@code scripts/services.sh}
 * installs both); the server keeps its data on disk and syncs every commit, so a
 * {@link #restart()} after a {@code SIGKILL} is a crash the database recovers from.
 *
 * <pre class="code">
 * try (DatabaseServerProcess server = DatabaseServerProcess.postgres()) {
 *     DataSource dataSource = JdbcTestSupport.dataSource(server.url(), 4);
 *     ...
 *     server.restart();
 * }
 * </pre>
 */
abstract class DatabaseServerProcess implements AutoCloseable {

	private static final Duration START = Duration.ofSeconds(60);

	private static final LogAccessor logger = new LogAccessor(DatabaseServerProcess.class);

	final Path directory;

	final int port;

	private final Path log;

	private Process process;

	DatabaseServerProcess(String name) {
		this.port = TestSocketUtils.findAvailableTcpPort();
		try {
			this.directory = Files.createTempDirectory("latchkey-" + name + "-");
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		this.log = this.directory.resolve("server.log");
	}

	/**
	 * Starts a PostgreSQL server of the test's own and waits until it answers.
	 * @return the running server
	 */
	static DatabaseServerProcess postgres() {
		return new Postgres().start();
	}

	/**
	 * Starts a MariaDB server of the test's own, with a database {@code test}, and waits
	 * until it answers.
	 * @return the running server
	 */
	static DatabaseServerProcess mariadb() {
		return new MariaDb(List.of()).start();
	}

	/**
	 * Starts a MariaDB server of the test's own with server options of the test's, with a
	 * database {@code test}, and waits until it answers.
	 * @param options the options, for example {@code --sysdate-is-now}
	 * @return the running server
	 */
	static DatabaseServerProcess mariadb(String... options) {
		return new MariaDb(List.of(options)).start();
	}

	/**
	 * Makes the server's data directory.
	 */
	abstract void initialize() throws IOException, InterruptedException;

	/**
	 * The command that runs the server in the foreground.
	 * @return the command
	 */
	abstract List<String> command();

	/**
	 * The JDBC URL of the test database, user included.
	 * @return the URL
	 */
	abstract String url();

	/**
	 * What to do once the server first answers.
	 */
	void prepare(Connection connection) throws SQLException {
	}

	final DatabaseServerProcess start() {
		try {
			initialize();
			this.process = launch();
			try (Connection connection = connect()) {
				prepare(connection);
			}
			return this;
		}
		catch (IOException ex) {
			close();
			throw new UncheckedIOException(ex);
		}
		catch (SQLException | InterruptedException | RuntimeException ex) {
			close();
			throw new IllegalStateException("Could not start " + getClass().getSimpleName() + ": " + ex, ex);
		}
	}

	private Process launch() {
		Process started = ServerProcesses.start(command(), this.log, command().get(0));
		ServerProcesses.awaitAnswering(started, getClass().getSimpleName() + " on port " + this.port + " answering",
				this.log, START, () -> {
					try (Connection connection = connect()) {
						return true;
					}
					catch (SQLException ex) {
						return false;
					}
				});
		return started;
	}

	private Connection connect() throws SQLException {
		return DriverManager.getConnection(adminUrl());
	}

	/**
	 * A JDBC URL that answers as soon as the server does, before {@link #prepare} made
	 * the test database.
	 * @return the URL
	 */
	String adminUrl() {
		return url();
	}

	/**
	 * The server's processes, to stop all at once: a {@code SIGSTOP} of PostgreSQL's
	 * postmaster alone would leave the backends of open connections answering.
	 * @return the server's pid, then its descendants'
	 */
	List<Long> pids() {
		List<Long> pids = new ArrayList<>();
		pids.add(this.process.pid());
		this.process.descendants().forEach((child) -> pids.add(child.pid()));
		return pids;
	}

	/**
	 * Kills the server and every process it started ({@code SIGKILL}: a crash) and starts
	 * it again on the same port and data, which the database recovers.
	 */
	void restart() {
		long started = System.nanoTime();
		kill();
		this.process = launch();
		logger.info(() -> getClass().getSimpleName() + " killed and answering again after "
				+ Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms");
	}

	private void kill() {
		if (this.process != null) {
			ServerProcesses.kill(this.process);
		}
	}

	@Override
	public void close() {
		kill();
		try (Stream<Path> files = Files.walk(this.directory)) {
			files.sorted(Comparator.reverseOrder()).forEach((path) -> path.toFile().delete());
		}
		catch (IOException ex) {
			// A temporary directory: what is left is harmless.
		}
	}

	static String run(List<String> command, Path log) throws IOException, InterruptedException {
		Process process = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
			.start();
		if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
			process.destroyForcibly();
			throw new IllegalStateException(String.join(" ", command) + " failed: " + Files.readString(log));
		}
		return Files.readString(log);
	}

	/**
	 * PostgreSQL: {@code initdb} and {@code postgres} from the directory that
	 * {@code LATCHKEY_POSTGRES_BIN} names ({@code scripts/services.sh} prints it), else
	 * {@code pg_config --bindir} (Debian keeps them off the {@code PATH}). PostgreSQL
	 * refuses to run as root, so under root both run as the {@code postgres} user that
	 * the package made.
	 */
	private static final class Postgres extends DatabaseServerProcess {

		private static final String BIN = "LATCHKEY_POSTGRES_BIN";

		private final boolean root = "root".equals(System.getProperty("user.name"));

		private String bin;

		Postgres() {
			super("postgres");
		}

		@Override
		void initialize() throws IOException, InterruptedException {
			String configured = System.getenv(BIN);
			this.bin = (configured != null) ? configured
					: run(List.of("pg_config", "--bindir"), this.directory.resolve("pg_config.log")).strip();
			if (this.root) {
				Files.setPosixFilePermissions(this.directory, PosixFilePermissions.fromString("rwxr-xr-x"));
				Files.setOwner(this.directory,
						this.directory.getFileSystem()
							.getUserPrincipalLookupService()
							.lookupPrincipalByName("postgres"));
			}
			run(asServerUser(this.bin + "/initdb", "-D", data(), "-A", "trust", "-U", "postgres", "-E", "UTF8",
					"--no-sync"), this.directory.resolve("initdb.log"));
		}

		@Override
		List<String> command() {
			return asServerUser(this.bin + "/postgres", "-D", data(), "-p", Integer.toString(this.port), "-k",
					this.directory.toString(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c",
					"max_connections=200");
		}

		private String data() {
			return this.directory.resolve("data").toString();
		}

		private List<String> asServerUser(String... command) {
			List<String> line = new ArrayList<>();
			if (this.root) {
				// setpriv executes the command in place: the process started is the
				// server itself.
				line.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
			}
			line.addAll(List.of(command));
			return line;
		}

		@Override
		String url() {
			return "jdbc:postgresql://127.0.0.1:" + this.port + "/postgres?user=postgres";
		}

	}

	/**
	 * MariaDB: {@code mariadb-install-db} and {@code mariadbd}, on the {@code PATH} of
	 * the machine's MariaDB server package. Commits are flushed to disk, as by default.
	 */
	private static final class MariaDb extends DatabaseServerProcess {

		private final List<String> options;

		MariaDb(List<String> options) {
			super("mariadb");
			this.options = options;
		}

		@Override
		void initialize() throws IOException, InterruptedException {
			run(withUser("mariadb-install-db", "--no-defaults", "--datadir=" + data(),
					"--auth-root-authentication-method=normal", "--skip-test-db"),
					this.directory.resolve("install-db.log"));
		}

		@Override
		List<String> command() {
			List<String> command = withUser("mariadbd", "--no-defaults", "--datadir=" + data(), "--port=" + this.port,
					"--bind-address=127.0.0.1", "--socket=" + this.directory.resolve("mariadb.sock"),
					"--pid-file=" + this.directory.resolve("mariadb.pid"), "--innodb-buffer-pool-size=32M",
					"--innodb-flush-log-at-trx-commit=1");
			command.addAll(this.options);
			return command;
		}

		private List<String> withUser(String... command) {
			List<String> line = new ArrayList<>(List.of(command));
			if ("root".equals(System.getProperty("user.name"))) {
				line.add("--user=root");
			}
			return line;
		}

		private String data() {
			return this.directory.resolve("data").toString();
		}

		@Override
		String adminUrl() {
			return "jdbc:mariadb://127.0.0.1:" + this.port + "/?user=root";
		}

		@Override
		void prepare(Connection connection) throws SQLException {
			connection.createStatement().execute("CREATE DATABASE IF NOT EXISTS test");
		}

		@Override
		String url() {
			return "jdbc:mariadb://127.0.0.1:" + this.port + "/test?user=root";
		}

	}

}
