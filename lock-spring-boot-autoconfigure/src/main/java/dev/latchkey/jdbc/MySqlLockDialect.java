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

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.OptionalLong;

import dev.latchkey.LeaseSpec;

/**
 * MySQL and MariaDB: {@code INSERT ... ON DUPLICATE KEY UPDATE} takes a key only when its
 * lease has expired. MySQL has no sequences and no {@code RETURNING} on updates, so the
 * fencing counter is a column of the kept row, and the statement answers the token it
 * granted through {@code LAST_INSERT_ID(expr)}, which the server sends back with the
 * statement's result (JDBC's generated key): the token when the statement granted the
 * key, 0 when it did not. Times are {@code UTC_TIMESTAMP(3)}, so the session's time zone
 * does not matter.
 * <p>
 * The assignments of {@code ON DUPLICATE KEY UPDATE} run left to right and see the values
 * assigned before them, so {@code EXPIRES_AT}, which every condition reads, is assigned
 * last.
 */
final class MySqlLockDialect extends JdbcLockDialect {

	private static final String NOW = "UTC_TIMESTAMP(3)";

	private static final String PAST = "'1970-01-01 00:00:01'";

	private final String acquireExclusive;

	private final String insertKeyRow;

	private final String insertPermit;

	private final String releaseExclusive;

	MySqlLockDialect(String table) {
		super(table);
		String expired = "EXPIRES_AT <= " + NOW;
		this.acquireExclusive = """
				INSERT INTO %1$s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
				VALUES (?, '', ?, ?, LAST_INSERT_ID(1), 1, %2$s, ?)
				ON DUPLICATE KEY UPDATE
					FENCING = IF(%3$s, LAST_INSERT_ID(FENCING + 1), FENCING + LAST_INSERT_ID(0)),
					TOKEN = IF(%3$s, VALUES(TOKEN), TOKEN),
					OWNER = IF(%3$s, VALUES(OWNER), OWNER),
					DESCRIPTION = IF(%3$s, VALUES(DESCRIPTION), DESCRIPTION),
					EXPIRES_AT = IF(%3$s, VALUES(EXPIRES_AT), EXPIRES_AT)""".formatted(table, nowPlus("?"), expired);
		// Locks the row when it exists; the assignment changes nothing.
		this.insertKeyRow = """
				INSERT INTO %s (LOCK_KEY, SLOT, FENCING, PERMITS, EXPIRES_AT) VALUES (?, '', 0, 1, %s)
				ON DUPLICATE KEY UPDATE LOCK_KEY = LOCK_KEY""".formatted(table, PAST);
		this.insertPermit = """
				INSERT INTO %s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
				VALUES (?, ?, ?, ?, ?, ?, %s, ?)""".formatted(table, nowPlus("?"));
		// The key's row keeps its fencing counter when released: it is emptied, not
		// deleted.
		this.releaseExclusive = """
				UPDATE %s SET TOKEN = NULL, OWNER = NULL, DESCRIPTION = NULL, EXPIRES_AT = %s
				WHERE LOCK_KEY = ? AND SLOT = '' AND TOKEN = ? AND EXPIRES_AT > %s""".formatted(table, PAST, NOW);
	}

	@Override
	String name() {
		return "MySQL";
	}

	@Override
	String now() {
		return NOW;
	}

	@Override
	String nowPlus(String milliseconds) {
		return "TIMESTAMPADD(MICROSECOND, (" + milliseconds + ") * 1000, " + NOW + ")";
	}

	@Override
	String remainingMillis(String alias) {
		return "TIMESTAMPDIFF(MICROSECOND, " + NOW + ", " + alias + ".EXPIRES_AT) DIV 1000";
	}

	@Override
	String schemaScript() {
		return "schema-mysql.sql";
	}

	@Override
	OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.acquireExclusive,
				Statement.RETURN_GENERATED_KEYS)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			statement.setString(3, owner);
			statement.setLong(4, lease.ttl().toMillis());
			statement.setString(5, lease.description());
			statement.executeUpdate();
			long fencingToken = insertId(statement);
			return (fencingToken > 0) ? OptionalLong.of(fencingToken) : OptionalLong.empty();
		}
	}

	@Override
	String past() {
		return PAST;
	}

	@Override
	void insertKeyRowIfAbsent(Connection connection, String key) throws SQLException {
		update(connection, this.insertKeyRow, key);
	}

	@Override
	long insertPermit(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		// Permits draw their tokens from the counter of the key's row too, locked by this
		// transaction.
		update(connection, "UPDATE " + this.table + " SET FENCING = FENCING + 1 WHERE LOCK_KEY = ? AND SLOT = ''",
				lease.key());
		long fencingToken;
		try (PreparedStatement statement = connection
			.prepareStatement("SELECT FENCING FROM " + this.table + " WHERE LOCK_KEY = ? AND SLOT = ''")) {
			statement.setString(1, lease.key());
			fencingToken = firstLong(statement).orElseThrow();
		}
		update(connection, this.insertPermit, lease.key(), lease.token(), lease.token(), owner, fencingToken,
				permitsColumn(lease), lease.ttl().toMillis(), lease.description());
		return fencingToken;
	}

	@Override
	boolean releaseExclusive(Connection connection, LeaseSpec lease) throws SQLException {
		return update(connection, this.releaseExclusive, lease.key(), lease.token()) > 0;
	}

	@Override
	void fenceOff(Connection connection, String key) throws SQLException {
		// The next grant's token skips one.
		update(connection, "UPDATE " + this.table + " SET FENCING = FENCING + 1 WHERE LOCK_KEY = ? AND SLOT = ''", key);
	}

	private static long insertId(Statement statement) throws SQLException {
		try (ResultSet keys = statement.getGeneratedKeys()) {
			return keys.next() ? keys.getLong(1) : 0;
		}
	}

}
