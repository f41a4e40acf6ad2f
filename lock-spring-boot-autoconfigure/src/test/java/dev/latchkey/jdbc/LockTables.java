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

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link LockTable} on each test database, for the tests that run once per database:
 *
 * <pre class="code">
 * &#64;RegisterExtension
 * static final LockTables tables = new LockTables(4);
 *
 * &#64;ParameterizedTest
 * &#64;ValueSource(strings = { "postgres", "mariadb", "h2" })
 * void renews(String database) {
 *     LockTable table = tables.get(database);
 * }
 * </pre>
 */
final class LockTables implements BeforeAllCallback, AfterAllCallback {

	private final Map<String, LockTable> tables = new LinkedHashMap<>();

	/**
	 * A table on PostgreSQL ({@code postgres}), MariaDB ({@code mariadb}) and H2
	 * ({@code h2}).
	 * @param poolSize the size of each table's connection pool
	 */
	LockTables(int poolSize) {
		this.tables.put("postgres", LockTable.postgres(poolSize));
		this.tables.put("mariadb", LockTable.mariadb(poolSize));
		this.tables.put("h2", LockTable.h2(poolSize));
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		for (LockTable table : this.tables.values()) {
			table.beforeAll(context);
		}
	}

	@Override
	public void afterAll(ExtensionContext context) {
		for (LockTable table : this.tables.values()) {
			table.afterAll(context);
		}
	}

	/**
	 * The table on a database.
	 * @param database {@code postgres}, {@code mariadb} or {@code h2}
	 * @return the table
	 */
	LockTable get(String database) {
		LockTable table = this.tables.get(database);
		if (table == null) {
			throw new IllegalArgumentException("No lock table on " + database);
		}
		return table;
	}

}
