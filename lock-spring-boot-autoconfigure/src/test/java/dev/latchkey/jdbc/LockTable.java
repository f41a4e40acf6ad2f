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

import java.util.UUID;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.test.TestServers;

/**
 * A lock table of a test class's own on one of the test databases, made before the
 * class's tests with the schema script the product ships and dropped after them, with its
 * connection pool.
 *
 * <pre class="code">
 * &#64;RegisterExtension
 * static final LockTable postgres = LockTable.postgres(4);
 *
 * JdbcLockRepository repository = new JdbcLockRepository(postgres.dataSource(), postgres.name());
 * </pre>
 */
final class LockTable implements BeforeAllCallback, AfterAllCallback {

	/** Where the database is, asked for when the class's tests start. */
	private final Supplier<String> url;

	private final String script;

	private final boolean withSequence;

	private final int poolSize;

	private final String name;

	private @Nullable HikariDataSource dataSource;

	private LockTable(Supplier<String> url, String script, boolean withSequence, int poolSize, String name) {
		this.url = url;
		this.script = script;
		this.withSequence = withSequence;
		this.poolSize = poolSize;
		this.name = name;
	}

	/**
	 * A table on the PostgreSQL test database, made with {@code schema-postgresql.sql}.
	 * @param poolSize the connection pool's size
	 * @return the table
	 */
	static LockTable postgres(int poolSize) {
		return new LockTable(TestServers::postgresUrl, "schema-postgresql.sql", true, poolSize,
				JdbcTestSupport.newTableName());
	}

	/**
	 * An unlogged table on the PostgreSQL test database, made with
	 * {@code schema-postgresql-unlogged.sql}.
	 * @param poolSize the connection pool's size
	 * @return the table
	 */
	static LockTable postgresUnlogged(int poolSize) {
		return new LockTable(TestServers::postgresUrl, "schema-postgresql-unlogged.sql", true, poolSize,
				JdbcTestSupport.newTableName());
	}

	/**
	 * A table on the MariaDB test database, made with {@code schema-mysql.sql}.
	 * @param poolSize the connection pool's size
	 * @return the table
	 */
	static LockTable mariadb(int poolSize) {
		return new LockTable(TestServers::mariadbUrl, "schema-mysql.sql", false, poolSize,
				JdbcTestSupport.newTableName());
	}

	/**
	 * A table in an in-memory H2 database of its own, made with {@code schema-h2.sql}.
	 * @param poolSize the connection pool's size
	 * @return the table
	 */
	static LockTable h2(int poolSize) {
		String url = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
		return new LockTable(() -> url, "schema-h2.sql", false, poolSize, JdbcTestSupport.newTableName());
	}

	/**
	 * The same table with another name.
	 * @param name the table's name, for example
	 * {@link JdbcLockRepository#DEFAULT_TABLE_NAME}
	 * @return the table
	 */
	LockTable named(String name) {
		return new LockTable(this.url, this.script, this.withSequence, this.poolSize, name);
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		this.dataSource = JdbcTestSupport.dataSource(this.url.get(), this.poolSize);
		JdbcTestSupport.createTable(this.dataSource, this.script, this.name);
	}

	@Override
	public void afterAll(ExtensionContext context) {
		if (this.dataSource != null) {
			JdbcTestSupport.dropTable(this.dataSource, this.name, this.withSequence);
			this.dataSource.close();
			this.dataSource = null;
		}
	}

	String name() {
		return this.name;
	}

	HikariDataSource dataSource() {
		if (this.dataSource == null) {
			throw new IllegalStateException("The lock table " + this.name + " is made before the class's tests");
		}
		return this.dataSource;
	}

}
