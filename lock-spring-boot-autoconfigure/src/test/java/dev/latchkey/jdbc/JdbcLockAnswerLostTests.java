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

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLNonTransientConnectionException;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.sql.DataSource;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.jdbc.datasource.DelegatingDataSource;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * An acquire whose statement the database ran and committed, but whose answer never
 * reached the application (the connection failed on the way back): the outcome is unknown
 * to the caller, who gets a {@link LockBackendException}, while the database holds the
 * lease. {@link LockTemplate} gives the token back, so the key is free again long before
 * the lease's TTL. On PostgreSQL, MariaDB and H2; the databases are real, only the answer
 * is dropped (by a connection wrapper that throws what a driver throws when the socket
 * breaks, after the statement has run).
 */
@Timeout(60)
class JdbcLockAnswerLostTests {

	@RegisterExtension
	static final LockTables tables = new LockTables(4);

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb", "h2" })
	void acquireWhoseAnswerWasLostLeavesTheKeyFreeLongBeforeItsTtl(String database) {
		LockTable table = tables.get(database);
		DataSource target = table.dataSource();
		AtomicBoolean loseNextAnswer = new AtomicBoolean();
		JdbcLockRepository repository = new JdbcLockRepository(new AnswerLosingDataSource(target, loseNextAnswer),
				table.name());
		JdbcLockRepository next = new JdbcLockRepository(target, table.name());
		String key = "answer-lost:" + database + ":" + System.nanoTime();
		try (LockTemplate locks = new LockTemplate(repository,
				LockSettings.defaults().withOwner("lost-answer").withTtl(Duration.ofSeconds(60)), null)) {
			// The dialect is looked up before the statement whose answer is lost.
			assertThat(repository.inspect(key)).isEmpty();
			loseNextAnswer.set(true);
			assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> locks.exclusive(key).acquire())
				.withMessageStartingWith("Lock '" + key + "': Could not acquire the lock in table " + table.name());
			assertThat(loseNextAnswer).isFalse();
			LeaseSpec spec = LeaseSpec.exclusive(key, "next", "next-" + UUID.randomUUID(), Duration.ofSeconds(30));
			OptionalLong[] granted = { OptionalLong.empty() };
			Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
				granted[0] = next.tryAcquire(spec);
				return granted[0].isPresent();
			});
			assertThat(next.release(spec)).isTrue();
		}
	}

	/**
	 * A data source whose next statement, once armed, runs at the database and then fails
	 * as a broken connection does: the database has committed (auto-commit), the
	 * application never learns it.
	 */
	private static final class AnswerLosingDataSource extends DelegatingDataSource {

		private final AtomicBoolean loseNextAnswer;

		AnswerLosingDataSource(DataSource target, AtomicBoolean loseNextAnswer) {
			super(target);
			this.loseNextAnswer = loseNextAnswer;
		}

		@Override
		public Connection getConnection() throws java.sql.SQLException {
			Connection connection = super.getConnection();
			return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] { Connection.class },
					(proxy, method, args) -> {
						Object result = invoke(connection, method, args);
						if (method.getName().equals("prepareStatement")
								&& result instanceof PreparedStatement prepared) {
							return statement(prepared);
						}
						return result;
					});
		}

		private PreparedStatement statement(PreparedStatement statement) {
			return (PreparedStatement) Proxy.newProxyInstance(getClass().getClassLoader(),
					new Class<?>[] { PreparedStatement.class }, (proxy, method, args) -> {
						Object result = invoke(statement, method, args);
						if (method.getName().startsWith("execute") && this.loseNextAnswer.compareAndSet(true, false)) {
							throw new SQLNonTransientConnectionException(
									"An I/O error occurred while reading the answer (connection reset)", "08006");
						}
						return result;
					});
		}

		private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
			try {
				return method.invoke(target, args);
			}
			catch (InvocationTargetException ex) {
				throw ex.getCause();
			}
		}

	}

}
