package dev.latchkey.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;
import dev.latchkey.test.TestServers;

/**
 * The JDBC backend passes the backend contract on PostgreSQL with the opt-in fast mode: a lock table of its own made
 * with {@code schema-postgresql-unlogged.sql}.
 */
class PostgresUnloggedLockRepositoryTests extends LockRepositoryContractTests {

	private static final String TABLE = JdbcTestSupport.newTableName();

	private static HikariDataSource dataSource;

	@BeforeAll
	static void createTable() {
		dataSource = JdbcTestSupport.dataSource(TestServers.postgresUrl(), 20);
		JdbcTestSupport.createTable(dataSource, "schema-postgresql-unlogged.sql", TABLE);
	}

	@AfterAll
	static void dropTable() {
		if (dataSource != null) {
			JdbcTestSupport.dropTable(dataSource, TABLE, true);
			dataSource.close();
		}
	}

	@Override
	protected LockRepository createRepository() {
		JdbcLockRepository repository = new JdbcLockRepository(dataSource, TABLE);
		repository.checkSchema(512);
		return repository;
	}

	@Override
	protected LockRepository createPeerRepository() {
		// Another application instance: a repository of its own on the same table.
		return createRepository();
	}

	@Override
	protected void destroyRepository(LockRepository repository) {
		((JdbcLockRepository) repository).close();
	}

}
