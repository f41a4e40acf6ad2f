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
import java.sql.SQLException;
import java.util.OptionalLong;

import dev.latchkey.LeaseSpec;

/**
 * H2: a standard {@code MERGE ... WHEN MATCHED AND <expired>} takes a key only when its
 * lease has expired, read through {@code FINAL TABLE} so that the same statement answers
 * the fencing token, drawn from the table's sequence.
 * <p>
 * H2's {@code MERGE} is not atomic against a concurrent insert of the same new key: the
 * later of two statements that both found no row fails on the primary key. Such a
 * statement is run again, once, silently: the row exists by then, and since a released
 * exclusive row is emptied rather than deleted (as on MySQL), it still exists, so the
 * second run decides like any other, and contention never surfaces as an error.
 */
final class H2LockDialect extends JdbcLockDialect {

	private static final String NOW = "CURRENT_TIMESTAMP";

	private static final String PAST = "TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:01Z'";

	private final String acquireExclusive;

	private final String insertKeyRow;

	private final String insertPermit;

	private final String releaseExclusive;

	private final String sequence;

	H2LockDialect(String table) {
		super(table);
		this.sequence = table + "_FENCING";
		this.acquireExclusive = """
				SELECT FENCING FROM FINAL TABLE (
				MERGE INTO %1$s l USING (VALUES (CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS BIGINT),
						CAST(? AS VARCHAR)))
					AS v (LOCK_KEY, TOKEN, OWNER, TTL, DESCRIPTION) ON l.LOCK_KEY = v.LOCK_KEY AND l.SLOT = ''
				WHEN MATCHED AND l.EXPIRES_AT <= %2$s THEN UPDATE SET TOKEN = v.TOKEN, OWNER = v.OWNER,
					FENCING = NEXT VALUE FOR %3$s, EXPIRES_AT = %4$s, DESCRIPTION = v.DESCRIPTION
				WHEN NOT MATCHED THEN INSERT (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
					VALUES (v.LOCK_KEY, '', v.TOKEN, v.OWNER, NEXT VALUE FOR %3$s, 1, %4$s, v.DESCRIPTION))"""
			.formatted(table, NOW, this.sequence, nowPlus("v.TTL"));
		this.insertKeyRow = """
				MERGE INTO %s l USING (VALUES (CAST(? AS VARCHAR))) AS v (LOCK_KEY)
					ON l.LOCK_KEY = v.LOCK_KEY AND l.SLOT = ''
				WHEN NOT MATCHED THEN INSERT (LOCK_KEY, SLOT, FENCING, PERMITS, EXPIRES_AT)
					VALUES (v.LOCK_KEY, '', 0, 1, %s)""".formatted(table, PAST);
		this.insertPermit = """
				SELECT FENCING FROM FINAL TABLE (
				INSERT INTO %s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
				VALUES (?, ?, ?, ?, NEXT VALUE FOR %s, ?, %s, ?))""".formatted(table, this.sequence, nowPlus("?"));
		this.releaseExclusive = """
				UPDATE %s SET TOKEN = NULL, OWNER = NULL, DESCRIPTION = NULL, EXPIRES_AT = %s
				WHERE LOCK_KEY = ? AND SLOT = '' AND TOKEN = ? AND EXPIRES_AT > %s""".formatted(table, PAST, NOW);
	}

	@Override
	String name() {
		return "H2";
	}

	@Override
	String now() {
		return NOW;
	}

	@Override
	String nowPlus(String milliseconds) {
		return "DATEADD(MILLISECOND, " + milliseconds + ", " + NOW + ")";
	}

	@Override
	String remainingMillis(String alias) {
		return "DATEDIFF(MICROSECOND, " + NOW + ", " + alias + ".EXPIRES_AT) / 1000";
	}

	@Override
	String schemaScript() {
		return "schema-h2.sql";
	}

	@Override
	OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		try {
			return mergeExclusive(connection, lease, owner);
		}
		catch (SQLException ex) {
			if (!isDuplicateKey(ex)) {
				throw ex;
			}
			return mergeExclusive(connection, lease, owner);
		}
	}

	private OptionalLong mergeExclusive(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.acquireExclusive)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			statement.setString(3, owner);
			statement.setLong(4, lease.ttl().toMillis());
			statement.setString(5, lease.description());
			return firstLong(statement);
		}
	}

	@Override
	String past() {
		return PAST;
	}

	@Override
	void insertKeyRowIfAbsent(Connection connection, String key) throws SQLException {
		try {
			update(connection, this.insertKeyRow, key);
		}
		catch (SQLException ex) {
			// A concurrent insert of the same row won: the row exists now.
			if (!isDuplicateKey(ex)) {
				throw ex;
			}
		}
	}

	private static boolean isDuplicateKey(SQLException ex) {
		return "23505".equals(ex.getSQLState());
	}

	@Override
	long insertPermit(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		return insertPermitReturningFencing(connection, this.insertPermit, lease, owner);
	}

	@Override
	boolean releaseExclusive(Connection connection, LeaseSpec lease) throws SQLException {
		return update(connection, this.releaseExclusive, lease.key(), lease.token()) > 0;
	}

	@Override
	void fenceOff(Connection connection, String key) throws SQLException {
		// The next grant's token skips one.
		try (PreparedStatement statement = connection.prepareStatement("SELECT NEXT VALUE FOR " + this.sequence)) {
			firstLong(statement);
		}
	}

}
