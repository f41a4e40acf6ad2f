package dev.latchkey.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;
import dev.latchkey.test.TestServers;

/**
 * The JDBC backend passes the backend contract on the database of {@value TestServers#MARIADB_URL}, in a lock table
 * of its own made with {@code schema-mysql.sql}.
 */
class MariaDbLockRepositoryTests extends LockRepositoryContractTests {

	private static final String TABLE = JdbcTestSupport.newTableName();

	private static HikariDataSource dataSource;

	@BeforeAll
	static void createTable() {
		dataSource = JdbcTestSupport.dataSource(TestServers.mariadbUrl(), 20);
		JdbcTestSupport.createTable(dataSource, "schema-mysql.sql", TABLE);
	}

	@AfterAll
	static void dropTable() {
		if (dataSource != null) {
			JdbcTestSupport.dropTable(dataSource, TABLE, false);
			dataSource.close();
		}
	}

	@Override
	protected LockRepository createPeerRepository() {
		// Another application instance: a repository of its own on the same store.
		return createRepository();
	}

	@Override
	protected LockRepository createRepository() {
		JdbcLockRepository repository = new JdbcLockRepository(dataSource, TABLE);
		repository.checkSchema(512);
		return repository;
	}

	@Override
	protected void destroyRepository(LockRepository repository) {
		((JdbcLockRepository) repository).close();
	}

}
