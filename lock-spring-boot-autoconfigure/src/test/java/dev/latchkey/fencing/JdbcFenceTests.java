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

package dev.latchkey.fencing;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.zaxxer.hikari.HikariDataSource;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * {@link JdbcFence} on PostgreSQL, MariaDB and H2, with the fence table of the shipped
 * scripts and a data table of the test's own: a late write with an older token is refused
 * and rolled back, a newer one is made, and concurrent writers with interleaved tokens
 * leave the highest token's value.
 */
@Timeout(120)
class JdbcFenceTests {

	private static final String FENCES = FencingTestSupport.newName("LK_FENCES_");

	private static final String DATA = FencingTestSupport.newName("LK_DATA_");

	private static final List<String> DATABASES = List.of("postgres", "mariadb", "h2");

	private static final java.util.Map<String, HikariDataSource> dataSources = new java.util.HashMap<>();

	@BeforeAll
	static void createTables() {
		for (String database : DATABASES) {
			HikariDataSource dataSource = FencingTestSupport.dataSource(database, 12);
			dataSources.put(database, dataSource);
			FencingTestSupport.runScript(dataSource,
					"dev/latchkey/fencing/schema-" + FencingTestSupport.platform(database) + ".sql",
					JdbcFence.DEFAULT_TABLE_NAME, FENCES);
			new JdbcTemplate(dataSource)
				.execute("CREATE TABLE " + DATA + " (ID VARCHAR(64) NOT NULL PRIMARY KEY, VAL BIGINT NOT NULL)");
		}
	}

	@AfterAll
	static void dropTables() {
		dataSources.values().forEach((dataSource) -> {
			JdbcTemplate jdbc = new JdbcTemplate(dataSource);
			jdbc.execute("DROP TABLE IF EXISTS " + DATA);
			jdbc.execute("DROP TABLE IF EXISTS " + FENCES);
			dataSource.close();
		});
	}

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb", "h2" })
	void lateWriteOfTheOlderTokenIsRejectedAndTheNewerIsAccepted(String database) {
		HikariDataSource dataSource = dataSources.get(database);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		JdbcFence fence = new JdbcFence(dataSource, FENCES);
		String id = "two-holders-" + System.nanoTime();
		jdbc.update("INSERT INTO " + DATA + " (ID, VAL) VALUES (?, 0)", id);
		long older = 5;
		long newer = 9;
		// The newer holder writes first; the older one, paused meanwhile, comes late.
		fence.run(id, newer, () -> write(jdbc, id, newer));
		assertThatExceptionOfType(FencingTokenRejectedException.class)
			.isThrownBy(() -> fence.run(id, older, () -> write(jdbc, id, older)))
			.withMessage("Write to '" + id + "' with fencing token 5 refused: token 9 has written already (was the"
					+ " lease lost while the work ran?)")
			.satisfies((ex) -> {
				assertThat(ex.getResource()).isEqualTo(id);
				assertThat(ex.getToken()).isEqualTo(older);
				assertThat(ex.getCurrentToken()).isEqualTo(newer);
			});
		assertThat(read(jdbc, id)).isEqualTo(newer);
		// The same holder may write again with its token; a later holder's newer token
		// goes through.
		fence.run(id, newer, () -> write(jdbc, id, newer * 10));
		assertThat(read(jdbc, id)).isEqualTo(newer * 10);
		assertThat(fence.call(id, 12, () -> write(jdbc, id, 12))).isEqualTo(1);
		assertThat(read(jdbc, id)).isEqualTo(12);
		assertThat(fence.currentToken(id)).hasValue(12);
		assertThat(fence.currentToken("never-written-" + id)).isEmpty();
	}

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb", "h2" })
	void rejectedAdvanceInTheCallersTransactionRollsBackWhatItWroteBefore(String database) {
		HikariDataSource dataSource = dataSources.get(database);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		JdbcFence fence = new JdbcFence(dataSource, FENCES);
		String id = "rollback-" + System.nanoTime();
		jdbc.update("INSERT INTO " + DATA + " (ID, VAL) VALUES (?, 0)", id);
		fence.run(id, 7, () -> write(jdbc, id, 7));
		TransactionTemplate transaction = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
		assertThatExceptionOfType(FencingTokenRejectedException.class)
			.isThrownBy(() -> transaction.executeWithoutResult((status) -> {
				write(jdbc, id, 3);
				fence.advance(id, 3);
			}));
		assertThat(read(jdbc, id)).isEqualTo(7);
		assertThatIllegalStateException().isThrownBy(() -> fence.advance(id, 8))
			.withMessageContaining("needs a transaction");
		assertThat(fence.currentToken(id)).hasValue(7);
	}

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb", "h2" })
	void concurrentWritersWithInterleavedTokensEndWithTheHighestTokensValue(String database) throws Exception {
		HikariDataSource dataSource = dataSources.get(database);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		JdbcFence fence = new JdbcFence(dataSource, FENCES);
		String id = "concurrent-" + System.nanoTime();
		jdbc.update("INSERT INTO " + DATA + " (ID, VAL) VALUES (?, 0)", id);
		int tokens = 96;
		FencingTestSupport.Outcome outcome = FencingTestSupport.writeConcurrently(8, tokens, Duration.ofSeconds(100),
				(token) -> fence.run(id, token, () -> {
					// Read, then write back: without the fence row's lock, a stale writer
					// could slip in between.
					read(jdbc, id);
					write(jdbc, id, token);
				}));
		assertThat(outcome.accepted() + outcome.rejected()).isEqualTo(tokens);
		assertThat(outcome.accepted()).isGreaterThanOrEqualTo(1);
		assertThat(read(jdbc, id)).isEqualTo(tokens);
		assertThat(fence.currentToken(id)).hasValue(tokens);
	}

	private static int write(JdbcTemplate jdbc, String id, long value) {
		return jdbc.update("UPDATE " + DATA + " SET VAL = ? WHERE ID = ?", value, id);
	}

	private static long read(JdbcTemplate jdbc, String id) {
		Long value = jdbc.queryForObject("SELECT VAL FROM " + DATA + " WHERE ID = ?", Long.class, id);
		return (value != null) ? value : -1;
	}

}
