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
 * PostgreSQL's owner records: rows of the lock table itself (key empty).
 */
class PostgresOwnerRecordTests extends JdbcOwnerRecordTests {

	@RegisterExtension
	static final LockTable table = LockTable.postgres(8);

	@Override
	LockTable table() {
		return table;
	}

	@Override
	String renewRecordStatement() {
		return "UPDATE " + table.name()
				+ " SET EXPIRES_AT = now() + INTERVAL '30 seconds' WHERE LOCK_KEY = '' AND SLOT = ?";
	}

	@Override
	String liveRecordQuery() {
		return "SELECT COUNT(*) FROM " + table.name() + " WHERE LOCK_KEY = '' AND SLOT = ? AND EXPIRES_AT > now()";
	}

	@Override
	String lockRecordSharedStatement() {
		return "SELECT 1 FROM " + table.name() + " WHERE LOCK_KEY = '' AND SLOT = ? FOR SHARE";
	}

}
