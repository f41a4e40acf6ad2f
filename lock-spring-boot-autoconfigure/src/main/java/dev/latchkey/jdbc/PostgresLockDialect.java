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

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

import dev.latchkey.LeaseSpec;

/**
 * PostgreSQL: {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE} takes a key only when
 * its lease has expired, and {@code RETURNING} answers the fencing token, drawn from the
 * table's sequence once the key's row is locked. A release empties the row and announces
 * the key with {@code pg_notify} in the same statement, which PostgreSQL delivers at
 * commit to every {@code LISTEN}ing application.
 * <p>
 * Exclusive waiters queue by instance: a waiting caller that is refused puts its
 * repository's instance in the key's <em>wake line</em>, a row per instance whose
 * {@code SLOT} is {@value #WAKE_SLOT_PREFIX} and the instance's id, {@code PERMITS}
 * {@value #WAKE_LINE} and {@code FENCING} the time it joined (microseconds), in the same
 * statement as the refused attempt, together with its writer wait. A release takes the
 * first instance off the line and addresses its {@code NOTIFY} to that instance alone
 * ({@link #wakePayload}); with nobody in the line, it tells every instance, as before.
 * One release thus wakes the waiters of one instance, not the first waiter of each.
 */
final class PostgresLockDialect extends JdbcLockDialect {

	/**
	 * {@code PERMITS} of a wake-line row.
	 */
	static final int WAKE_LINE = -2;

	/**
	 * The start of a wake-line row's {@code SLOT}, before the instance's id.
	 */
	static final String WAKE_SLOT_PREFIX = "~wake:";

	/**
	 * What starts and ends the instance's id in a release notification addressed to one
	 * instance: a control character, which no lock key holds.
	 */
	static final char ADDRESSED = '\u0001';

	/**
	 * {@code PERMITS} of an owner record's row.
	 */
	static final int OWNER_RECORD = -3;

	/**
	 * {@code PERMITS} of a revocation's row.
	 */
	static final int REVOCATION = -4;

	/**
	 * The start of an owner record's {@code SLOT}, before its id; its key is empty, which
	 * no lock's is.
	 */
	static final String RECORD_SLOT_PREFIX = "~owner:";

	private static final String PAST = "TIMESTAMPTZ '1970-01-01 00:00:01Z'";

	private final String acquireExclusive;

	private final String joinWakeLine;

	private final String acquireExclusiveWaiting;

	private final String acquireExclusiveAll;

	private final String insertKeyRow;

	private final String insertPermit;

	private final String releaseExclusive;

	private final String releaseExclusiveWaking;

	private final String releaseExclusiveKeepingWaiter;

	private final String withdrawWaits;

	private final String handOver;

	private final String deletePermit;

	private final String fenceOff;

	private final String renew;

	private final String createRecord;

	private final String renewRecord;

	private final String revokeEvicted;

	private final String channel;

	PostgresLockDialect(String table) {
		super(table);
		this.channel = channel(table);
		String sequence = table + "_FENCING";
		// The token of a takeover is drawn in SET, which runs only once the row is locked
		// and found expired: a statement that waited for another transaction on the row
		// draws after that transaction's grant. The one in VALUES serves only the very
		// first grant of a key, since the key's row is never deleted afterwards.
		// A lease that names an owner record is held for its TTL from the grant by its
		// row's EXPIRES_AT, and afterwards for as long as the record lives.
		this.acquireExclusive = """
				INSERT INTO %1$s AS l (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION, RECORD)
				VALUES (?, '', ?, ?, nextval('%2$s'), 1, now() + ? * INTERVAL '1 millisecond', ?, ?)
				ON CONFLICT (LOCK_KEY, SLOT) DO UPDATE SET TOKEN = excluded.TOKEN, OWNER = excluded.OWNER,
					FENCING = nextval('%2$s'), EXPIRES_AT = excluded.EXPIRES_AT, DESCRIPTION = excluded.DESCRIPTION,
					RECORD = excluded.RECORD
				WHERE NOT %3$s
				RETURNING FENCING""".formatted(table, sequence, live("l", true));
		// A refused waiting caller's writer wait and its instance's place in the wake
		// line (an instance already in it keeps its place). Either row is written again
		// only once a third of its time-to-live has passed (a refused attempt in between
		// only locks it). The place is written first, then the writer wait: every
		// statement that locks both locks them in that order (a release pops places
		// before it writes a writer wait), so that none waits for another that waits for
		// it. The first formatting leaves a placeholder for a condition.
		String joinWakeLine = """
				INSERT INTO %1$s AS w (LOCK_KEY, SLOT, FENCING, PERMITS, EXPIRES_AT)
				SELECT ?, v.SLOT, v.FENCING, v.PERMITS, now() + ? * INTERVAL '1 millisecond'
				FROM (VALUES (?, CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT), %3$d),
					(?, 0, %2$d))
					AS v (SLOT, FENCING, PERMITS)
				%%1$s
				ON CONFLICT (LOCK_KEY, SLOT) DO UPDATE SET EXPIRES_AT = excluded.EXPIRES_AT,
					FENCING = CASE WHEN w.EXPIRES_AT > now() THEN w.FENCING ELSE excluded.FENCING END
				WHERE w.EXPIRES_AT < now() + ? * INTERVAL '1 millisecond'""".formatted(table, WRITER_WAIT, WAKE_LINE);
		this.joinWakeLine = joinWakeLine.formatted("");
		// The acquire of a caller that waits for a contended key, in one statement:
		// refused, it joins the wake line as above; granted, it withdraws its writer wait
		// and its instance's place, and tells whether another instance is in the line.
		// Data-modifying WITH queries all run, whether read or not.
		this.acquireExclusiveWaiting = """
				WITH granted AS (%1$s),
				waits AS (%2$s),
				withdrawn AS (DELETE FROM %3$s WHERE LOCK_KEY = ? AND SLOT IN (?, ?) AND TOKEN IS NULL
					AND PERMITS IN (%4$d, %5$d) AND EXISTS (SELECT 1 FROM granted))
				SELECT FENCING, EXISTS (SELECT 1 FROM %3$s WHERE LOCK_KEY = ? AND PERMITS = %5$d AND SLOT <> ?
					AND EXPIRES_AT > now()) FROM granted""".formatted(this.acquireExclusive,
				joinWakeLine.formatted("WHERE NOT EXISTS (SELECT 1 FROM granted)"), table, WRITER_WAIT, WAKE_LINE);
		// The same upsert for several keys in one statement: rows are locked in the order
		// of the arrays (the keys' order), and a key that is held is left out of
		// RETURNING.
		this.acquireExclusiveAll = """
				INSERT INTO %1$s AS l (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION, RECORD)
				SELECT v.LOCK_KEY, '', v.TOKEN, v.OWNER, nextval('%2$s'), 1, now() + v.TTL * INTERVAL '1 millisecond',
					v.DESCRIPTION, v.RECORD
				FROM unnest(?::varchar[], ?::varchar[], ?::varchar[], ?::bigint[], ?::varchar[], ?::varchar[])
					WITH ORDINALITY AS v (LOCK_KEY, TOKEN, OWNER, TTL, DESCRIPTION, RECORD, N)
				ORDER BY v.N
				ON CONFLICT (LOCK_KEY, SLOT) DO UPDATE SET TOKEN = excluded.TOKEN, OWNER = excluded.OWNER,
					FENCING = nextval('%2$s'), EXPIRES_AT = excluded.EXPIRES_AT, DESCRIPTION = excluded.DESCRIPTION,
					RECORD = excluded.RECORD
				WHERE NOT %3$s
				RETURNING LOCK_KEY, FENCING""".formatted(table, sequence, live("l", true));
		this.insertKeyRow = """
				INSERT INTO %s (LOCK_KEY, SLOT, FENCING, PERMITS, EXPIRES_AT) VALUES (?, '', 0, 1, %s)
				ON CONFLICT (LOCK_KEY, SLOT) DO NOTHING""".formatted(table, PAST);
		this.insertPermit = """
				INSERT INTO %1$s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
				VALUES (?, ?, ?, ?, nextval('%2$s'), ?, now() + ? * INTERVAL '1 millisecond', ?)
				RETURNING FENCING""".formatted(table, sequence);
		this.releaseExclusive = """
				WITH released AS (UPDATE %s AS l SET TOKEN = NULL, OWNER = NULL, DESCRIPTION = NULL, RECORD = NULL,
					EXPIRES_AT = %s WHERE l.LOCK_KEY = ? AND l.SLOT = '' AND l.TOKEN = ? AND %s RETURNING l.LOCK_KEY)
				SELECT COUNT(pg_notify('%s', LOCK_KEY)) FROM released""".formatted(table, PAST, live("l", true),
				this.channel);
		// The release of an exclusive lease that wakes one instance: it takes the first
		// live instance off the key's wake line (and the expired ones, left by instances
		// that died), and addresses the notification to it, unless it is the releasing
		// instance, which the answer tells; with nobody in the line, it tells every
		// instance. Answers whether the lease was held, and the instance taken off the
		// line (null for none).
		// The first formatting leaves two placeholders: a condition that keeps an expired
		// row in the line, and a further query.
		String releaseExclusiveWaking = """
				WITH released AS (UPDATE %1$s AS l SET TOKEN = NULL, OWNER = NULL, DESCRIPTION = NULL, RECORD = NULL,
					EXPIRES_AT = %2$s WHERE l.LOCK_KEY = ? AND l.SLOT = '' AND l.TOKEN = ? AND %6$s
					RETURNING l.LOCK_KEY),
				popped AS (DELETE FROM %1$s WHERE LOCK_KEY = ? AND PERMITS = %3$d AND EXISTS (SELECT 1 FROM released)
					AND ((EXPIRES_AT <= now()%%1$s) OR SLOT = (SELECT SLOT FROM %1$s WHERE LOCK_KEY = ? AND PERMITS = %3$d
						AND EXPIRES_AT > now() ORDER BY FENCING, SLOT LIMIT 1))
					RETURNING SLOT, EXPIRES_AT > now() AS LIVE),
				woken AS (SELECT substr(MIN(SLOT) FILTER (WHERE LIVE), %4$d) AS INSTANCE FROM popped)%%2$s
				SELECT (SELECT COUNT(*) FROM released), (SELECT INSTANCE FROM woken),
					(SELECT COUNT(pg_notify('%5$s', CASE WHEN w.INSTANCE IS NULL THEN r.LOCK_KEY
						ELSE chr(1) || w.INSTANCE || chr(1) || r.LOCK_KEY END))
					FROM released r CROSS JOIN woken w WHERE w.INSTANCE IS DISTINCT FROM ?)"""
			.formatted(table, PAST, WAKE_LINE, WAKE_SLOT_PREFIX.length() + 1, this.channel, live("l", true));
		this.releaseExclusiveWaking = releaseExclusiveWaking.formatted("", "");
		// The same release while a caller of the releasing instance waits for the key:
		// it records that caller's writer wait, and, when it wakes another instance, puts
		// the releasing instance in the line (where it keeps its place if it is there
		// already), as the caller's refused attempt would have. The releasing instance's
		// own row is never deleted here, so that no row is changed twice.
		this.releaseExclusiveKeepingWaiter = releaseExclusiveWaking.formatted(" AND SLOT <> ?", """
				,
				waits AS (%s)""".formatted(joinWakeLine.formatted("""
				WHERE EXISTS (SELECT 1 FROM released)
					AND (v.PERMITS = %d OR EXISTS (SELECT 1 FROM popped WHERE LIVE AND SLOT <> v.SLOT))"""
			.formatted(WRITER_WAIT))));
		// Locks the instance's place before the writer wait, as the statements above do.
		// The first formatting leaves a placeholder for a condition.
		String withdrawWaits = """
				DELETE FROM %1$s WHERE LOCK_KEY = ? AND SLOT IN (SELECT SLOT FROM %1$s WHERE LOCK_KEY = ?
					AND SLOT IN (?, ?) AND TOKEN IS NULL AND PERMITS IN (%2$d, %3$d)%%s ORDER BY PERMITS FOR UPDATE)"""
			.formatted(table, WRITER_WAIT, WAKE_LINE);
		this.withdrawWaits = withdrawWaits.formatted("");
		// The hand-over of an exclusive lease to another caller of the same instance: the
		// key's row changes holder, token and fencing token in place, only while no other
		// instance is in the key's wake line, and the new holder's writer wait and its
		// instance's place go, as the grant of its own attempt would withdraw them: the
		// key's row locked first, then the withdrawal's statement itself, which the new
		// holder may be sending as it gives up.
		this.handOver = """
				WITH handed AS (UPDATE %1$s AS l SET TOKEN = ?, OWNER = ?, FENCING = nextval('%2$s'),
					EXPIRES_AT = now() + ? * INTERVAL '1 millisecond', DESCRIPTION = ?, RECORD = ?
					WHERE l.LOCK_KEY = ? AND l.SLOT = '' AND l.TOKEN = ? AND %3$s
						AND NOT EXISTS (SELECT 1 FROM %1$s w WHERE w.LOCK_KEY = l.LOCK_KEY AND w.PERMITS = %4$d
							AND w.SLOT <> ? AND w.EXPIRES_AT > now())
					RETURNING l.FENCING),
				withdrawn AS (%5$s)
				SELECT FENCING FROM handed""".formatted(table, sequence, live("l", true), WAKE_LINE,
				withdrawWaits.formatted(" AND EXISTS (SELECT 1 FROM handed)"));
		this.deletePermit = """
				WITH released AS (DELETE FROM %s WHERE LOCK_KEY = ? AND SLOT = ? AND TOKEN = ?
					RETURNING LOCK_KEY, EXPIRES_AT)
				SELECT COUNT(*) FILTER (WHERE EXPIRES_AT > now()), COUNT(pg_notify('%s', LOCK_KEY)) FROM released"""
			.formatted(table, this.channel);
		this.fenceOff = "SELECT nextval('%s'), pg_notify('%s', ?)".formatted(sequence, this.channel);
		this.renew = """
				UPDATE %s AS l SET EXPIRES_AT = now() + v.TTL * INTERVAL '1 millisecond', RECORD = NULL
				FROM unnest(?::varchar[], ?::varchar[], ?::varchar[], ?::bigint[]) AS v (LOCK_KEY, SLOT, TOKEN, TTL)
				WHERE l.LOCK_KEY = v.LOCK_KEY AND l.SLOT = v.SLOT AND l.TOKEN = v.TOKEN AND %s
				RETURNING l.TOKEN""".formatted(table, live("l", true));
		// An owner record, made once (its id is new) after the records and revocations
		// that have expired are deleted.
		this.createRecord = """
				WITH expired AS (DELETE FROM %1$s WHERE LOCK_KEY = '' AND PERMITS IN (%2$d, %3$d) AND EXPIRES_AT <= now())
				INSERT INTO %1$s (LOCK_KEY, SLOT, OWNER, FENCING, PERMITS, EXPIRES_AT)
				VALUES ('', ?, ?, 0, %2$d, clock_timestamp() + ? * INTERVAL '1 millisecond')"""
			.formatted(table, OWNER_RECORD, REVOCATION);
		// Renews a record, unless it has expired, judged by the clock once its row is
		// locked: a grant that found the record expired, and took a lease of it, holds a
		// share lock on the row until it commits, so a renewal waiting for that lock
		// fails rather than bring the record back. The row is locked in a subquery that
		// selects it by key alone, and its expiry compared outside: a condition of the
		// UPDATE itself is checked when the row is read, before the wait, and not again
		// after a lock that changed nothing (only after an update). Takes the record's
		// revocations, a row each, the first row answering whether it was renewed.
		this.renewRecord = """
				WITH renewed AS (UPDATE %1$s SET EXPIRES_AT = clock_timestamp() + ? * INTERVAL '1 millisecond'
					WHERE LOCK_KEY = '' AND SLOT = ? AND PERMITS = %2$d AND (SELECT o.EXPIRES_AT FROM %1$s o
						WHERE o.LOCK_KEY = '' AND o.SLOT = ? AND o.PERMITS = %2$d FOR UPDATE) > clock_timestamp()
					RETURNING SLOT),
				revoked AS (DELETE FROM %1$s WHERE LOCK_KEY = '' AND PERMITS = %3$d AND RECORD = ? RETURNING SLOT)
				SELECT (SELECT COUNT(*) FROM renewed), r.SLOT FROM (VALUES (1)) AS d (ONE)
				LEFT JOIN revoked r ON TRUE""".formatted(table, OWNER_RECORD, REVOCATION);
		// Kept a day at most: the holder's next renewal takes it, unless its record is
		// gone, and with it the lease.
		this.revokeEvicted = """
				INSERT INTO %1$s (LOCK_KEY, SLOT, RECORD, FENCING, PERMITS, EXPIRES_AT)
				SELECT '', l.TOKEN, l.RECORD, 0, %2$d, now() + INTERVAL '1 day' FROM %1$s l
				WHERE l.LOCK_KEY = ? AND l.SLOT = '' AND l.TOKEN IS NOT NULL AND l.RECORD IS NOT NULL
				ON CONFLICT (LOCK_KEY, SLOT) DO NOTHING""".formatted(table, REVOCATION);
	}

	/**
	 * The channel a table's releases are announced on: {@code latchkey_} and the table's
	 * name, lower case, with a schema's dot as an underscore.
	 * @param table the table name
	 * @return the channel name
	 */
	static String channel(String table) {
		return "latchkey_" + table.toLowerCase(java.util.Locale.ROOT).replace('.', '_');
	}

	String channel() {
		return this.channel;
	}

	/**
	 * The payload of a release notification addressed to one instance: the instance's id
	 * enclosed in U+0001, then the key.
	 * @param instance the instance's id
	 * @param key the released key
	 * @return the payload
	 */
	static String wakePayload(String instance, String key) {
		return ADDRESSED + instance + ADDRESSED + key;
	}

	/**
	 * Records a refused caller's writer wait and puts its instance in the key's wake
	 * line, unless it is there already (it keeps its place then).
	 */
	void joinWakeLine(Connection connection, LeaseSpec lease, String instance) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.joinWakeLine)) {
			bindJoin(statement, 1, lease, instance);
			statement.executeUpdate();
		}
	}

	/**
	 * Acquires an exclusive lease for a caller that waits: as {@link #acquireExclusive},
	 * and, refused, records the caller's writer wait and puts its instance in the key's
	 * wake line; granted, withdraws both.
	 * @return the fencing token of the grant (empty when the key is held), and whether
	 * another instance is in the key's wake line
	 */
	WaitingGrant acquireExclusiveWaiting(Connection connection, LeaseSpec lease, String owner, @Nullable String record,
			String instance) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.acquireExclusiveWaiting)) {
			int index = bindJoin(statement, bindAcquire(statement, lease, owner, record), lease, instance);
			statement.setString(index, lease.key());
			statement.setString(index + 1, lease.token());
			statement.setString(index + 2, WAKE_SLOT_PREFIX + instance);
			statement.setString(index + 3, lease.key());
			statement.setString(index + 4, WAKE_SLOT_PREFIX + instance);
			try (ResultSet result = statement.executeQuery()) {
				return result.next() ? new WaitingGrant(OptionalLong.of(result.getLong(1)), result.getBoolean(2))
						: new WaitingGrant(OptionalLong.empty(), true);
			}
		}
	}

	private static int bindJoin(PreparedStatement statement, int index, LeaseSpec lease, String instance)
			throws SQLException {
		long ttl = lease.ttl().toMillis();
		statement.setString(index, lease.key());
		statement.setLong(index + 1, ttl);
		statement.setString(index + 2, WAKE_SLOT_PREFIX + instance);
		statement.setString(index + 3, lease.token());
		statement.setLong(index + 4, ttl - ttl / 3);
		return index + 5;
	}

	/**
	 * Releases an exclusive lease and wakes the first instance of the key's wake line, or
	 * every instance when the line is empty.
	 * @param instance the releasing repository's instance id
	 * @return whether the lease was held, and whether the waiters of the releasing
	 * instance are to be woken (it was first in the line, or the line was empty)
	 */
	Release releaseExclusive(Connection connection, LeaseSpec lease, String instance) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.releaseExclusiveWaking)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			statement.setString(3, lease.key());
			statement.setString(4, lease.key());
			statement.setString(5, instance);
			return release(statement, instance);
		}
	}

	private static Release release(PreparedStatement statement, String instance) throws SQLException {
		try (ResultSet result = statement.executeQuery()) {
			result.next();
			if (result.getLong(1) == 0) {
				return Release.NOT_HELD;
			}
			String woken = result.getString(2);
			return (woken == null || woken.equals(instance)) ? Release.WAKE_HERE : Release.WOKE_ANOTHER;
		}
	}

	/**
	 * Releases an exclusive lease as {@link #releaseExclusive} does, while another caller
	 * of the releasing instance waits for the key: records that caller's writer wait, and
	 * keeps the instance in the key's wake line when another instance is woken.
	 * @param waiter the lease the waiting caller asks for
	 * @param instance the releasing repository's instance id
	 * @return as {@link #releaseExclusive}
	 */
	Release releaseExclusive(Connection connection, LeaseSpec lease, LeaseSpec waiter, String instance)
			throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.releaseExclusiveKeepingWaiter)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			statement.setString(3, lease.key());
			statement.setString(4, WAKE_SLOT_PREFIX + instance);
			statement.setString(5, lease.key());
			statement.setString(bindJoin(statement, 6, waiter, instance), instance);
			return release(statement, instance);
		}
	}

	/**
	 * Hands an exclusive lease's key to another caller of the same instance, in place, if
	 * the lease is still held and no other instance is in the key's wake line.
	 * @param lease the lease to end
	 * @param waiter the lease the waiting caller asks for
	 * @param owner the waiter's owner as the row shows it
	 * @param record the owner record the waiter's lease names, or {@code null}
	 * @param instance the repository's instance id
	 * @return the fencing token of the waiter's grant, or empty when nothing changed
	 */
	OptionalLong handOver(Connection connection, LeaseSpec lease, LeaseSpec waiter, String owner,
			@Nullable String record, String instance) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.handOver)) {
			statement.setString(1, waiter.token());
			statement.setString(2, owner);
			statement.setLong(3, waiter.ttl().toMillis());
			statement.setString(4, waiter.description());
			statement.setString(5, record);
			statement.setString(6, lease.key());
			statement.setString(7, lease.token());
			statement.setString(8, WAKE_SLOT_PREFIX + instance);
			statement.setString(9, waiter.key());
			statement.setString(10, waiter.key());
			statement.setString(11, waiter.token());
			statement.setString(12, WAKE_SLOT_PREFIX + instance);
			return firstLong(statement);
		}
	}

	/**
	 * Withdraws a waiting caller that gives up: its writer wait, and its instance's place
	 * in the wake line (another caller of the instance that still waits joins again with
	 * its next attempt).
	 */
	void withdrawWaits(Connection connection, LeaseSpec lease, String instance) throws SQLException {
		update(connection, this.withdrawWaits, lease.key(), lease.key(), lease.token(), WAKE_SLOT_PREFIX + instance);
	}

	@Override
	String name() {
		return "PostgreSQL";
	}

	@Override
	String now() {
		return "now()";
	}

	@Override
	String nowPlus(String milliseconds) {
		return "now() + (" + milliseconds + ") * INTERVAL '1 millisecond'";
	}

	@Override
	String remainingMillis(String alias) {
		// A row that names no record (a permit, a shared lease) looks none up.
		return "CAST(FLOOR(EXTRACT(EPOCH FROM (CASE WHEN " + alias + ".RECORD IS NULL THEN " + alias
				+ ".EXPIRES_AT ELSE GREATEST(" + alias + ".EXPIRES_AT, " + recordExpiry(alias, false)
				+ ") END - now())) * 1000) AS BIGINT)";
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Here also a lease whose row's {@code EXPIRES_AT} has passed but that names an owner
	 * record that has not expired. A statement that decides from the answer locks the
	 * record's row (shared), so that it waits for a renewal of the record in flight and
	 * sees the record it committed.
	 */
	@Override
	String live(String alias, boolean lock) {
		return "(" + alias + ".EXPIRES_AT > now() OR " + alias + ".TOKEN IS NOT NULL AND " + alias
				+ ".RECORD IS NOT NULL AND " + recordExpiry(alias, lock) + " > now())";
	}

	/**
	 * The expiry of the owner record a row names, or a time long past when it names none
	 * or its record is gone.
	 */
	private String recordExpiry(String alias, boolean lock) {
		// The row is locked before its expiry is compared: a condition in the subquery
		// would be checked on the version before a renewal in flight, and skip the lock.
		return "COALESCE((SELECT o.EXPIRES_AT FROM " + this.table + " o WHERE o.LOCK_KEY = '' AND o.SLOT = " + alias
				+ ".RECORD" + (lock ? " FOR SHARE" : "") + "), " + PAST + ")";
	}

	@Override
	String schemaScript() {
		return "schema-postgresql.sql";
	}

	@Override
	boolean keepsOwnerRecords() {
		return true;
	}

	@Override
	String newRecordName() {
		return RECORD_SLOT_PREFIX + UUID.randomUUID();
	}

	@Override
	OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		return acquireExclusive(connection, lease, owner, null);
	}

	@Override
	OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner, @Nullable String record)
			throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.acquireExclusive)) {
			bindAcquire(statement, lease, owner, record);
			return firstLong(statement);
		}
	}

	/**
	 * Binds the parameters of the exclusive acquire's upsert.
	 * @return the index of the next parameter
	 */
	private static int bindAcquire(PreparedStatement statement, LeaseSpec lease, String owner, @Nullable String record)
			throws SQLException {
		statement.setString(1, lease.key());
		statement.setString(2, lease.token());
		statement.setString(3, owner);
		statement.setLong(4, lease.ttl().toMillis());
		statement.setString(5, lease.description());
		statement.setString(6, record);
		return 7;
	}

	@Override
	Map<String, Long> acquireExclusiveAll(Connection connection, List<LeaseSpec> leases, List<String> owners)
			throws SQLException {
		return acquireExclusiveAll(connection, leases, owners, null);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Here one statement for every key: the acquire's upsert over arrays of the leases.
	 */
	@Override
	Map<String, Long> acquireExclusiveAll(Connection connection, List<LeaseSpec> leases, List<String> owners,
			@Nullable String record) throws SQLException {
		String[] keys = new String[leases.size()];
		String[] tokens = new String[leases.size()];
		Long[] ttls = new Long[leases.size()];
		String[] descriptions = new String[leases.size()];
		String[] records = new String[leases.size()];
		for (int i = 0; i < keys.length; i++) {
			records[i] = record;
			keys[i] = leases.get(i).key();
			tokens[i] = leases.get(i).token();
			ttls[i] = leases.get(i).ttl().toMillis();
			descriptions[i] = leases.get(i).description();
		}
		Map<String, Long> granted = new HashMap<>();
		try (PreparedStatement statement = connection.prepareStatement(this.acquireExclusiveAll)) {
			Array[] arrays = { connection.createArrayOf("varchar", keys), connection.createArrayOf("varchar", tokens),
					connection.createArrayOf("varchar", owners.toArray()), connection.createArrayOf("bigint", ttls),
					connection.createArrayOf("varchar", descriptions), connection.createArrayOf("varchar", records) };
			for (int i = 0; i < arrays.length; i++) {
				statement.setArray(i + 1, arrays[i]);
			}
			try (ResultSet result = statement.executeQuery()) {
				while (result.next()) {
					granted.put(result.getString(1), result.getLong(2));
				}
			}
			finally {
				for (Array array : arrays) {
					array.free();
				}
			}
		}
		return granted;
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
		return insertPermitReturningFencing(connection, this.insertPermit, lease, owner);
	}

	@Override
	boolean releaseExclusive(Connection connection, LeaseSpec lease) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.releaseExclusive)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			return firstLong(statement).orElse(0) > 0;
		}
	}

	@Override
	boolean deletePermit(Connection connection, LeaseSpec lease) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.deletePermit)) {
			statement.setString(1, lease.key());
			statement.setString(2, slot(lease));
			statement.setString(3, lease.token());
			return firstLong(statement).orElse(0) > 0;
		}
	}

	/**
	 * Records the eviction of the key's exclusive lease for its holder when the lease
	 * names an owner record: the record's renewal takes the revocation and reports the
	 * lease lost, as the renewal of the record alone would not.
	 */
	@Override
	void revokeEvicted(Connection connection, String key) throws SQLException {
		update(connection, this.revokeEvicted, key);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Here a row of the lock table whose {@code SLOT} is the record's name.
	 */
	@Override
	void createRecord(Connection connection, String record, String owner, long ttlMillis) throws SQLException {
		update(connection, this.createRecord, record, owner, ttlMillis);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Here one statement, compared with {@code clock_timestamp()}.
	 */
	@Override
	RecordRenewal renewRecord(Connection connection, String record, long ttlMillis) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.renewRecord)) {
			statement.setLong(1, ttlMillis);
			statement.setString(2, record);
			statement.setString(3, record);
			statement.setString(4, record);
			boolean renewed = false;
			Set<String> revoked = new HashSet<>();
			try (ResultSet result = statement.executeQuery()) {
				while (result.next()) {
					renewed = result.getLong(1) > 0;
					String token = result.getString(2);
					if (token != null) {
						revoked.add(token);
					}
				}
			}
			return new RecordRenewal(renewed, revoked);
		}
	}

	@Override
	void fenceOff(Connection connection, String key) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.fenceOff)) {
			statement.setString(1, key);
			firstLong(statement);
		}
	}

	@Override
	Set<String> renew(Connection connection, Collection<LeaseSpec> leases) throws SQLException {
		List<LeaseSpec> batch = List.copyOf(leases);
		Set<String> lost = new HashSet<>();
		String[] keys = new String[batch.size()];
		String[] slots = new String[batch.size()];
		String[] tokens = new String[batch.size()];
		Long[] ttls = new Long[batch.size()];
		for (int i = 0; i < batch.size(); i++) {
			LeaseSpec lease = batch.get(i);
			keys[i] = lease.key();
			slots[i] = slot(lease);
			tokens[i] = lease.token();
			ttls[i] = lease.ttl().toMillis();
			lost.add(lease.token());
		}
		try (PreparedStatement statement = connection.prepareStatement(this.renew)) {
			Array[] arrays = { connection.createArrayOf("varchar", keys), connection.createArrayOf("varchar", slots),
					connection.createArrayOf("varchar", tokens), connection.createArrayOf("bigint", ttls) };
			for (int i = 0; i < arrays.length; i++) {
				statement.setArray(i + 1, arrays[i]);
			}
			try (ResultSet result = statement.executeQuery()) {
				while (result.next()) {
					lost.remove(result.getString(1));
				}
			}
			finally {
				for (Array array : arrays) {
					array.free();
				}
			}
		}
		return lost;
	}

	/**
	 * What a waiting caller's attempt answered.
	 *
	 * @param fencingToken the fencing token of the grant, or empty when the key is held
	 * @param othersWaiting whether another instance is in the key's wake line (always
	 * {@code true} when refused)
	 */
	record WaitingGrant(OptionalLong fencingToken, boolean othersWaiting) {
	}

	/**
	 * What a release that wakes one instance did.
	 */
	enum Release {

		/**
		 * The lease was no longer held: nothing was released, nobody woken.
		 */
		NOT_HELD,

		/**
		 * Released, and another instance's waiters woken.
		 */
		WOKE_ANOTHER,

		/**
		 * Released, and the releasing instance's waiters are to be woken: it was first in
		 * the wake line, or the line was empty and every instance was told.
		 */
		WAKE_HERE

	}

}
