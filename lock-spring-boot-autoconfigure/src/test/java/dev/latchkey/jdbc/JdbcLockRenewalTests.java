package dev.latchkey.jdbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.LeaseSpec;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Renewing more leases at once than one statement names (the statements are sliced on MySQL and H2) still renews
 * every held lease and answers exactly the lost ones.
 */
class JdbcLockRenewalTests {

	private static final String TABLE = JdbcTestSupport.newTableName();

	private static HikariDataSource postgres;

	private static HikariDataSource mariadb;

	private static HikariDataSource h2;

	@BeforeAll
	static void createTables() {
		postgres = JdbcTestSupport.dataSource(TestServers.postgresUrl(), 2);
		JdbcTestSupport.createTable(postgres, "schema-postgresql.sql", TABLE);
		mariadb = JdbcTestSupport.dataSource(TestServers.mariadbUrl(), 2);
		JdbcTestSupport.createTable(mariadb, "schema-mysql.sql", TABLE);
		h2 = JdbcTestSupport.dataSource("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", 2);
		JdbcTestSupport.createTable(h2, "schema-h2.sql", TABLE);
	}

	@AfterAll
	static void dropTables() {
		if (postgres != null) {
			JdbcTestSupport.dropTable(postgres, TABLE, true);
			postgres.close();
		}
		if (mariadb != null) {
			JdbcTestSupport.dropTable(mariadb, TABLE, false);
			mariadb.close();
		}
		if (h2 != null) {
			h2.close();
		}
	}

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb", "h2" })
	void renewingMoreLeasesThanOneStatementNamesAnswersExactlyTheLostOnes(String database) {
		HikariDataSource dataSource = switch (database) {
			case "postgres" -> postgres;
			case "mariadb" -> mariadb;
			default -> h2;
		};
		JdbcLockRepository repository = new JdbcLockRepository(dataSource, TABLE);
		int count = JdbcLockDialect.MAX_RENEWAL_BATCH * 2 + 100;
		List<LeaseSpec> leases = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			LeaseSpec lease = (i % 10 == 0)
					? LeaseSpec.shared("renewal:" + database + ":semaphore", count, "owner", "permit-" + i,
							Duration.ofSeconds(30))
					: LeaseSpec.exclusive("renewal:" + database + ":" + i, "owner", "token-" + i, Duration.ofSeconds(30));
			assertThat((lease.limit() > 1) ? repository.tryAcquirePermit(lease) : repository.tryAcquire(lease))
				.isPresent();
			leases.add(lease);
		}
		// One lease lost in each slice: released behind the holder's back.
		List<String> lost = List.of(leases.get(3).token(), leases.get(JdbcLockDialect.MAX_RENEWAL_BATCH + 7).token(),
				leases.get(count - 1).token(), leases.get(20).token());
		for (LeaseSpec lease : leases) {
			if (lost.contains(lease.token())) {
				assertThat(repository.release(lease)).isTrue();
			}
		}
		assertThat(repository.renew(leases)).containsExactlyInAnyOrderElementsOf(lost);
		for (LeaseSpec lease : leases) {
			if (!lost.contains(lease.token())) {
				repository.release(lease);
			}
		}
	}

}
