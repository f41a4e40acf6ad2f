package dev.latchkey.jdbc;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.LockRepository;
import dev.latchkey.test.FaultMatrix;

/**
 * The {@link FaultMatrix} on a JDBC database: a lock table of the test's own in the shared database, which the matrix
 * never pauses or restarts (other tests and other users share it), so the server faults are not run here.
 */
abstract class JdbcFaultMatrix extends FaultMatrix {

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
	 * The JDBC URL of the database, user included.
	 * @return the URL
	 */
	abstract String url();

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
		// The lease's TTL on the database's clock; a waiter finds the expiry by polling, with a backoff of up to 1 s.
		return TTL.plusSeconds(3);
	}

	@Override
	protected int leakCycles() {
		// Every acquisition and release is a commit: 100,000 cycles would take minutes.
		return 5_000;
	}

}
