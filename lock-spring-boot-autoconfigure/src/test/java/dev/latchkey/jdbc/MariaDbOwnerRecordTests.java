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
 * MariaDB's owner records (MySQL's statements): rows of a table of their own, the table
 * named after the lock table with {@code _OWNERS} appended.
 */
class MariaDbOwnerRecordTests extends JdbcOwnerRecordTests {

	@RegisterExtension
	static final LockTable table = LockTable.mariadb(8);

	@Override
	LockTable table() {
		return table;
	}

	@Override
	String renewRecordStatement() {
		return "UPDATE " + MySqlLockDialect.ownersTable(table.name())
				+ " SET EXPIRES_AT = TIMESTAMPADD(SECOND, 30, UTC_TIMESTAMP(3)) WHERE RECORD = ? AND TOKEN = ''";
	}

	@Override
	String liveRecordQuery() {
		return "SELECT COUNT(*) FROM " + MySqlLockDialect.ownersTable(table.name())
				+ " WHERE RECORD = ? AND TOKEN = '' AND EXPIRES_AT > UTC_TIMESTAMP(3)";
	}

	@Override
	String lockRecordSharedStatement() {
		return "SELECT 1 FROM " + MySqlLockDialect.ownersTable(table.name())
				+ " WHERE RECORD = ? AND TOKEN = '' LOCK IN SHARE MODE";
	}

}
