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

package dev.latchkey.autoconfigure;

import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.latchkey.LockContext;
import dev.latchkey.LockTemplate;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.socket.SocketLockRepository;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the choice and configuration of the JDBC backend by
 * {@link LatchkeyAutoConfiguration}.
 */
class JdbcBackendAutoConfigurationTests {

	@TempDir
	Path temporary;

	private ApplicationContextRunner contextRunner() {
		return new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(LatchkeyAutoConfiguration.class, DataSourceAutoConfiguration.class))
			.withPropertyValues("latchkey.socket.directory=" + this.temporary.resolve("locks"));
	}

	private static String h2Url() {
		return "spring.datasource.url=jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
	}

	@Test
	void autoChoosesJdbcWithADataSourceAndCreatesTheTableOfAnEmbeddedDatabase() {
		contextRunner().withPropertyValues(h2Url()).run((context) -> {
			assertThat(context).hasSingleBean(JdbcLockRepository.class).doesNotHaveBean(SocketLockRepository.class);
			assertThat(context).hasSingleBean(LatchkeyJdbcSchemaInitializer.class);
			LockTemplate locks = context.getBean(LockTemplate.class);
			assertThat(locks.repository()).isInstanceOf(JdbcLockRepository.class);
			long fencingToken = locks.exclusive("jdbc-auto")
				.call(() -> locks.repository().inspect("jdbc-auto").orElseThrow().holders().get(0).fencingToken());
			assertThat(fencingToken).isPositive();
			assertThat(new JdbcTemplate(context.getBean(DataSource.class))
				.queryForObject("SELECT COUNT(*) FROM LATCHKEY_LOCKS WHERE TOKEN IS NOT NULL", Integer.class)).isZero();
		});
	}

	@Test
	void lockedConfigurationClassStartsOnTheTableTheSchemaInitializerMakes() {
		// The locked methods are parsed as the bean is made, which makes the template and
		// so the repository, whose table check must come after the schema initializer.
		contextRunner().withPropertyValues(h2Url()).withUserConfiguration(LockedConfiguration.class).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(LockedConfiguration.class).nightlyReport()).isPositive();
			assertThat(new JdbcTemplate(context.getBean(DataSource.class))
				.queryForObject("SELECT COUNT(*) FROM LATCHKEY_LOCKS WHERE TOKEN IS NOT NULL", Integer.class)).isZero();
		});
	}

	@Test
	void tableNameCanBeConfiguredAndTheSchemaScriptFollowsIt() {
		contextRunner().withPropertyValues(h2Url(), "latchkey.jdbc.table-name=APP_LOCKS").run((context) -> {
			JdbcLockRepository repository = context.getBean(JdbcLockRepository.class);
			assertThat(repository.getTableName()).isEqualTo("APP_LOCKS");
			LockTemplate locks = context.getBean(LockTemplate.class);
			locks.exclusive("renamed")
				.run(() -> assertThat(new JdbcTemplate(context.getBean(DataSource.class))
					.queryForObject("SELECT COUNT(*) FROM APP_LOCKS WHERE TOKEN IS NOT NULL", Integer.class)).isOne());
		});
	}

	@Test
	void invalidTableNameFailsTheStartNamingTheProperty() {
		contextRunner().withPropertyValues(h2Url(), "latchkey.jdbc.table-name=LOCKS; DROP TABLE X").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageContaining("'LOCKS; DROP TABLE X' is not a valid lock table name");
			assertThat(context.getStartupFailure())
				.hasStackTraceContaining("Failed to bind properties under 'latchkey.jdbc'")
				.hasStackTraceContaining("Unable to set value for property table-name");
		});
	}

	@Test
	void missingTableFailsTheStartWithTheScriptToRun() {
		contextRunner().withPropertyValues(h2Url(), "latchkey.jdbc.initialize-schema=never").run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
			assertThat(analysis.getDescription()).startsWith("The lock table LATCHKEY_LOCKS does not exist");
			assertThat(analysis.getAction()).contains("classpath:dev/latchkey/jdbc/schema-h2.sql",
					"latchkey.jdbc.initialize-schema=always", "latchkey.jdbc.table-name");
		});
	}

	@Test
	void missingTableOnPostgresNamesThePostgresScript() {
		contextRunner()
			.withPropertyValues("spring.datasource.url=" + TestServers.postgresUrl(),
					"latchkey.jdbc.table-name=NO_SUCH_LOCKS_TABLE")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).startsWith("The lock table NO_SUCH_LOCKS_TABLE does not exist");
				assertThat(analysis.getAction()).contains("classpath:dev/latchkey/jdbc/schema-postgresql.sql");
			});
	}

	@Test
	void initializeSchemaAlwaysCreatesTheTableInPostgres() {
		assertInitializeSchemaAlwaysCreatesTheTable(TestServers.postgresUrl(), "postgres-auto", true);
	}

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb" })
	void exclusiveLeasesNameAnOwnerRecordUnlessThePropertyTurnsThemOff(String database) {
		String url = "postgres".equals(database) ? TestServers.postgresUrl() : TestServers.mariadbUrl();
		for (boolean ownerRecords : new boolean[] { true, false }) {
			String table = "LK_AUTO_"
					+ UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase(Locale.ROOT);
			contextRunner()
				.withPropertyValues("spring.datasource.url=" + url, "latchkey.jdbc.initialize-schema=always",
						"latchkey.jdbc.table-name=" + table, "latchkey.jdbc.owner-records=" + ownerRecords)
				.run((context) -> {
					JdbcTemplate jdbc = new JdbcTemplate(context.getBean(DataSource.class));
					try {
						context.getBean(LockTemplate.class)
							.exclusive("owner-records")
							.run(() -> assertThat(jdbc.queryForObject(
									"SELECT COUNT(*) FROM " + table + " WHERE TOKEN IS NOT NULL AND RECORD IS NOT NULL",
									Integer.class))
								.as("leases naming a record with latchkey.jdbc.owner-records=%s", ownerRecords)
								.isEqualTo(ownerRecords ? 1 : 0));
					}
					finally {
						dropTables(jdbc, table, "postgres".equals(database));
					}
				});
		}
	}

	@Test
	void initializeSchemaAlwaysCreatesTheTableInMariaDbWithTheMySqlScript() {
		assertInitializeSchemaAlwaysCreatesTheTable(TestServers.mariadbUrl(), "mariadb-auto", false);
	}

	private static void dropTables(JdbcTemplate jdbc, String table, boolean withSequence) {
		jdbc.execute("DROP TABLE IF EXISTS " + table);
		if (withSequence) {
			jdbc.execute("DROP SEQUENCE IF EXISTS " + table + "_FENCING");
		}
		else {
			// MySQL's and MariaDB's owner records.
			jdbc.execute("DROP TABLE IF EXISTS " + table + "_OWNERS");
		}
	}

	private void assertInitializeSchemaAlwaysCreatesTheTable(String url, String key, boolean withSequence) {
		String table = "LK_AUTO_"
				+ UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase(Locale.ROOT);
		contextRunner()
			.withPropertyValues("spring.datasource.url=" + url, "latchkey.jdbc.initialize-schema=always",
					"latchkey.jdbc.table-name=" + table)
			.run((context) -> {
				JdbcTemplate jdbc = new JdbcTemplate(context.getBean(DataSource.class));
				try {
					LockTemplate locks = context.getBean(LockTemplate.class);
					locks.exclusive(key)
						.run(() -> assertThat(jdbc.queryForObject(
								"SELECT COUNT(*) FROM " + table + " WHERE TOKEN IS NOT NULL", Integer.class))
							.isOne());
				}
				finally {
					dropTables(jdbc, table, withSequence);
				}
			});
	}

	@Test
	void unreachableDatabaseAtStartupFailsTheStartWithWhatToCheck() {
		contextRunner()
			.withPropertyValues(
					"spring.datasource.url=jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=2",
					"spring.datasource.hikari.connection-timeout=1000")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription())
					.startsWith("latchkey.backend is jdbc, but the database could not be reached")
					.doesNotContain("Failed to determine DatabaseDriver")
					.contains("127.0.0.1:1");
				assertThat(analysis.getAction()).contains("spring.datasource.");
			});
	}

	@Test
	void unknownRoleAtStartupFailsTheStartWithTheDatabasesAnswer() {
		String url = TestServers.postgresUrl().replaceAll("user=[^&]*", "user=latchkey_no_such_role");
		contextRunner()
			.withPropertyValues("spring.datasource.url=" + url, "spring.datasource.hikari.connection-timeout=1000")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription())
					.startsWith("latchkey.backend is jdbc, but the database could not be reached")
					.doesNotContain("Failed to determine DatabaseDriver")
					.contains("latchkey_no_such_role");
			});
	}

	@Test
	void keyColumnShorterThanTheMaximumKeyLengthFailsTheStart() {
		contextRunner().withPropertyValues(h2Url(), "latchkey.max-key-length=2000").run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
			assertThat(analysis.getDescription()).isEqualTo(
					"The lock table's LOCK_KEY column holds 512 characters, but latchkey.max-key-length allows keys of 2000");
			assertThat(analysis.getAction()).contains("latchkey.max-key-length");
		});
	}

	@Test
	void jdbcBackendWithoutADataSourceFailsTheStartWithWhatToConfigure() {
		contextRunner()
			.withClassLoader(new FilteredClassLoader(com.zaxxer.hikari.HikariDataSource.class, org.h2.Driver.class))
			.withPropertyValues("latchkey.backend=jdbc")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription())
					.isEqualTo("latchkey.backend is jdbc, but the application has no DataSource bean");
				assertThat(analysis.getAction()).contains("spring.datasource.");
			});
	}

	@Test
	void jdbcBackendWithoutSpringJdbcFailsTheStartWithWhatToAdd() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withClassLoader(new FilteredClassLoader("org.springframework.jdbc"))
			.withPropertyValues("latchkey.backend=jdbc")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).contains("spring-jdbc or Spring Boot's JDBC support is not on");
				assertThat(analysis.getAction()).contains("spring-boot-starter-jdbc");
			});
	}

	@Test
	void applicationWithoutSpringBootsJdbcSupportStartsOnTheDefaultBackend() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withClassLoader(new FilteredClassLoader("org.springframework.boot.jdbc", "org.springframework.boot.sql"))
			.withPropertyValues("latchkey.socket.directory=" + this.temporary.resolve("locks"))
			.run((context) -> assertThat(context).hasSingleBean(SocketLockRepository.class)
				.doesNotHaveBean(JdbcLockRepository.class));
	}

	@Test
	void autoWithBothARedisConnectionFactoryAndADataSourceFailsTheStart() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues(h2Url())
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).isEqualTo("latchkey.backend is auto, and the application has"
						+ " more than one backend configured: redis (a RedisConnectionFactory bean), jdbc (a DataSource bean)");
				assertThat(analysis.getAction()).contains("latchkey.backend");
			});
	}

	@Test
	void backendAskedForByNameSettlesTheChoiceBetweenRedisAndJdbc() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues(h2Url(), "latchkey.backend=jdbc")
			.run((context) -> assertThat(context).hasSingleBean(JdbcLockRepository.class)
				.doesNotHaveBean(RedisLockRepository.class));
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues(h2Url(), "latchkey.backend=redis")
			.run((context) -> assertThat(context).hasSingleBean(RedisLockRepository.class)
				.doesNotHaveBean(JdbcLockRepository.class));
	}

	@Configuration(proxyBeanMethods = false)
	static class LockedConfiguration {

		@Exclusive(value = "nightly-report", waitTimeString = "5s")
		public long nightlyReport() {
			return LockContext.fencingToken();
		}

	}

}
