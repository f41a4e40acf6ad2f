package dev.latchkey.jdbc;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.test.LockRepositoryContractTests;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JDBC backend passes the backend contract on the database of {@value TestServers#POSTGRES_URL}, in a lock table
 * of its own made with {@code schema-postgresql.sql}.
 */
class PostgresLockRepositoryTests extends LockRepositoryContractTests {

	private static final String TABLE = JdbcTestSupport.newTableName();

	private static HikariDataSource dataSource;

	@BeforeAll
	static void createTable() {
		dataSource = JdbcTestSupport.dataSource(TestServers.postgresUrl(), 20);
		JdbcTestSupport.createTable(dataSource, "schema-postgresql.sql", TABLE);
	}

	@AfterAll
	static void dropTable() {
		if (dataSource != null) {
			JdbcTestSupport.dropTable(dataSource, TABLE, true);
			dataSource.close();
		}
	}

	@Test
	void releaseByAnotherInstanceIsAnnouncedByNotify() throws InterruptedException {
		// Two repositories stand for two application instances: only PostgreSQL's NOTIFY can tell one of the other.
		try (JdbcLockRepository waiting = new JdbcLockRepository(dataSource, TABLE);
				JdbcLockRepository holding = new JdbcLockRepository(dataSource, TABLE)) {
			String key = key("notify-across-instances");
			CountDownLatch released = new CountDownLatch(1);
			try (ReleaseSubscription subscription = waiting.subscribe(key, released::countDown)) {
				LeaseSpec lease = LeaseSpec.exclusive(key, "elsewhere", "token-" + System.nanoTime(),
						Duration.ofSeconds(30));
				assertThat(holding.tryAcquire(lease)).isPresent();
				assertThat(released.getCount()).isOne();
				assertThat(holding.release(lease)).isTrue();
				assertThat(released.await(5, TimeUnit.SECONDS)).isTrue();
			}
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
