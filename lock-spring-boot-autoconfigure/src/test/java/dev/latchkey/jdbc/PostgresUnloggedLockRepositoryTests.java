package dev.latchkey.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JDBC backend passes the backend contract on PostgreSQL with the opt-in fast mode: a lock table of its own made
 * with {@code schema-postgresql-unlogged.sql}.
 */
class PostgresUnloggedLockRepositoryTests extends JdbcLockRepositoryContractTests {

	@RegisterExtension
	static final LockTable table = LockTable.postgresUnlogged(20);

	@Override
	protected LockTable table() {
		return table;
	}

}
