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

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.support.SQLExceptionSubclassTranslator;
import org.springframework.jdbc.support.SQLExceptionTranslator;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.Assert;

/**
 * Fences writes to a relational database (PostgreSQL, MySQL, MariaDB or H2) with a lock's
 * fencing tokens: a write is made only if its token is not older than the newest token
 * that has written to the same resource, and a stale write throws
 * {@link FencingTokenRejectedException} and is rolled back.
 * <p>
 * Each fenced resource (any name you choose: a row, an aggregate, a whole table) has a
 * row in the fence table {@value #DEFAULT_TABLE_NAME} ({@code RESOURCE}, {@code TOKEN}),
 * created by the script {@code dev/latchkey/fencing/schema-<platform>.sql} that ships in
 * the jar ({@code postgresql}, {@code mysql} for MySQL and MariaDB, {@code h2}); copy it
 * into your migrations. {@link #advance(String, long)} moves that row to the token in one
 * statement that also tells whether the token was accepted
 * ({@code INSERT ... ON CONFLICT DO UPDATE ...
 * WHERE} on PostgreSQL, {@code INSERT ... ON DUPLICATE KEY UPDATE} with
 * {@code LAST_INSERT_ID(expr)} on MySQL and MariaDB, {@code MERGE} on H2). It must run in
 * the transaction of the guarded write: the fence row stays locked until that transaction
 * ends, so writers of one resource commit one after the other, and a writer with an older
 * token that comes later is refused. A token equal to the stored one is accepted: one
 * holder may write several times under one lease.
 *
 * <pre class="code">
 * JdbcFence fence = new JdbcFence(dataSource);
 *
 * &#64;Exclusive("account:#id")
 * public void credit(long id, BigDecimal amount) {
 *     fence.run("account:" + id, LockContext.fencingToken(), () -&gt; jdbcClient
 *         .sql("UPDATE ACCOUNTS SET BALANCE = BALANCE + ? WHERE ID = ?")
 *         .params(amount, id)
 *         .update());
 * }
 * </pre>
 * <p>
 * {@link #run}/{@link #call} open a transaction on the data source (or join the one
 * already active for it, for example a {@code @Transactional} method's);
 * {@code JdbcTemplate}, {@code JdbcClient} and JPA work in it use the same connection. In
 * a transaction of your own, call {@link #advance(String, long)} before the write; with
 * plain JDBC, {@link #advance(Connection, String, long)} on the connection that writes,
 * with auto-commit off.
 * <p>
 * What it does not do: it fences only writes that go through it. A write that skips the
 * fence, or another store written in the same work, is not protected; and the tokens of
 * different lock keys are not comparable, so fence a resource with the tokens of one lock
 * key only.
 *
 * @since 0.1.0
 */
public class JdbcFence {

	/**
	 * The fence table's name when none is given.
	 */
	public static final String DEFAULT_TABLE_NAME = "LATCHKEY_FENCES";

	private static final Pattern TABLE_NAME = Pattern
		.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

	private final DataSource dataSource;

	private final String tableName;

	private final TransactionTemplate transactions;

	private final SQLExceptionTranslator exceptionTranslator = new SQLExceptionSubclassTranslator();

	private volatile @Nullable Dialect dialect;

	/**
	 * Makes a fence on the table {@value #DEFAULT_TABLE_NAME}.
	 * @param dataSource the data source of the database the fenced writes go to
	 */
	public JdbcFence(DataSource dataSource) {
		this(dataSource, DEFAULT_TABLE_NAME);
	}

	/**
	 * Makes a fence on a table of the given name.
	 * @param dataSource the data source of the database the fenced writes go to
	 * @param tableName the fence table's name, optionally qualified by its schema
	 */
	public JdbcFence(DataSource dataSource, String tableName) {
		this(dataSource, tableName, new DataSourceTransactionManager(dataSource));
	}

	/**
	 * Makes a fence whose {@link #run}/{@link #call} use the given transaction manager,
	 * for example the application's {@code JpaTransactionManager}.
	 *
	 * <pre class="code">
	 * JdbcFence fence = new JdbcFence(dataSource, "LATCHKEY_FENCES", transactionManager);
	 * </pre>
	 * @param dataSource the data source of the database the fenced writes go to
	 * @param tableName the fence table's name, optionally qualified by its schema
	 * @param transactionManager the transaction manager of that data source
	 */
	public JdbcFence(DataSource dataSource, String tableName, PlatformTransactionManager transactionManager) {
		Assert.notNull(dataSource, "DataSource must not be null");
		Assert.notNull(transactionManager, "PlatformTransactionManager must not be null");
		Assert.isTrue(tableName != null && TABLE_NAME.matcher(tableName).matches(), () -> "'" + tableName
				+ "' is not a valid fence table name: use letters, digits and underscores, optionally schema.table");
		this.dataSource = dataSource;
		this.tableName = tableName;
		this.transactions = new TransactionTemplate(transactionManager);
	}

	/**
	 * The fence table's name.
	 * @return the table name
	 */
	public String getTableName() {
		return this.tableName;
	}

	/**
	 * Runs a write in a transaction, after advancing the resource's fence to the token;
	 * throws, and writes nothing, when a newer token has written already.
	 * @param resource the fenced resource
	 * @param token the fencing token of the lease the write is made under
	 * @param work the write, made with the same data source
	 * @throws FencingTokenRejectedException if a newer token has written to the resource
	 */
	public void run(String resource, long token, Runnable work) {
		call(resource, token, () -> {
			work.run();
			return null;
		});
	}

	/**
	 * Runs a write in a transaction, after advancing the resource's fence to the token,
	 * and answers its result; throws, and writes nothing, when a newer token has written
	 * already.
	 *
	 * <pre class="code">
	 * int updated = fence.call("order:42", token, () -&gt; jdbc.update("UPDATE ORDERS SET STATE = 'PAID' WHERE ID = 42"));
	 * </pre>
	 * @param <T> the result's type
	 * @param resource the fenced resource
	 * @param token the fencing token of the lease the write is made under
	 * @param work the write, made with the same data source
	 * @return the write's result
	 * @throws FencingTokenRejectedException if a newer token has written to the resource
	 */
	public <T extends @Nullable Object> T call(String resource, long token, Supplier<T> work) {
		return this.transactions.execute((status) -> {
			advance(resource, token);
			return work.get();
		});
	}

	/**
	 * Advances the resource's fence to the token, in the transaction active on this
	 * thread for the data source (a {@code @Transactional} method's, or a
	 * {@code TransactionTemplate}'s); the write follows in the same transaction.
	 * @param resource the fenced resource
	 * @param token the fencing token of the lease the write is made under
	 * @throws FencingTokenRejectedException if a newer token has written to the resource
	 * @throws IllegalStateException if no transaction is active: the fence row must stay
	 * locked until the write commits
	 */
	public void advance(String resource, long token) {
		if (!TransactionSynchronizationManager.isActualTransactionActive()) {
			throw new IllegalStateException("Advancing the fence of '" + resource + "' needs a transaction, so that the"
					+ " fence and the write commit together: call it in a @Transactional method, or use run/call");
		}
		Connection connection = DataSourceUtils.getConnection(this.dataSource);
		try {
			advance(connection, resource, token);
		}
		finally {
			DataSourceUtils.releaseConnection(connection, this.dataSource);
		}
	}

	/**
	 * Advances the resource's fence to the token on a connection whose transaction then
	 * makes the write, for code that uses JDBC directly.
	 *
	 * <pre class="code">
	 * try (Connection connection = dataSource.getConnection()) {
	 *     connection.setAutoCommit(false);
	 *     fence.advance(connection, "order:42", token);
	 *     // ... the write, on the same connection
	 *     connection.commit();
	 * }
	 * </pre>
	 * @param connection the connection, with auto-commit off
	 * @param resource the fenced resource
	 * @param token the fencing token of the lease the write is made under
	 * @throws FencingTokenRejectedException if a newer token has written to the resource
	 * @throws IllegalStateException if the connection is in auto-commit mode
	 */
	public void advance(Connection connection, String resource, long token) {
		Assert.hasText(resource, "Resource must not be empty");
		Assert.isTrue(token > 0, () -> "A fencing token is positive, was " + token);
		try {
			if (connection.getAutoCommit()) {
				throw new IllegalStateException("Advancing the fence of '" + resource + "' needs a transaction"
						+ " (auto-commit is on), so that the fence and the write commit together");
			}
			Dialect dialect = dialect(connection);
			boolean accepted;
			try {
				accepted = dialect.advance(connection, this.tableName, resource, token);
			}
			catch (SQLException ex) {
				if (!isDuplicateKey(ex)) {
					throw ex;
				}
				// Two first writes of a resource raced to insert its row (H2): the row
				// exists now, so this updates it.
				accepted = dialect.advance(connection, this.tableName, resource, token);
			}
			if (!accepted) {
				throw new FencingTokenRejectedException(resource, token, currentToken(connection, resource).orElse(0));
			}
		}
		catch (SQLException ex) {
			throw translate("advance the fence of '" + resource + "'", ex);
		}
	}

	/**
	 * The newest token that has written to a resource.
	 *
	 * <pre class="code">
	 * long fence = fence.currentToken("order:42").orElse(0);
	 * </pre>
	 * @param resource the fenced resource
	 * @return the stored token, or empty when nothing was written through the fence yet
	 */
	public OptionalLong currentToken(String resource) {
		Connection connection = DataSourceUtils.getConnection(this.dataSource);
		try {
			return currentToken(connection, resource);
		}
		catch (SQLException ex) {
			throw translate("read the fence of '" + resource + "'", ex);
		}
		finally {
			DataSourceUtils.releaseConnection(connection, this.dataSource);
		}
	}

	private OptionalLong currentToken(Connection connection, String resource) throws SQLException {
		try (PreparedStatement statement = connection
			.prepareStatement("SELECT TOKEN FROM " + this.tableName + " WHERE RESOURCE = ?")) {
			statement.setString(1, resource);
			try (ResultSet result = statement.executeQuery()) {
				return result.next() ? OptionalLong.of(result.getLong(1)) : OptionalLong.empty();
			}
		}
	}

	private Dialect dialect(Connection connection) throws SQLException {
		Dialect dialect = this.dialect;
		if (dialect == null) {
			dialect = Dialect.of(connection.getMetaData().getDatabaseProductName());
			this.dialect = dialect;
		}
		return dialect;
	}

	private static boolean isDuplicateKey(SQLException ex) {
		return "23505".equals(ex.getSQLState()) || ex.getErrorCode() == 1062;
	}

	private DataAccessException translate(String action, SQLException ex) {
		String task = "Could not " + action + " in table " + this.tableName;
		DataAccessException translated = this.exceptionTranslator.translate(task, null, ex);
		return (translated != null) ? translated : new UncategorizedSQLException(task, null, ex);
	}

	/**
	 * The one statement per database that advances a fence and tells whether the token
	 * was accepted.
	 */
	private enum Dialect {

		POSTGRESQL {
			@Override
			boolean advance(Connection connection, String table, String resource, long token) throws SQLException {
				String sql = "INSERT INTO " + table + " AS F (RESOURCE, TOKEN) VALUES (?, ?)"
						+ " ON CONFLICT (RESOURCE) DO UPDATE SET TOKEN = EXCLUDED.TOKEN WHERE F.TOKEN <= EXCLUDED.TOKEN";
				try (PreparedStatement statement = connection.prepareStatement(sql)) {
					statement.setString(1, resource);
					statement.setLong(2, token);
					return statement.executeUpdate() == 1;
				}
			}
		},

		MYSQL {
			@Override
			boolean advance(Connection connection, String table, String resource, long token) throws SQLException {
				// The insert id answers the outcome whatever the driver counts as
				// affected rows: the token when the row was inserted or moved (or kept,
				// for an equal token), 0 when a newer token is stored.
				String sql = "INSERT INTO " + table + " (RESOURCE, TOKEN) VALUES (?, LAST_INSERT_ID(?))"
						+ " ON DUPLICATE KEY UPDATE TOKEN = IF(TOKEN <= VALUES(TOKEN), VALUES(TOKEN),"
						+ " TOKEN + LAST_INSERT_ID(0))";
				try (PreparedStatement statement = connection.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS)) {
					statement.setString(1, resource);
					statement.setLong(2, token);
					statement.executeUpdate();
					try (ResultSet keys = statement.getGeneratedKeys()) {
						return keys.next() && keys.getLong(1) == token;
					}
				}
			}
		},

		H2 {
			@Override
			boolean advance(Connection connection, String table, String resource, long token) throws SQLException {
				String sql = "MERGE INTO " + table + " F USING (VALUES (CAST(? AS VARCHAR(512)), CAST(? AS BIGINT)))"
						+ " S(RESOURCE, TOKEN) ON F.RESOURCE = S.RESOURCE"
						+ " WHEN MATCHED AND F.TOKEN <= S.TOKEN THEN UPDATE SET TOKEN = S.TOKEN"
						+ " WHEN NOT MATCHED THEN INSERT (RESOURCE, TOKEN) VALUES (S.RESOURCE, S.TOKEN)";
				try (PreparedStatement statement = connection.prepareStatement(sql)) {
					statement.setString(1, resource);
					statement.setLong(2, token);
					return statement.executeUpdate() == 1;
				}
			}
		};

		abstract boolean advance(Connection connection, String table, String resource, long token) throws SQLException;

		static Dialect of(String product) {
			String name = product.toLowerCase(Locale.ROOT);
			if (name.contains("postgres")) {
				return POSTGRESQL;
			}
			if (name.contains("mysql") || name.contains("mariadb")) {
				return MYSQL;
			}
			if ("h2".equals(name)) {
				return H2;
			}
			throw new IllegalStateException(
					"JdbcFence does not support " + product + " (it supports PostgreSQL, MySQL, MariaDB and H2)");
		}

	}

}
