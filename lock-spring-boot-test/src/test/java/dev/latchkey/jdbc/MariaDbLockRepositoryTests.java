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

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.test.TestServers;

/**
 * The JDBC backend passes the backend contract on the database of
 * {@value TestServers#MARIADB_URL}, in a lock table of its own made with
 * {@code schema-mysql.sql}.
 */
class MariaDbLockRepositoryTests extends JdbcLockRepositoryContractTests {

	@RegisterExtension
	static final LockTable table = LockTable.mariadb(20);

	@Override
	protected LockTable table() {
		return table;
	}

}
