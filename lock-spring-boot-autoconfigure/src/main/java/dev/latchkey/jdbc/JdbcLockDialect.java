package dev.latchkey.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;

/**
 * The statements of one database family. Each lease is one row of the lock table, keyed by {@code (LOCK_KEY, SLOT)}:
 * {@code SLOT} is {@value #EXCLUSIVE_SLOT} (empty) for an exclusive lease, the holder's token for a semaphore permit,
 * and {@value #HEAD_SLOT} for a semaphore's head row, which a permit's transaction locks to enforce the limit.
 * <p>
 * Every comparison with the current time is made by the database ({@link #now()}); the JVM's clock never enters a
 * statement. The subclasses differ in how a statement answers the fencing token it granted, and where fencing tokens
 * come from: a sequence (PostgreSQL, H2), or a column of the kept row (MySQL, MariaDB).
 */
abstract class JdbcLockDialect {

	static final String EXCLUSIVE_SLOT = "";

	static final String HEAD_SLOT = "#";

	/**
	 * The most leases one renewal statement names, where a statement names each lease (MySQL, H2).
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
	 * The SQL expression of the database's current time plus a number of milliseconds given by one parameter.
	 * @param milliseconds the SQL expression of the milliseconds (a parameter marker or a {@code CASE})
	 * @return the expression
	 */
	abstract String nowPlus(String milliseconds);

	/**
	 * The SQL expression of the milliseconds until {@code EXPIRES_AT}.
	 * @return the expression
	 */
	abstract String remainingMillis();

	/**
	 * The schema script that creates the table for this database.
	 * @return the script's name, for example {@code schema-postgresql.sql}
	 */
	abstract String schemaScript();

	/**
	 * Inserts the exclusive row of a key, or takes it over if its lease has expired, in one statement.
	 * @return the fencing token of the grant, or empty when the key is held
	 */
	abstract OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner) throws SQLException;

	/**
	 * Creates or locks a semaphore's head row, inside the permit's transaction: until the transaction ends, no other
	 * permit of the key can be granted.
	 * @return the fencing token drawn by the head, or empty where the permit's insert draws it
	 */
	abstract OptionalLong lockSemaphoreHead(Connection connection, LeaseSpec lease) throws SQLException;

	/**
	 * Inserts a permit's row, inside the permit's transaction, after the head is locked and the limit checked.
	 * @return the fencing token of the grant
	 */
	abstract long insertPermit(Connection connection, LeaseSpec lease, String owner, OptionalLong headFencing)
			throws SQLException;

	/**
	 * Releases one lease if it is still held by its token.
	 * @return whether the lease was held
	 */
	abstract boolean release(Connection connection, LeaseSpec lease) throws SQLException;

	/**
	 * Releases every lease of a key, whoever holds it.
	 * @return whether a live lease was released
	 */
	abstract boolean forceRelease(Connection connection, String key) throws SQLException;

	/**
	 * Renews a batch of leases in one statement (one per {@value #MAX_RENEWAL_BATCH} leases), and a second only when
	 * some lease was lost, to tell which.
	 * @return the tokens of the leases that were no longer held
	 */
	Set<String> renew(Connection connection, Collection<LeaseSpec> leases) throws SQLException {
		List<LeaseSpec> all = List.copyOf(leases);
		if (all.size() <= MAX_RENEWAL_BATCH) {
			return renewBatch(connection, all);
		}
		// Thousands of held leases would make one statement of megabytes: a statement per slice of them instead.
		Set<String> lost = new HashSet<>();
		for (int from = 0; from < all.size(); from += MAX_RENEWAL_BATCH) {
			lost.addAll(renewBatch(connection, all.subList(from, Math.min(all.size(), from + MAX_RENEWAL_BATCH))));
		}
		return lost;
	}

	private Set<String> renewBatch(Connection connection, List<LeaseSpec> batch) throws SQLException {
		String ttlByToken = batch.stream().map((lease) -> "WHEN ? THEN ?").collect(Collectors.joining(" ", "CASE TOKEN ", " END"));
		String rows = batch.stream().map((lease) -> "(LOCK_KEY = ? AND SLOT = ? AND TOKEN = ?)").collect(Collectors.joining(" OR "));
		String sql = "UPDATE " + this.table + " SET EXPIRES_AT = " + nowPlus(ttlByToken) + " WHERE (" + rows
				+ ") AND EXPIRES_AT > " + now();
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
		String sql = "SELECT TOKEN FROM " + this.table + " WHERE (" + rows + ") AND EXPIRES_AT > " + now();
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
	 * Counts the permits of a semaphore, inside the permit's transaction, after its expired permits were deleted.
	 */
	int countPermits(Connection connection, String key) throws SQLException {
		String sql = "SELECT COUNT(*) FROM " + this.table + " WHERE LOCK_KEY = ? AND SLOT <> '' AND SLOT <> '#'";
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, key);
			try (ResultSet result = statement.executeQuery()) {
				result.next();
				return result.getInt(1);
			}
		}
	}

	/**
	 * The live leases of one key, or of every key when {@code key} is {@code null}, ordered by key and fencing token.
	 */
	List<LeaseRow> leases(Connection connection, @org.jspecify.annotations.Nullable String key) throws SQLException {
		String sql = "SELECT LOCK_KEY, SLOT, OWNER, FENCING, PERMITS, " + remainingMillis() + " FROM " + this.table
				+ " WHERE SLOT <> '#' AND EXPIRES_AT > " + now() + ((key != null) ? " AND LOCK_KEY = ?" : "")
				+ " ORDER BY LOCK_KEY, FENCING";
		List<LeaseRow> rows = new ArrayList<>();
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			if (key != null) {
				statement.setString(1, key);
			}
			try (ResultSet result = statement.executeQuery()) {
				while (result.next()) {
					LeaseMode mode = EXCLUSIVE_SLOT.equals(result.getString(2)) ? LeaseMode.EXCLUSIVE : LeaseMode.SHARED;
					String owner = result.getString(3);
					rows.add(new LeaseRow(result.getString(1), mode, (owner != null) ? owner : "", result.getLong(4),
							result.getInt(5), Math.max(0, result.getLong(6))));
				}
			}
		}
		return rows;
	}

	/**
	 * Runs a permit's insert whose result set answers the fencing token it drew (PostgreSQL's {@code RETURNING}, H2's
	 * {@code FINAL TABLE}), with the parameters key, slot, token, owner, limit and TTL in milliseconds.
	 */
	static long insertPermitReturningFencing(Connection connection, String sql, LeaseSpec lease, String owner)
			throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			statement.setString(3, lease.token());
			statement.setString(4, owner);
			statement.setInt(5, lease.limit());
			statement.setLong(6, lease.ttl().toMillis());
			return firstLong(statement).orElseThrow();
		}
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
	 * One live lease, as inspection shows it.
	 */
	record LeaseRow(String key, LeaseMode mode, String owner, long fencingToken, int limit, long remainingMillis) {
	}

}
