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

/**
 * The JDBC backend passes the backend contract on an in-memory H2 database, with the
 * table of {@code schema-h2.sql}.
 */
class H2LockRepositoryTests extends JdbcLockRepositoryContractTests {

	@RegisterExtension
	static final LockTable table = LockTable.h2(20).named(JdbcLockRepository.DEFAULT_TABLE_NAME);

	@Override
	protected LockTable table() {
		return table;
	}

}
