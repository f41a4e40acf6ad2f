package dev.latchkey.jdbc;

import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;

/**
 * The JDBC backend passes the backend contract on an in-memory H2 database, with the table of {@code schema-h2.sql}.
 */
class H2LockRepositoryTests extends LockRepositoryContractTests {

	private static HikariDataSource dataSource;

	@BeforeAll
	static void createTable() {
		dataSource = JdbcTestSupport.dataSource("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", 20);
		JdbcTestSupport.createTable(dataSource, "schema-h2.sql", JdbcLockRepository.DEFAULT_TABLE_NAME);
	}

	@AfterAll
	static void closeDatabase() {
		if (dataSource != null) {
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
		JdbcLockRepository repository = new JdbcLockRepository(dataSource);
		repository.checkSchema(512);
		return repository;
	}

	@Override
	protected void destroyRepository(LockRepository repository) {
		((JdbcLockRepository) repository).close();
	}

}
