package dev.latchkey.jdbc;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.LeaseSpec;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JDBC backend passes the backend contract on the database of {@value TestServers#POSTGRES_URL}, in a lock table
 * of its own made with {@code schema-postgresql.sql}.
 */
class PostgresLockRepositoryTests extends JdbcLockRepositoryContractTests {

	@RegisterExtension
	static final LockTable table = LockTable.postgres(20);

	@Override
	protected LockTable table() {
		return table;
	}

	@Test
	void releaseByAnotherInstanceIsAnnouncedByNotify() throws InterruptedException {
		// Two repositories stand for two application instances: only PostgreSQL's NOTIFY can tell one of the other.
		try (JdbcLockRepository waiting = new JdbcLockRepository(table.dataSource(), table.name());
				JdbcLockRepository holding = new JdbcLockRepository(table.dataSource(), table.name())) {
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
	protected int crossInstanceGrants() {
		// Every grant and release on a logged table waits for a write-ahead-log flush: about 7 ms a pair here, so
		// 4,000 grants keep the test near half a minute (the unlogged table's test makes the full 10,000).
		return 4_000;
	}

}
