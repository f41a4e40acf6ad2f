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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockConfigurationException;
import org.jspecify.annotations.Nullable;

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
 * assigned before them, so only the first two decide whether the key is taken, from the
 * row as it was: the fencing counter and the token; the others follow the token.
 * <p>
 * Owner records live in a table of their own, the table named after the lock table with
 * {@code _OWNERS} appended: MySQL refuses a statement that changes a table and reads it
 * in a subquery. A record is the row whose {@code TOKEN} is empty; a revocation is a row
 * whose {@code TOKEN} is the evicted lease's. A statement that decides from a record's
 * expiry reads it with a shared lock ({@code LOCK
 * IN SHARE MODE}), so that it waits for a renewal of the record in flight; the renewal
 * compares with the time at which it holds the record's row ({@code SYSDATE(6)}, carried
 * over to UTC), not with when the statement began.
 */
final class MySqlLockDialect extends JdbcLockDialect {

	private static final String NOW = "UTC_TIMESTAMP(3)";

	private static final String PAST = "'1970-01-01 00:00:01'";

	/**
	 * What the exclusive acquire's first statement answers for a key whose row's own
	 * expiry has passed but that names an owner record: the lease may still be held.
	 */
	private static final long ASK_WITH_RECORD = Long.MAX_VALUE;

	private final String acquireExclusive;

	private final String insertKeyRow;

	private final String insertPermit;

	private final String releaseExclusive;

	private final String acquireExclusiveReadingRecord;

	private final String releaseExclusiveReadingRecord;

	private final String owners;

	// Whether this server's SYSDATE() was found to tell the time it runs: checked when
	// the first record is made, not again.
	private volatile boolean sysdateChecked;

	MySqlLockDialect(String table) {
		super(table);
		this.owners = ownersTable(table);
		// The row as it was decides, in the first two assignments; the token then tells
		// the others whether it was taken (it is a new lease's, unless the row already
		// held this very lease, which the answer, 0, does not grant again). The first
		// statement reads no owner record (a subquery costs every execution about 90 us
		// on MariaDB, used or not): it takes a row that is free or expired by its own
		// expiry and names no record, and answers ASK_WITH_RECORD for a row whose own
		// expiry has passed but that names a record, which the second statement, sent
		// only then, reads.
		String taken = "TOKEN = VALUES(TOKEN)";
		String acquire = """
				INSERT INTO %1$s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION, RECORD)
				VALUES (?, '', ?, ?, LAST_INSERT_ID(1), 1, %2$s, ?, ?)
				ON DUPLICATE KEY UPDATE
					FENCING = IF(%%1$s, LAST_INSERT_ID(FENCING + 1), %%2$s),
					TOKEN = IF(%%1$s, VALUES(TOKEN), TOKEN),
					OWNER = IF(%3$s, VALUES(OWNER), OWNER),
					DESCRIPTION = IF(%3$s, VALUES(DESCRIPTION), DESCRIPTION),
					RECORD = IF(%3$s, VALUES(RECORD), RECORD),
					EXPIRES_AT = IF(%3$s, VALUES(EXPIRES_AT), EXPIRES_AT)""".formatted(table, nowPlus("?"), taken);
		String ownExpiryPassed = table + ".EXPIRES_AT <= " + NOW;
		String namesRecord = table + ".TOKEN IS NOT NULL AND " + table + ".RECORD IS NOT NULL";
		this.acquireExclusive = acquire.formatted(ownExpiryPassed + " AND NOT (" + namesRecord + ")",
				"IF(" + ownExpiryPassed + " AND " + namesRecord + ", IF(LAST_INSERT_ID(" + ASK_WITH_RECORD
						+ ") > 0, FENCING, FENCING), FENCING + LAST_INSERT_ID(0))");
		this.acquireExclusiveReadingRecord = acquire.formatted("NOT " + live(table, true),
				"FENCING + LAST_INSERT_ID(0)");
		// Locks the row when it exists; the assignment changes nothing.
		this.insertKeyRow = """
				INSERT INTO %s (LOCK_KEY, SLOT, FENCING, PERMITS, EXPIRES_AT) VALUES (?, '', 0, 1, %s)
				ON DUPLICATE KEY UPDATE LOCK_KEY = LOCK_KEY""".formatted(table, PAST);
		this.insertPermit = """
				INSERT INTO %s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
				VALUES (?, ?, ?, ?, ?, ?, %s, ?)""".formatted(table, nowPlus("?"));
		// The key's row keeps its fencing counter when released: it is emptied, not
		// deleted. The first statement judges the lease by its row's own expiry; the
		// second, sent only when the first found nothing, by its owner record too.
		String release = """
				UPDATE %s l SET TOKEN = NULL, OWNER = NULL, DESCRIPTION = NULL, RECORD = NULL, EXPIRES_AT = %s
				WHERE l.LOCK_KEY = ? AND l.SLOT = '' AND l.TOKEN = ? AND %%s""".formatted(table, PAST);
		this.releaseExclusive = release.formatted("l.EXPIRES_AT > " + NOW);
		this.releaseExclusiveReadingRecord = release.formatted("l.RECORD IS NOT NULL AND " + live("l", true));
	}

	/**
	 * The table of a lock table's owner records: its name with {@code _OWNERS} appended.
	 * @param table the lock table's name
	 * @return the owner records' table's name
	 */
	static String ownersTable(String table) {
		return table + "_OWNERS";
	}

	@Override
	String ownersTable() {
		return this.owners;
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
		// A row that names no record (a permit, a shared lease) looks none up.
		return "TIMESTAMPDIFF(MICROSECOND, " + NOW + ", CASE WHEN " + alias + ".RECORD IS NULL THEN " + alias
				+ ".EXPIRES_AT ELSE GREATEST(" + alias + ".EXPIRES_AT, " + recordExpiry(alias, false)
				+ ") END) DIV 1000";
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Here also an exclusive lease whose row's {@code EXPIRES_AT} has passed but that
	 * names an owner record that has not expired. A statement that decides from the
	 * answer reads the record with a shared lock, so that it waits for a renewal of the
	 * record in flight and sees the record it committed.
	 */
	@Override
	String live(String alias, boolean lock) {
		return "(" + alias + ".EXPIRES_AT > " + NOW + " OR " + alias + ".TOKEN IS NOT NULL AND " + alias
				+ ".RECORD IS NOT NULL AND " + recordExpiry(alias, lock) + " > " + NOW + ")";
	}

	/**
	 * The expiry of the owner record a row names, or a time long past when its record is
	 * gone.
	 */
	private String recordExpiry(String alias, boolean lock) {
		return "COALESCE((SELECT o.EXPIRES_AT FROM " + this.owners + " o WHERE o.RECORD = " + alias
				+ ".RECORD AND o.TOKEN = ''" + (lock ? " LOCK IN SHARE MODE" : "") + "), CAST(" + PAST
				+ " AS DATETIME(3)))";
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Here the owner record of a lease held past its row's own expiry is read by a second
	 * query, only then: a subquery would cost every permit its preparation.
	 */
	@Override
	boolean lockKeyRow(Connection connection, String key) throws SQLException {
		insertKeyRowIfAbsent(connection, key);
		String record;
		try (PreparedStatement statement = connection.prepareStatement("SELECT CASE WHEN l.TOKEN IS NULL THEN NULL"
				+ " WHEN l.EXPIRES_AT > " + NOW + " THEN '' ELSE l.RECORD END FROM " + this.table
				+ " l WHERE l.LOCK_KEY = ? AND l.SLOT = '' FOR UPDATE")) {
			statement.setString(1, key);
			try (ResultSet result = statement.executeQuery()) {
				record = result.next() ? result.getString(1) : null;
			}
		}
		if (record == null) {
			// Free, or expired and naming no record.
			return false;
		}
		if (record.isEmpty()) {
			// Held by its own expiry.
			return true;
		}
		try (PreparedStatement statement = connection.prepareStatement("SELECT 1 FROM " + this.owners
				+ " WHERE RECORD = ? AND TOKEN = '' AND EXPIRES_AT > " + NOW + " LOCK IN SHARE MODE")) {
			statement.setString(1, record);
			return firstLong(statement).isPresent();
		}
	}

	@Override
	String moveOffRecord() {
		return ", RECORD = NULL";
	}

	@Override
	boolean keepsOwnerRecords() {
		return true;
	}

	@Override
	String newRecordName() {
		return UUID.randomUUID().toString();
	}

	@Override
	String schemaScript() {
		return "schema-mysql.sql";
	}

	@Override
	OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		return acquireExclusive(connection, lease, owner, null);
	}

	@Override
	OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner, @Nullable String record)
			throws SQLException {
		long fencingToken = upsert(connection, this.acquireExclusive, lease, owner, record);
		if (fencingToken == ASK_WITH_RECORD) {
			fencingToken = upsert(connection, this.acquireExclusiveReadingRecord, lease, owner, record);
		}
		return (fencingToken > 0) ? OptionalLong.of(fencingToken) : OptionalLong.empty();
	}

	private static long upsert(Connection connection, String sql, LeaseSpec lease, String owner,
			@Nullable String record) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			statement.setString(3, owner);
			statement.setLong(4, lease.ttl().toMillis());
			statement.setString(5, lease.description());
			statement.setString(6, record);
			statement.executeUpdate();
			return insertId(statement);
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
		return update(connection, this.releaseExclusive, lease.key(), lease.token()) > 0
				|| update(connection, this.releaseExclusiveReadingRecord, lease.key(), lease.token()) > 0;
	}

	@Override
	void fenceOff(Connection connection, String key) throws SQLException {
		// The next grant's token skips one.
		update(connection, "UPDATE " + this.table + " SET FENCING = FENCING + 1 WHERE LOCK_KEY = ? AND SLOT = ''", key);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Here a row of the table named after the lock table with {@code _OWNERS} appended
	 * with an empty {@code TOKEN}. The first time, checks that the server's
	 * {@code SYSDATE()} tells the time it runs, which the renewal needs.
	 */
	@Override
	void createRecord(Connection connection, String record, String owner, long ttlMillis) throws SQLException {
		if (!this.sysdateChecked) {
			checkSysdate(connection);
			this.sysdateChecked = true;
		}
		update(connection, "DELETE FROM " + this.owners + " WHERE EXPIRES_AT <= " + NOW);
		update(connection, "INSERT INTO " + this.owners + " (RECORD, TOKEN, OWNER, EXPIRES_AT) VALUES (?, '', ?, "
				+ nowPlus("?") + ")", record, owner, ttlMillis);
	}

	/**
	 * Fails when {@code SYSDATE()} is the statement's start, as on a server started with
	 * {@code --sysdate-is-now}: a renewal that waited for a grant's shared lock on its
	 * record would then judge the record by the time it was sent, and could bring back a
	 * record whose lease another instance took meanwhile.
	 */
	private static void checkSysdate(Connection connection) throws SQLException {
		try (PreparedStatement statement = connection
			.prepareStatement("SELECT SLEEP(0.002), TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6))");
				ResultSet result = statement.executeQuery()) {
			if (result.next() && result.getLong(2) <= 0) {
				throw new LockConfigurationException(
						"Owner records need SYSDATE() to tell the time it runs, but on this server it is NOW()"
								+ " (the server was started with --sysdate-is-now)",
						"Set latchkey.jdbc.owner-records=false (each lease is then renewed by itself), or start the"
								+ " server without --sysdate-is-now");
			}
		}
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Here an {@code UPDATE} compared with the time at which it holds the record's row,
	 * and, when it renewed the record, a query of its revocations, which are then deleted
	 * (a third statement, only when there are some).
	 */
	@Override
	RecordRenewal renewRecord(Connection connection, String record, long ttlMillis) throws SQLException {
		// SYSDATE(6) is the time of the row's evaluation, NOW(6) the statement's start,
		// both in the session's time zone: their difference carries UTC_TIMESTAMP(6)
		// over to the time the row is locked.
		String locked = "TIMESTAMPADD(MICROSECOND, TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)), UTC_TIMESTAMP(6))";
		boolean renewed = update(connection,
				"UPDATE " + this.owners + " SET EXPIRES_AT = TIMESTAMPADD(MICROSECOND, ? * 1000, " + locked
						+ ") WHERE RECORD = ? AND TOKEN = '' AND EXPIRES_AT > " + locked,
				ttlMillis, record) > 0;
		Set<String> revoked = new HashSet<>();
		try (PreparedStatement statement = connection
			.prepareStatement("SELECT TOKEN FROM " + this.owners + " WHERE RECORD = ? AND TOKEN <> ''")) {
			statement.setString(1, record);
			try (ResultSet result = statement.executeQuery()) {
				while (result.next()) {
					revoked.add(result.getString(1));
				}
			}
		}
		if (!revoked.isEmpty()) {
			List<Object> parameters = new ArrayList<>();
			parameters.add(record);
			parameters.addAll(revoked);
			update(connection,
					"DELETE FROM " + this.owners + " WHERE RECORD = ? AND TOKEN IN ("
							+ revoked.stream().map((token) -> "?").collect(Collectors.joining(", ")) + ")",
					parameters.toArray());
		}
		return new RecordRenewal(renewed, revoked);
	}

	/**
	 * Records the eviction of the key's exclusive lease for its holder when the lease
	 * names an owner record: the record's renewal takes the revocation and reports the
	 * lease lost, as the renewal of the record alone would not. Kept a day at most.
	 */
	@Override
	void revokeEvicted(Connection connection, String key) throws SQLException {
		update(connection,
				"INSERT INTO " + this.owners + " (RECORD, TOKEN, EXPIRES_AT)"
						+ " SELECT l.RECORD, l.TOKEN, TIMESTAMPADD(DAY, 1, " + NOW + ") FROM " + this.table + " l"
						+ " WHERE l.LOCK_KEY = ? AND l.SLOT = '' AND l.TOKEN IS NOT NULL AND l.RECORD IS NOT NULL",
				key);
	}

	private static long insertId(Statement statement) throws SQLException {
		try (ResultSet keys = statement.getGeneratedKeys()) {
			return keys.next() ? keys.getLong(1) : 0;
		}
	}

}
