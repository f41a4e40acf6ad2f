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

package dev.latchkey.interceptor;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.embedded.EmbeddedDatabaseBuilder;
import org.springframework.jdbc.datasource.embedded.EmbeddedDatabaseType;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import dev.latchkey.LeaseSpec;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lock wraps {@code @Transactional}: the transaction commits before the lock is
 * released, so the next holder sees the committed data.
 */
class LockTransactionOrderingTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
		.withUserConfiguration(TransactionalConfiguration.class);

	@Test
	void transactionCommitsBeforeTheLockIsReleased() {
		this.contextRunner.run((context) -> {
			Ledger ledger = context.getBean(Ledger.class);
			ObservingLockRepository repository = context.getBean(ObservingLockRepository.class);
			ledger.post("a-1", 10);
			ledger.post("a-1", 5);
			assertThat(repository.releases).hasSize(2);
			assertThat(repository.releases).allSatisfy((release) -> {
				assertThat(release.transactionActive()).as("transaction active at release").isFalse();
			});
			// Rows visible from a separate connection at release time: committed, not
			// merely written.
			assertThat(repository.releases).extracting(Release::committedRows).containsExactly(1, 2);
		});
	}

	@Test
	void rolledBackTransactionAlsoEndsBeforeTheRelease() {
		this.contextRunner.run((context) -> {
			Ledger ledger = context.getBean(Ledger.class);
			ObservingLockRepository repository = context.getBean(ObservingLockRepository.class);
			try {
				ledger.postAndFail("a-2", 1);
			}
			catch (IllegalStateException expected) {
				assertThat(expected).hasMessage("rejected");
			}
			assertThat(repository.releases).singleElement().satisfies((release) -> {
				assertThat(release.transactionActive()).isFalse();
				assertThat(release.committedRows()).isZero();
			});
		});
	}

	record Release(boolean transactionActive, int committedRows) {
	}

	/**
	 * Records, at each release, whether a transaction is still open on the releasing
	 * thread and how many rows a separate connection sees.
	 */
	static class ObservingLockRepository extends MemoryLockRepository {

		final List<Release> releases = new ArrayList<>();

		private final DataSource dataSource;

		ObservingLockRepository(DataSource dataSource) {
			this.dataSource = dataSource;
		}

		@Override
		public boolean release(LeaseSpec lease) {
			this.releases.add(new Release(TransactionSynchronizationManager.isActualTransactionActive(), countRows()));
			return super.release(lease);
		}

		private int countRows() {
			try (Connection connection = this.dataSource.getConnection();
					Statement statement = connection.createStatement();
					ResultSet rows = statement.executeQuery("select count(*) from ledger")) {
				rows.next();
				return rows.getInt(1);
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement
	static class TransactionalConfiguration {

		@Bean
		DataSource dataSource() {
			return new EmbeddedDatabaseBuilder().setType(EmbeddedDatabaseType.H2)
				.generateUniqueName(true)
				.addScript("classpath:ledger.sql")
				.build();
		}

		@Bean
		DataSourceTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

		@Bean
		ObservingLockRepository lockRepository(DataSource dataSource) {
			return new ObservingLockRepository(dataSource);
		}

		@Bean
		Ledger ledger(DataSource dataSource) {
			return new Ledger(new JdbcTemplate(dataSource));
		}

	}

	static class Ledger {

		private final JdbcTemplate jdbc;

		Ledger(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		@Exclusive("account:#account")
		@Transactional
		public void post(String account, int amount) {
			this.jdbc.update("insert into ledger (account, amount) values (?, ?)", account, amount);
		}

		@Exclusive("account:#account")
		@Transactional
		public void postAndFail(String account, int amount) {
			this.jdbc.update("insert into ledger (account, amount) values (?, ?)", account, amount);
			throw new IllegalStateException("rejected");
		}

	}

}
