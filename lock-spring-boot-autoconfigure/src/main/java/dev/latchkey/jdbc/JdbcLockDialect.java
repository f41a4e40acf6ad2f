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
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The statements of one database family. Each lease is one row of the lock table, keyed
 * by {@code (LOCK_KEY, SLOT)}: {@code SLOT} is {@value #EXCLUSIVE_SLOT} (empty) for the
 * key's row, and the holder's token for a semaphore permit or a shared lease.
 * ({@value #HEAD_SLOT} was a semaphore's head row in earlier versions; such rows are
 * ignored.)
 * <p>
 * Read/write locks use the same rows: a shared lease is a permit whose {@code PERMITS} is
 * {@value #SHARED_PERMITS}, granted in the same transaction as a permit; a writer wait is
 * a row whose {@code SLOT} is the waiting lease's token, {@code TOKEN} empty and
 * {@code PERMITS} {@value #WRITER_WAIT}, which a shared acquire checks after locking the
 * key's row.
 * <p>
 * The key's row decides the key's mode. It holds the exclusive lease (its {@code TOKEN}
 * set), or, while permits are held, the semaphore's reservation: {@code TOKEN} empty and
 * {@code EXPIRES_AT} no earlier than any live permit's. It is never deleted, only
 * emptied. The exclusive acquire is one statement that reads and changes that row only,
 * and grants the key when the row has expired; a permit's transaction locks the same row
 * first, refuses a key held exclusively, and reserves the row for as long as the new
 * permit. Since both modes serialize on one row and decide from it, a key is never held
 * in both modes at once, and fencing tokens drawn while the row is locked strictly rise.
 * <p>
 * Every comparison with the current time is made by the database ({@link #now()}); the
 * JVM's clock never enters a statement. The subclasses differ in how a statement answers
 * the fencing token it granted, and where fencing tokens come from: a sequence
 * (PostgreSQL, H2), or a column of the kept row (MySQL, MariaDB).
 */
abstract class JdbcLockDialect {

	static final String EXCLUSIVE_SLOT = "";

	static final String HEAD_SLOT = "#";

	/**
	 * {@code PERMITS} of a shared lease's row and of the key's row while it is held
	 * shared.
	 */
	static final int SHARED_PERMITS = 0;

	/**
	 * {@code PERMITS} of a writer wait's row.
	 */
	static final int WRITER_WAIT = -1;

	/**
	 * The most leases one renewal statement names, where a statement names each lease
	 * (MySQL, H2).
	 */
	static final int MAX_RENEWAL_BATCH = 500;

	protected final String table;

	JdbcLockDialect(String table) {
		this.table = table;
	}

	/**
	 * The name of the database family, as shown in messages.
	 * @return the name
	 */
	abstract String name();

	/**
	 * The SQL expression of the database's current time.
	 * @return the expression
	 */
	abstract String now();

	/**
	 * The SQL expression of the database's current time plus a number of milliseconds
	 * given by one parameter.
	 * @param milliseconds the SQL expression of the milliseconds (a parameter marker or a
	 * {@code CASE})
	 * @return the expression
	 */
	abstract String nowPlus(String milliseconds);

	/**
	 * The SQL expression of the milliseconds a row's lease has left.
	 * @param alias the row's table alias in the statement
	 * @return the expression
	 */
	abstract String remainingMillis(String alias);

	/**
	 * The SQL condition that a row holds a live lease (or reservation): its
	 * {@code EXPIRES_AT} is still ahead. PostgreSQL adds the leases kept alive by their
	 * owner record.
	 * @param alias the row's table alias in the statement
	 * @param lock whether a statement that decides from the answer (a grant, a release)
	 * asks it, which must then wait for a renewal of the record in flight
	 * @return the condition
	 */
	String live(String alias, boolean lock) {
		return alias + ".EXPIRES_AT > " + now();
	}

	/**
	 * The assignment, after a comma, that moves a row renewed by itself off the owner
	 * record it named, to the expiry the renewal gives it; nothing where rows name none.
	 * @return the assignment, or an empty string
	 */
	String moveOffRecord() {
		return "";
	}

	/**
	 * The schema script that creates the table for this database.
	 * @return the script's name, for example {@code schema-postgresql.sql}
	 */
	abstract String schemaScript();

	/**
	 * Inserts the exclusive row of a key, or takes it over if its lease has expired, in
	 * one statement.
	 * @return the fencing token of the grant, or empty when the key is held
	 */
	abstract OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner) throws SQLException;

	/**
	 * Whether an exclusive lease can name an owner record here, which renews it with
	 * every other lease of its holder's TTL class (PostgreSQL, MySQL, MariaDB). The
	 * methods about records below are used only where it can.
	 * @return whether this database keeps owner records
	 */
	boolean keepsOwnerRecords() {
		return false;
	}

	/**
	 * The table of the owner records, where they are not rows of the lock table (MySQL,
	 * MariaDB): the start checks that it exists.
	 * @return its name, or {@code null} when the records need no table of their own
	 */
	@Nullable String ownersTable() {
		return null;
	}

	/**
	 * A new owner record's name, unique among the records of the table.
	 * @return the name
	 */
	String newRecordName() {
		throw new UnsupportedOperationException(name() + " keeps no owner records");
	}

	/**
	 * The exclusive acquire, naming an owner record.
	 * @param record the record's name, or {@code null} for a lease that keeps its own
	 * expiry
	 * @return the fencing token of the grant, or empty when the key is held
	 */
	OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner, @Nullable String record)
			throws SQLException {
		Assert.isNull(record, () -> name() + " keeps no owner records");
		return acquireExclusive(connection, lease, owner);
	}

	/**
	 * Several keys' exclusive acquire, each lease naming the same owner record, inside
	 * the transaction of {@code tryAcquireAll}; by default the acquire of each key, in
	 * the order given, stopping at the first that is held.
	 * @param record the record's name, or {@code null} for leases that keep their own
	 * expiry
	 * @return the fencing token of each key granted, by key
	 */
	Map<String, Long> acquireExclusiveAll(Connection connection, List<LeaseSpec> leases, List<String> owners,
			@Nullable String record) throws SQLException {
		Map<String, Long> granted = new HashMap<>();
		for (int i = 0; i < leases.size(); i++) {
			OptionalLong fencingToken = acquireExclusive(connection, leases.get(i), owners.get(i), record);
			if (fencingToken.isEmpty()) {
				break;
			}
			granted.put(leases.get(i).key(), fencingToken.getAsLong());
		}
		return granted;
	}

	/**
	 * Makes an owner record, after deleting the records and revocations that have
	 * expired.
	 * @param record the record's name
	 * @param owner the owner column, shown to whoever reads the table
	 * @param ttlMillis the time-to-live of the record
	 */
	void createRecord(Connection connection, String record, String owner, long ttlMillis) throws SQLException {
		throw new UnsupportedOperationException(name() + " keeps no owner records");
	}

	/**
	 * Renews an owner record, and with it every lease that names it, unless it has
	 * expired, judged by the database's clock once the record is locked; and takes its
	 * revocations.
	 * @param record the record's name
	 * @param ttlMillis the time-to-live of the record from now
	 * @return whether the record was renewed, and the tokens of the leases naming it that
	 * a force-release evicted since its last renewal
	 */
	RecordRenewal renewRecord(Connection connection, String record, long ttlMillis) throws SQLException {
		throw new UnsupportedOperationException(name() + " keeps no owner records");
	}

	/**
	 * Inserts or takes over the exclusive rows of several keys, inside the transaction of
	 * {@code tryAcquireAll}, in the order given: the acquire's statement for each key,
	 * stopping at the first key that is held.
	 * @param leases the leases, of distinct keys, in the order their rows are to be
	 * locked
	 * @param owners the owner column of each lease
	 * @return the fencing token of each key granted, by key: fewer entries than leases
	 * when a key is held (the caller then rolls back)
	 */
	Map<String, Long> acquireExclusiveAll(Connection connection, List<LeaseSpec> leases, List<String> owners)
			throws SQLException {
		return acquireExclusiveAll(connection, leases, owners, null);
	}

	/**
	 * The SQL literal of a time long past, written into {@code EXPIRES_AT} to mark a
	 * key's row free.
	 * @return the literal
	 */
	abstract String past();

	/**
	 * Inserts a key's row (slot {@value #EXCLUSIVE_SLOT}), free, unless it exists; inside
	 * a permit's or a release's transaction, before the row is locked. Waits for a
	 * concurrent insert of the same row to end.
	 */
	abstract void insertKeyRowIfAbsent(Connection connection, String key) throws SQLException;

	/**
	 * Inserts a permit's row, inside the permit's transaction, after the key's row was
	 * locked and reserved and the limit checked.
	 * @return the fencing token of the grant
	 */
	abstract long insertPermit(Connection connection, LeaseSpec lease, String owner) throws SQLException;

	/**
	 * Creates the key's row if needed and locks it until the transaction ends: every
	 * grant of a key, exclusive or permit, changes that one row, so while it is locked
	 * nothing else can be granted on the key.
	 * @return whether the key is held exclusively
	 */
	boolean lockKeyRow(Connection connection, String key) throws SQLException {
		insertKeyRowIfAbsent(connection, key);
		String sql = "SELECT CASE WHEN l.TOKEN IS NOT NULL AND " + live("l", true) + " THEN 1 ELSE 0 END FROM "
				+ this.table + " l WHERE l.LOCK_KEY = ? AND l.SLOT = '' FOR UPDATE";
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, key);
			return firstLong(statement).orElse(0) == 1;
		}
	}

	/**
	 * Reserves the key's row for its semaphore, inside a permit's transaction: the row,
	 * not held exclusively, stays unexpired at least as long as the new permit, so that
	 * the exclusive acquire, which reads that row only, finds the key held. Then inserts
	 * the permit.
	 * @return the fencing token of the grant
	 */
	long grantPermit(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		String until = nowPlus("?");
		update(connection,
				"UPDATE " + this.table
						+ " SET TOKEN = NULL, OWNER = NULL, DESCRIPTION = NULL, PERMITS = ?, EXPIRES_AT = CASE"
						+ " WHEN EXPIRES_AT > " + until + " THEN EXPIRES_AT ELSE " + until + " END"
						+ " WHERE LOCK_KEY = ? AND SLOT = ''",
				permitsColumn(lease), lease.ttl().toMillis(), lease.ttl().toMillis(), lease.key());
		return insertPermit(connection, lease, owner);
	}

	/**
	 * Extends the reservations of the semaphores whose permits are renewed, before the
	 * permits themselves, so that a reservation never ends before a permit it covers. A
	 * reservation that already ended is left alone: its permits have all expired. One
	 * statement per {@value #MAX_RENEWAL_BATCH} keys, which are locked in key order.
	 */
	void extendReservations(Connection connection, Collection<LeaseSpec> permits) throws SQLException {
		List<String> keys = permits.stream().map(LeaseSpec::key).distinct().sorted().toList();
		long ttl = permits.stream().mapToLong((lease) -> lease.ttl().toMillis()).max().orElse(0);
		String until = nowPlus("?");
		for (int from = 0; from < keys.size(); from += MAX_RENEWAL_BATCH) {
			List<String> slice = keys.subList(from, Math.min(keys.size(), from + MAX_RENEWAL_BATCH));
			String sql = "UPDATE " + this.table + " SET EXPIRES_AT = CASE WHEN EXPIRES_AT > " + until
					+ " THEN EXPIRES_AT ELSE " + until + " END WHERE SLOT = '' AND TOKEN IS NULL AND EXPIRES_AT > "
					+ now() + " AND LOCK_KEY IN (" + slice.stream().map((key) -> "?").collect(Collectors.joining(", "))
					+ ")";
			List<Object> parameters = new ArrayList<>();
			parameters.add(ttl);
			parameters.add(ttl);
			parameters.addAll(slice);
			update(connection, sql, parameters.toArray());
		}
	}

	/**
	 * Releases a permit, inside a transaction that locks the key's row first; when it was
	 * the last live permit, the key's reservation ends too, so that the key is free for
	 * an exclusive lease at once.
	 * @return whether the permit was held
	 */
	boolean releasePermit(Connection connection, LeaseSpec lease) throws SQLException {
		try (PreparedStatement statement = connection
			.prepareStatement("SELECT 1 FROM " + this.table + " WHERE LOCK_KEY = ? AND SLOT = '' FOR UPDATE")) {
			statement.setString(1, lease.key());
			firstLong(statement);
		}
		boolean released = deletePermit(connection, lease);
		if (countLivePermits(connection, lease.key()) == 0) {
			update(connection, "UPDATE " + this.table + " SET EXPIRES_AT = " + past()
					+ " WHERE LOCK_KEY = ? AND SLOT = '' AND TOKEN IS NULL", lease.key());
		}
		return released;
	}

	/**
	 * Deletes a permit's row if it is still held by its token.
	 * @return whether the permit was live
	 */
	boolean deletePermit(Connection connection, LeaseSpec lease) throws SQLException {
		return update(connection, "DELETE FROM " + this.table + " WHERE LOCK_KEY = ? AND SLOT = ? AND TOKEN = ?"
				+ " AND EXPIRES_AT > " + now(), lease.key(), lease.token(), lease.token()) > 0;
	}

	/**
	 * Releases every lease of a key, whoever holds it, inside a transaction: the key's
	 * row is emptied (never deleted, so that the next exclusive grant draws its token
	 * after this one), the permits are deleted, and when anything live was evicted the
	 * fencing counter is bumped and waiters are told.
	 * @return whether a live lease was released
	 */
	boolean forceRelease(Connection connection, String key) throws SQLException {
		try (PreparedStatement statement = connection
			.prepareStatement("SELECT 1 FROM " + this.table + " WHERE LOCK_KEY = ? AND SLOT = '' FOR UPDATE")) {
			statement.setString(1, key);
			firstLong(statement);
		}
		long live;
		try (PreparedStatement statement = connection.prepareStatement("SELECT COUNT(*) FROM " + this.table
				+ " l WHERE l.LOCK_KEY = ? AND l.SLOT <> '#' AND l.TOKEN IS NOT NULL AND " + live("l", false))) {
			statement.setString(1, key);
			live = firstLong(statement).orElse(0);
		}
		revokeEvicted(connection, key);
		update(connection, "UPDATE " + this.table + " SET TOKEN = NULL, OWNER = NULL, DESCRIPTION = NULL, EXPIRES_AT = "
				+ past() + " WHERE LOCK_KEY = ? AND SLOT = ''", key);
		update(connection, "DELETE FROM " + this.table + " WHERE LOCK_KEY = ? AND SLOT <> '' AND SLOT <> '#'", key);
		if (live == 0) {
			return false;
		}
		fenceOff(connection, key);
		return true;
	}

	/**
	 * Tells the holder of a key's exclusive lease that a force-release evicts it, where
	 * its renewal would not see the eviction by itself; inside the force-release's
	 * transaction, with the key's row locked. Nothing by default: a renewal there renews
	 * the lease's own row, and finds it gone.
	 */
	void revokeEvicted(Connection connection, String key) throws SQLException {
	}

	/**
	 * Bumps the fencing counter of a key whose holders were evicted, so that the next
	 * grant's token is above any they could still present; announces the release where
	 * the database can.
	 */
	abstract void fenceOff(Connection connection, String key) throws SQLException;

	/**
	 * Releases an exclusive lease if it is still held by its token, in one statement: the
	 * key's row is emptied, not deleted.
	 * @return whether the lease was held
	 */
	abstract boolean releaseExclusive(Connection connection, LeaseSpec lease) throws SQLException;

	/**
	 * Renews a batch of leases in one statement (one per {@value #MAX_RENEWAL_BATCH}
	 * leases), and a second only when some lease was lost, to tell which.
	 * @return the tokens of the leases that were no longer held
	 */
	Set<String> renew(Connection connection, Collection<LeaseSpec> leases) throws SQLException {
		List<LeaseSpec> all = List.copyOf(leases);
		if (all.size() <= MAX_RENEWAL_BATCH) {
			return renewBatch(connection, all);
		}
		// Thousands of held leases would make one statement of megabytes: a statement per
		// slice of them instead.
		Set<String> lost = new HashSet<>();
		for (int from = 0; from < all.size(); from += MAX_RENEWAL_BATCH) {
			lost.addAll(renewBatch(connection, all.subList(from, Math.min(all.size(), from + MAX_RENEWAL_BATCH))));
		}
		return lost;
	}

	private Set<String> renewBatch(Connection connection, List<LeaseSpec> batch) throws SQLException {
		String ttlByToken = batch.stream()
			.map((lease) -> "WHEN ? THEN ?")
			.collect(Collectors.joining(" ", "CASE TOKEN ", " END"));
		String rows = batch.stream()
			.map((lease) -> "(LOCK_KEY = ? AND SLOT = ? AND TOKEN = ?)")
			.collect(Collectors.joining(" OR "));
		String sql = "UPDATE " + this.table + " l SET EXPIRES_AT = " + nowPlus(ttlByToken) + moveOffRecord()
				+ " WHERE (" + rows + ") AND " + live("l", true);
		int renewed;
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			int index = 1;
			for (LeaseSpec lease : batch) {
				statement.setString(index++, lease.token());
				statement.setLong(index++, lease.ttl().toMillis());
			}
			for (LeaseSpec lease : batch) {
				index = bindRow(statement, index, lease);
			}
			renewed = statement.executeUpdate();
		}
		if (renewed >= batch.size()) {
			return Set.of();
		}
		// Only when leases were lost: one more statement tells which.
		Set<String> lost = batch.stream().map(LeaseSpec::token).collect(Collectors.toCollection(HashSet::new));
		lost.removeAll(liveTokens(connection, batch, rows));
		return lost;
	}

	private Set<String> liveTokens(Connection connection, List<LeaseSpec> batch, String rows) throws SQLException {
		String sql = "SELECT l.TOKEN FROM " + this.table + " l WHERE (" + rows + ") AND " + live("l", false);
		Set<String> live = new HashSet<>();
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			int index = 1;
			for (LeaseSpec lease : batch) {
				index = bindRow(statement, index, lease);
			}
			try (ResultSet result = statement.executeQuery()) {
				while (result.next()) {
					live.add(result.getString(1));
				}
			}
		}
		return live;
	}

	private static int bindRow(PreparedStatement statement, int index, LeaseSpec lease) throws SQLException {
		statement.setString(index, lease.key());
		statement.setString(index + 1, slot(lease));
		statement.setString(index + 2, lease.token());
		return index + 3;
	}

	/**
	 * Deletes the expired permits of a semaphore, inside the permit's transaction.
	 */
	void deleteExpiredPermits(Connection connection, String key) throws SQLException {
		update(connection, "DELETE FROM " + this.table + " WHERE LOCK_KEY = ? AND SLOT <> '' AND SLOT <> '#'"
				+ " AND EXPIRES_AT <= " + now(), key);
	}

	/**
	 * Counts the permits of a semaphore, inside the permit's transaction, after its
	 * expired permits were deleted, and tells the limits they were granted with.
	 */
	Permits countPermits(Connection connection, String key) throws SQLException {
		String sql = "SELECT COUNT(*), MIN(PERMITS), MAX(PERMITS) FROM " + this.table
				+ " WHERE LOCK_KEY = ? AND SLOT <> '' AND SLOT <> '#' AND PERMITS >= 0";
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, key);
			try (ResultSet result = statement.executeQuery()) {
				result.next();
				return new Permits(result.getInt(1), result.getInt(2), result.getInt(3));
			}
		}
	}

	private int countLivePermits(Connection connection, String key) throws SQLException {
		String sql = "SELECT COUNT(*) FROM " + this.table + " WHERE LOCK_KEY = ? AND SLOT <> '' AND SLOT <> '#'"
				+ " AND PERMITS >= 0 AND EXPIRES_AT > " + now();
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, key);
			return (int) firstLong(statement).orElse(0);
		}
	}

	/**
	 * Records (or renews) a writer wait: a row whose {@code SLOT} is the waiting lease's
	 * token, {@code TOKEN} empty and {@code PERMITS} {@value #WRITER_WAIT}, expiring the
	 * lease's TTL from now. Inside a transaction.
	 */
	void recordWriterWait(Connection connection, LeaseSpec lease) throws SQLException {
		deleteWriterWait(connection, lease);
		update(connection,
				"INSERT INTO " + this.table + " (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT)"
						+ " VALUES (?, ?, NULL, NULL, 0, " + WRITER_WAIT + ", " + nowPlus("?") + ")",
				lease.key(), lease.token(), lease.ttl().toMillis());
	}

	/**
	 * Deletes the writer wait of a lease's token, if there is one.
	 */
	void deleteWriterWait(Connection connection, LeaseSpec lease) throws SQLException {
		update(connection, "DELETE FROM " + this.table
				+ " WHERE LOCK_KEY = ? AND SLOT = ? AND TOKEN IS NULL AND PERMITS = " + WRITER_WAIT, lease.key(),
				lease.token());
	}

	/**
	 * Whether a writer waits for a key: an unexpired writer wait row exists.
	 */
	boolean writerWaits(Connection connection, String key) throws SQLException {
		String sql = "SELECT COUNT(*) FROM " + this.table + " WHERE LOCK_KEY = ? AND PERMITS = " + WRITER_WAIT
				+ " AND EXPIRES_AT > " + now();
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, key);
			return firstLong(statement).orElse(0) > 0;
		}
	}

	/**
	 * The live leases of one key, or of every key when {@code key} is {@code null},
	 * ordered by key and fencing token.
	 */
	List<LeaseRow> leases(Connection connection, @Nullable String key) throws SQLException {
		String sql = "SELECT l.LOCK_KEY, l.SLOT, l.OWNER, l.FENCING, l.PERMITS, " + remainingMillis("l")
				+ ", l.DESCRIPTION FROM " + this.table + " l WHERE l.SLOT <> '#' AND l.TOKEN IS NOT NULL AND "
				+ live("l", false) + ((key != null) ? " AND l.LOCK_KEY = ?" : "") + " ORDER BY l.LOCK_KEY, l.FENCING";
		List<LeaseRow> rows = new ArrayList<>();
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			if (key != null) {
				statement.setString(1, key);
			}
			try (ResultSet result = statement.executeQuery()) {
				while (result.next()) {
					LeaseMode mode = EXCLUSIVE_SLOT.equals(result.getString(2)) ? LeaseMode.EXCLUSIVE
							: (result.getInt(5) == SHARED_PERMITS) ? LeaseMode.SHARED : LeaseMode.SEMAPHORE;
					String owner = result.getString(3);
					rows.add(new LeaseRow(result.getString(1), mode, (owner != null) ? owner : "", result.getLong(4),
							result.getInt(5), Math.max(0, result.getLong(6)), result.getString(7)));
				}
			}
		}
		return rows;
	}

	/**
	 * Runs a permit's insert whose result set answers the fencing token it drew
	 * (PostgreSQL's {@code RETURNING}, H2's {@code FINAL TABLE}), with the parameters
	 * key, slot, token, owner, limit, TTL in milliseconds and description.
	 */
	static long insertPermitReturningFencing(Connection connection, String sql, LeaseSpec lease, String owner)
			throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			statement.setString(3, lease.token());
			statement.setString(4, owner);
			statement.setInt(5, permitsColumn(lease));
			statement.setLong(6, lease.ttl().toMillis());
			statement.setString(7, lease.description());
			return firstLong(statement).orElseThrow();
		}
	}

	/**
	 * The {@code PERMITS} of a lease's row: a semaphore's limit, {@value #SHARED_PERMITS}
	 * for a shared lease.
	 */
	static int permitsColumn(LeaseSpec lease) {
		return (lease.mode() == LeaseMode.SHARED) ? SHARED_PERMITS : lease.permits();
	}

	static String slot(LeaseSpec lease) {
		return (lease.mode() == LeaseMode.EXCLUSIVE) ? EXCLUSIVE_SLOT : lease.token();
	}

	static int update(Connection connection, String sql, Object... parameters) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			for (int i = 0; i < parameters.length; i++) {
				statement.setObject(i + 1, parameters[i]);
			}
			return statement.executeUpdate();
		}
	}

	static OptionalLong firstLong(PreparedStatement statement) throws SQLException {
		try (ResultSet result = statement.executeQuery()) {
			return result.next() ? OptionalLong.of(result.getLong(1)) : OptionalLong.empty();
		}
	}

	/**
	 * The permits a semaphore holds, and the lowest and highest limit they were granted
	 * with.
	 */
	record Permits(int count, int lowestLimit, int highestLimit) {
	}

	/**
	 * One live lease, as inspection shows it.
	 */
	record LeaseRow(String key, LeaseMode mode, String owner, long fencingToken, int permits, long remainingMillis,
			@Nullable String description) {
	}

	/**
	 * What the renewal of an owner record answered.
	 *
	 * @param renewed whether the record was renewed; when not, it had expired, and every
	 * lease naming it is lost
	 * @param revoked the tokens of the leases naming the record that a force-release
	 * evicted
	 */
	record RecordRenewal(boolean renewed, Set<String> revoked) {
	}

}
