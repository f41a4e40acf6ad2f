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

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.jdbc.datasource.DelegatingDataSource;

import dev.latchkey.LeaseSpec;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a waiting writer's attempts cost on PostgreSQL: its wait is recorded once and
 * renewed once per third of its TTL, not on every attempt.
 */
class JdbcWriterWaitTests {

	private static final String TABLE = JdbcTestSupport.newTableName();

	private static HikariDataSource postgres;

	@BeforeAll
	static void createTable() {
		postgres = JdbcTestSupport.dataSource(TestServers.postgresUrl(), 4);
		JdbcTestSupport.createTable(postgres, "schema-postgresql.sql", TABLE);
	}

	@AfterAll
	static void dropTable() {
		if (postgres != null) {
			JdbcTestSupport.dropTable(postgres, TABLE, true);
			postgres.close();
		}
	}

	@Test
	void aWaitingWritersFurtherAttemptsCostOneRequestEachWhileItsWaitIsFresh() {
		AtomicInteger connections = new AtomicInteger();
		DelegatingDataSource counting = new DelegatingDataSource(postgres) {
			@Override
			public Connection getConnection() throws SQLException {
				connections.incrementAndGet();
				return super.getConnection();
			}
		};
		try (JdbcLockRepository repository = new JdbcLockRepository(counting, TABLE);
				JdbcLockRepository reader = new JdbcLockRepository(postgres, TABLE)) {
			String key = "doc:" + UUID.randomUUID();
			LeaseSpec held = LeaseSpec.shared(key, "reader", token(), Duration.ofSeconds(30));
			assertThat(reader.tryAcquireShared(held)).isPresent();
			LeaseSpec writer = LeaseSpec.exclusive(key, "writer", token(), Duration.ofSeconds(30));
			assertThat(repository.tryAcquireWaiting(writer)).isEmpty();
			// The wait is recorded: a new reader is kept out.
			assertThat(reader.tryAcquireShared(LeaseSpec.shared(key, "late reader", token(), Duration.ofSeconds(30))))
				.isEmpty();
			connections.set(0);
			for (int i = 0; i < 10; i++) {
				assertThat(repository.tryAcquireWaiting(writer)).isEmpty();
			}
			// One connection (one statement) per attempt; the wait, recorded under a
			// second ago with a TTL of 30 s, is not written again.
			assertThat(connections.get()).isEqualTo(10);
			assertThat(reader.release(held)).isTrue();
			assertThat(repository.tryAcquireWaiting(writer)).isPresent();
			assertThat(repository.release(writer)).isTrue();
		}
	}

	private static String token() {
		return UUID.randomUUID().toString();
	}

}
