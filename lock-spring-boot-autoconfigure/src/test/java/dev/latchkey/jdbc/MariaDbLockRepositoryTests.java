package dev.latchkey.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.test.TestServers;

/**
 * The JDBC backend passes the backend contract on the database of {@value TestServers#MARIADB_URL}, in a lock table
 * of its own made with {@code schema-mysql.sql}.
 */
class MariaDbLockRepositoryTests extends JdbcLockRepositoryContractTests {

	@RegisterExtension
	static final LockTable table = LockTable.mariadb(20);

	@Override
	protected LockTable table() {
		return table;
	}

}
