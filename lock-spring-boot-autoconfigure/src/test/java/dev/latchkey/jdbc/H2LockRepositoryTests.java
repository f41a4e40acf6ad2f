package dev.latchkey.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JDBC backend passes the backend contract on an in-memory H2 database, with the table of {@code schema-h2.sql}.
 */
class H2LockRepositoryTests extends JdbcLockRepositoryContractTests {

	@RegisterExtension
	static final LockTable table = LockTable.h2(20).named(JdbcLockRepository.DEFAULT_TABLE_NAME);

	@Override
	protected LockTable table() {
		return table;
	}

}
