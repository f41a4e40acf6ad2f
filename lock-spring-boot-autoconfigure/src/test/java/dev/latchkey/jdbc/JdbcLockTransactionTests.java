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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.zaxxer.hikari.HikariDataSource;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import dev.latchkey.LockBackendException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockTemplate;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The JDBC backend next to the application's own transactions on PostgreSQL: lock
 * statements run on connections of their own, so a business transaction's rollback
 * neither releases nor keeps a lock, and a pool too small for both ends in a clear
 * timeout rather than a deadlock.
 */
@Timeout(60)
class JdbcLockTransactionTests {

	private static final String TABLE = JdbcTestSupport.newTableName();

	private static HikariDataSource setup;

	@BeforeAll
	static void createTables() {
		setup = JdbcTestSupport.dataSource(TestServers.postgresUrl(), 2);
		JdbcTestSupport.createTable(setup, "schema-postgresql.sql", TABLE);
		new JdbcTemplate(setup).execute("CREATE TABLE " + TABLE + "_LEDGER (ACCOUNT VARCHAR(64), AMOUNT INT)");
	}

	@AfterAll
	static void dropTables() {
		if (setup != null) {
			new JdbcTemplate(setup).execute("DROP TABLE IF EXISTS " + TABLE + "_LEDGER");
			JdbcTestSupport.dropTable(setup, TABLE, true);
			setup.close();
		}
	}

	private ApplicationContextRunner contextRunner() {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withUserConfiguration(LedgerConfiguration.class)
			.withPropertyValues("latchkey.backend=jdbc", "latchkey.jdbc.table-name=" + TABLE);
	}

	@Test
	void aLockTakenInsideATransactionIsVisibleAtOnceAndOutlivesItsRollback() {
		contextRunner().run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			TransactionTemplate transaction = new TransactionTemplate(
					context.getBean(DataSourceTransactionManager.class));
			LockHandle handle = transaction.execute((status) -> {
				LockHandle acquired = locks.exclusive("tx:rollback").acquire();
				// Committed on its own connection: another connection sees it while the
				// transaction is still open.
				assertThat(countHolders("tx:rollback")).isOne();
				status.setRollbackOnly();
				return acquired;
			});
			assertThat(countHolders("tx:rollback")).as("lock after the caller's rollback").isOne();
			transaction.executeWithoutResult((status) -> {
				handle.close();
				status.setRollbackOnly();
			});
			assertThat(countHolders("tx:rollback")).as("lock released inside a transaction that rolled back").isZero();
		});
	}

	@Test
	void aPoolOfTwoWithLockedMethodsThatUseTheDatabaseEndsInAClearTimeoutNotADeadlock() {
		contextRunner().run((context) -> {
			Transfers transfers = context.getBean(Transfers.class);
			// Two transactions hold both connections, then each asks for its lock, which
			// needs a third.
			CyclicBarrier bothInTransactions = new CyclicBarrier(2);
			ExecutorService executor = Executors.newFixedThreadPool(2);
			try {
				List<Future<?>> calls = new ArrayList<>();
				for (int i = 0; i < 2; i++) {
					calls.add(executor.submit(() -> transfers.transfer("acct-" + Thread.currentThread().getId(), 10,
							bothInTransactions)));
				}
				// The first call to give up rolls back and frees its connection; the
				// other, still waiting for one, may then get it and go through. Every
				// call ends, and every failure is the clear one.
				int failed = 0;
				for (Future<?> call : calls) {
					Throwable failure = catchThrowable(() -> call.get(30, TimeUnit.SECONDS));
					if (failure != null) {
						failed++;
						assertThat(failure).as("outcome of a call that found the pool empty")
							.hasCauseInstanceOf(LockBackendException.class)
							.cause()
							.hasMessageContaining("no database connection");
					}
				}
				assertThat(failed).as("calls that found the pool empty").isPositive();
			}
			finally {
				executor.shutdownNow();
			}
			// No connection leaked: with the pool free again, the same call goes through.
			transfers.transfer("acct-after", 10, null);
			assertThat(new JdbcTemplate(setup).queryForObject(
					"SELECT COUNT(*) FROM " + TABLE + "_LEDGER WHERE ACCOUNT = 'acct-after'", Integer.class))
				.isOne();
		});
	}

	private static int countHolders(String key) {
		Integer count = new JdbcTemplate(setup).queryForObject(
				"SELECT COUNT(*) FROM " + TABLE + " WHERE LOCK_KEY = ? AND TOKEN IS NOT NULL AND EXPIRES_AT > now()",
				Integer.class, key);
		return (count != null) ? count : -1;
	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement
	static class LedgerConfiguration {

		@Bean(destroyMethod = "close")
		HikariDataSource dataSource() {
			HikariDataSource dataSource = JdbcTestSupport.dataSource(TestServers.postgresUrl(), 2);
			dataSource.setConnectionTimeout(1000);
			return dataSource;
		}

		@Bean
		DataSourceTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

		@Bean
		Ledger ledger(DataSource dataSource) {
			return new Ledger(new JdbcTemplate(dataSource));
		}

		@Bean
		Transfers transfers(Ledger ledger) {
			return new Transfers(ledger);
		}

	}

	static class Transfers {

		private final Ledger ledger;

		Transfers(Ledger ledger) {
			this.ledger = ledger;
		}

		@Transactional
		public void transfer(String account, int amount, @Nullable CyclicBarrier barrier) {
			this.ledger.count(account);
			if (barrier != null) {
				try {
					barrier.await(10, TimeUnit.SECONDS);
				}
				catch (Exception ex) {
					throw new IllegalStateException(ex);
				}
			}
			this.ledger.post(account, amount);
		}

	}

	static class Ledger {

		private final JdbcTemplate jdbc;

		Ledger(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		@Transactional
		public int count(String account) {
			Integer count = this.jdbc.queryForObject("SELECT COUNT(*) FROM " + TABLE + "_LEDGER WHERE ACCOUNT = ?",
					Integer.class, account);
			return (count != null) ? count : 0;
		}

		@Exclusive(value = "ledger:#account", waitTime = 5000)
		@Transactional
		public void post(String account, int amount) {
			this.jdbc.update("INSERT INTO " + TABLE + "_LEDGER (ACCOUNT, AMOUNT) VALUES (?, ?)", account, amount);
		}

	}

}
