/*
 * Copyright 2026-present the original author or authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *      https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

package dev.latchkey.jdbc;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DelegatingDataSource;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * How the JDBC backend fails: a database that goes away after the start, a table that is
 * missing, a table name that is not an identifier. Each is a specific exception with a
 * message that says what happened.
 */
class JdbcLockRepositoryFailureTests {

	private static final String TABLE = JdbcTestSupport.newTableName();

	private static HikariDataSource postgres;

	private static HikariDataSource unreachable;

	@BeforeAll
	static void createTable() {
		postgres = JdbcTestSupport.dataSource(TestServers.postgresUrl(), 4);
		JdbcTestSupport.createTable(postgres, "schema-postgresql.sql", TABLE);
		// Nothing listens on port 1: connections are refused, as by a database that is
		// down.
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1");
		config.setConnectionTimeout(1000);
		config.setInitializationFailTimeout(-1);
		unreachable = new HikariDataSource(config);
	}

	@AfterAll
	static void dropTable() {
		if (postgres != null) {
			JdbcTestSupport.dropTable(postgres, TABLE, true);
			postgres.close();
		}
		if (unreachable != null) {
			unreachable.close();
		}
	}

	@Test
	void databaseThatGoesDownAfterTheStartFailsEachCallWithALockBackendException() {
		DelegatingDataSource dataSource = new DelegatingDataSource(postgres);
		JdbcLockRepository repository = new JdbcLockRepository(dataSource, TABLE);
		repository.checkSchema(512);
		LeaseSpec held = LeaseSpec.exclusive("down:held", "test", "token-held", Duration.ofSeconds(30));
		assertThat(repository.tryAcquire(held)).isPresent();

		dataSource.setTargetDataSource(unreachable);
		LeaseSpec other = LeaseSpec.exclusive("down:other", "test", "token-other", Duration.ofSeconds(30));
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.tryAcquire(other))
			.withMessageStartingWith("Could not acquire the lock in table " + TABLE
					+ ": no database connection (is the database up, and is the connection pool large enough?)")
			.satisfies((ex) -> {
				assertThat(ex.getBackend()).isEqualTo("jdbc");
				// The key may be personal data: it stays out of the message.
				assertThat(ex.getKey()).isEqualTo("down:other");
				assertThat(ex.getMessage()).doesNotContain("down:other");
			});
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.renew(List.of(held)))
			.withMessageStartingWith("Could not renew the lock in table")
			.satisfies((ex) -> assertThat(ex.getKey()).isEqualTo("down:held"));
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.release(held))
			.withMessageStartingWith("Could not release the lock in table")
			.satisfies((ex) -> assertThat(ex.getKey()).isEqualTo("down:held"));
		try (LockTemplate locks = new LockTemplate(repository, LockSettings.defaults(), null)) {
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> locks.exclusive("down:template").named("template").run(() -> {
				}))
				.withMessageStartingWith("Lock 'template': Could not acquire the lock in table")
				.withMessageContaining("no database connection")
				.satisfies((ex) -> assertThat(ex.getKey()).isEqualTo("down:template"));
		}

		dataSource.setTargetDataSource(postgres);
		assertThat(repository.release(held)).isTrue();
	}

	@Test
	void missingTableIsAConfigurationErrorThatNamesTheScript() {
		JdbcLockRepository repository = new JdbcLockRepository(postgres, "NO_SUCH_TABLE");
		assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> repository.checkSchema(512))
			.withMessageStartingWith("The lock table NO_SUCH_TABLE does not exist")
			.satisfies(
					(ex) -> assertThat(ex.getAction()).contains("classpath:dev/latchkey/jdbc/schema-postgresql.sql"));
	}

	@Test
	void tableOfAnEarlierVersionWithoutTheDescriptionOrRecordColumnFailsTheCheckWithTheStatementThatAddsIt() {
		String table = JdbcTestSupport.newTableName();
		JdbcTemplate jdbc = new JdbcTemplate(postgres);
		// The table as the scripts made it before holders had descriptions.
		jdbc.execute("CREATE TABLE " + table + " (LOCK_KEY VARCHAR(512) NOT NULL, SLOT VARCHAR(64) NOT NULL,"
				+ " TOKEN VARCHAR(64), OWNER VARCHAR(255), FENCING BIGINT NOT NULL, PERMITS INT NOT NULL,"
				+ " EXPIRES_AT TIMESTAMP(3) WITH TIME ZONE NOT NULL, PRIMARY KEY (LOCK_KEY, SLOT))");
		jdbc.execute("CREATE SEQUENCE " + table + "_FENCING");
		try {
			JdbcLockRepository repository = new JdbcLockRepository(postgres, table);
			String alter = "ALTER TABLE " + table + " ADD COLUMN DESCRIPTION VARCHAR(200)";
			assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> repository.checkSchema(512))
				.withMessageStartingWith("The lock table " + table + " lacks the DESCRIPTION column")
				.satisfies((ex) -> assertThat(ex.getAction()).startsWith("Add the column: " + alter + " "));
			jdbc.execute(alter);
			String addRecord = "ALTER TABLE " + table + " ADD COLUMN RECORD VARCHAR(64)";
			assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> repository.checkSchema(512))
				.withMessageStartingWith("The lock table " + table + " lacks the RECORD column")
				.satisfies((ex) -> assertThat(ex.getAction()).startsWith("Add the column: " + addRecord + " "));
			jdbc.execute(addRecord);
			repository.checkSchema(512);
			LeaseSpec lease = LeaseSpec.exclusive("old-table", "test", "token-old", Duration.ofSeconds(30))
				.withDescription("after the upgrade");
			assertThat(repository.tryAcquire(lease)).isPresent();
			assertThat(repository.inspect("old-table"))
				.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement()
					.satisfies((holder) -> assertThat(holder.description()).isEqualTo("after the upgrade")));
		}
		finally {
			JdbcTestSupport.dropTable(postgres, table, true);
		}
	}

	@Test
	void mariaDbTableOfAnEarlierVersionFailsTheCheckUntilItHasTheRecordColumnAndTheOwnersTable() {
		String table = JdbcTestSupport.newTableName();
		try (HikariDataSource mariadb = JdbcTestSupport.dataSource(TestServers.mariadbUrl(), 2)) {
			JdbcTemplate jdbc = new JdbcTemplate(mariadb);
			// The table as the MySQL script made it before owner records.
			jdbc.execute("CREATE TABLE " + table + " (LOCK_KEY VARCHAR(512) NOT NULL, SLOT VARCHAR(64) NOT NULL,"
					+ " TOKEN VARCHAR(64), OWNER VARCHAR(255), FENCING BIGINT NOT NULL, PERMITS INT NOT NULL,"
					+ " EXPIRES_AT DATETIME(3) NOT NULL, DESCRIPTION VARCHAR(200), PRIMARY KEY (LOCK_KEY, SLOT))"
					+ " ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin");
			try {
				JdbcLockRepository repository = new JdbcLockRepository(mariadb, table);
				String addRecord = "ALTER TABLE " + table + " ADD COLUMN RECORD VARCHAR(64)";
				assertThatExceptionOfType(LockConfigurationException.class)
					.isThrownBy(() -> repository.checkSchema(512))
					.withMessageStartingWith("The lock table " + table + " lacks the RECORD column")
					.satisfies((ex) -> assertThat(ex.getAction()).startsWith("Add the column: " + addRecord + " "));
				jdbc.execute(addRecord);
				assertThatExceptionOfType(LockConfigurationException.class)
					.isThrownBy(() -> repository.checkSchema(512))
					.withMessageStartingWith(
							"The table " + table + "_OWNERS of the lock table's owner records does" + " not exist")
					.satisfies((ex) -> assertThat(ex.getAction())
						.startsWith("Create it with the second statement of the script"
								+ " classpath:dev/latchkey/jdbc/schema-mysql.sql"));
				JdbcTestSupport.createTable(mariadb, "schema-mysql.sql", table);
				repository.checkSchema(512);
				LeaseSpec lease = LeaseSpec.exclusive("old-table", "test", "token-old", Duration.ofSeconds(30));
				assertThat(repository.tryAcquire(lease)).isPresent();
				assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM " + table + "_OWNERS WHERE TOKEN = ''",
						Integer.class))
					.as("owner records")
					.isOne();
				assertThat(repository.release(lease)).isTrue();
			}
			finally {
				JdbcTestSupport.dropTable(mariadb, table, false);
			}
		}
	}

	@Test
	void ownerRecordsOnAMariaDbServerWhoseSysdateIsNowFailTheAcquisitionWithTheProperty() {
		try (DatabaseServerProcess server = DatabaseServerProcess.mariadb("--sysdate-is-now");
				HikariDataSource mariadb = JdbcTestSupport.dataSource(server.url(), 2)) {
			String table = JdbcTestSupport.newTableName();
			JdbcTestSupport.createTable(mariadb, "schema-mysql.sql", table);
			LeaseSpec lease = LeaseSpec.exclusive("sysdate", "test", "token-sysdate", Duration.ofSeconds(30));
			try (JdbcLockRepository repository = new JdbcLockRepository(mariadb, table)) {
				// A renewal there would judge its record by when it was sent.
				assertThatExceptionOfType(LockConfigurationException.class)
					.isThrownBy(() -> repository.tryAcquire(lease))
					.withMessageContaining("--sysdate-is-now")
					.satisfies((ex) -> assertThat(ex.getAction()).contains("latchkey.jdbc.owner-records=false"));
			}
			try (JdbcLockRepository repository = new JdbcLockRepository(mariadb, table)) {
				repository.setOwnerRecords(false);
				assertThat(repository.tryAcquire(lease)).isPresent();
				assertThat(repository.renew(List.of(lease))).isEmpty();
				assertThat(repository.release(lease)).isTrue();
			}
		}
	}

	@Test
	void tableNamesThatAreNotIdentifiersAreRefused() {
		for (String name : List.of("", "LOCKS;DROP TABLE X", "1LOCKS", "a.b.c", "LOCKS-2", "\"LOCKS\"",
				"A_TABLE_NAME_FAR_TOO_LONG_FOR_A_SEQUENCE_NAME_TO_BE_DERIVED_FROM_IT")) {
			assertThatIllegalArgumentException().as(name).isThrownBy(() -> new JdbcLockRepository(postgres, name));
		}
		assertThat(new JdbcLockRepository(postgres, "locks.LATCHKEY_LOCKS").getTableName())
			.isEqualTo("locks.LATCHKEY_LOCKS");
	}

}
