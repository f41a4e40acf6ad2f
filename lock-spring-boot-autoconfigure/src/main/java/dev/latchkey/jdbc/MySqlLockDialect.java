package dev.latchkey.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.OptionalLong;

import dev.latchkey.LeaseSpec;

/**
 * MySQL and MariaDB: {@code INSERT ... ON DUPLICATE KEY UPDATE} takes a key only when its lease has expired. MySQL has
 * no sequences and no {@code RETURNING} on updates, so the fencing counter is a column of the kept row, and the
 * statement answers the token it granted through {@code LAST_INSERT_ID(expr)}, which the server sends back with the
 * statement's result (JDBC's generated key): the token when the statement granted the key, 0 when it did not. Times
 * are {@code UTC_TIMESTAMP(3)}, so the session's time zone does not matter.
 * <p>
 * The assignments of {@code ON DUPLICATE KEY UPDATE} run left to right and see the values assigned before them, so
 * {@code EXPIRES_AT}, which every condition reads, is assigned last.
 */
final class MySqlLockDialect extends JdbcLockDialect {

	private static final String NOW = "UTC_TIMESTAMP(3)";

	private final String acquireExclusive;

	private final String lockHead;

	private final String insertPermit;

	private final String releaseExclusive;

	private final String releasePermit;

	private final String forceReleaseExclusive;

	private final String forceReleasePermits;

	MySqlLockDialect(String table) {
		super(table);
		String expired = "EXPIRES_AT <= " + NOW;
		this.acquireExclusive = """
				INSERT INTO %1$s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT)
				VALUES (?, '', ?, ?, LAST_INSERT_ID(1), 1, %2$s)
				ON DUPLICATE KEY UPDATE
					FENCING = IF(%3$s, LAST_INSERT_ID(FENCING + 1), FENCING + LAST_INSERT_ID(0)),
					TOKEN = IF(%3$s, VALUES(TOKEN), TOKEN),
					OWNER = IF(%3$s, VALUES(OWNER), OWNER),
					EXPIRES_AT = IF(%3$s, VALUES(EXPIRES_AT), EXPIRES_AT)""".formatted(table, nowPlus("?"), expired);
		this.lockHead = """
				INSERT INTO %s (LOCK_KEY, SLOT, FENCING, PERMITS, EXPIRES_AT)
				VALUES (?, '#', LAST_INSERT_ID(1), ?, '9999-12-31 23:59:59')
				ON DUPLICATE KEY UPDATE FENCING = LAST_INSERT_ID(FENCING + 1), PERMITS = VALUES(PERMITS)"""
			.formatted(table);
		this.insertPermit = """
				INSERT INTO %s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT)
				VALUES (?, ?, ?, ?, ?, ?, %s)""".formatted(table, nowPlus("?"));
		// The exclusive row keeps its fencing counter when released: it is emptied, not deleted.
		this.releaseExclusive = """
				UPDATE %s SET TOKEN = NULL, OWNER = NULL, EXPIRES_AT = '1970-01-01 00:00:01'
				WHERE LOCK_KEY = ? AND SLOT = '' AND TOKEN = ? AND EXPIRES_AT > %s""".formatted(table, NOW);
		this.releasePermit = "DELETE FROM %s WHERE LOCK_KEY = ? AND SLOT = ? AND TOKEN = ? AND EXPIRES_AT > %s"
			.formatted(table, NOW);
		// Bumping the counter of an evicted lease fences its holder off: the next grant's token skips one.
		this.forceReleaseExclusive = """
				UPDATE %s SET TOKEN = NULL, OWNER = NULL, FENCING = FENCING + 1, EXPIRES_AT = '1970-01-01 00:00:01'
				WHERE LOCK_KEY = ? AND SLOT = '' AND EXPIRES_AT > %s""".formatted(table, NOW);
		this.forceReleasePermits = "DELETE FROM %s WHERE LOCK_KEY = ? AND SLOT <> '' AND SLOT <> '#' AND EXPIRES_AT > %s"
			.formatted(table, NOW);
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
	String remainingMillis() {
		return "TIMESTAMPDIFF(MICROSECOND, " + NOW + ", EXPIRES_AT) DIV 1000";
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
			statement.executeUpdate();
			long fencingToken = insertId(statement);
			return (fencingToken > 0) ? OptionalLong.of(fencingToken) : OptionalLong.empty();
		}
	}

	@Override
	OptionalLong lockSemaphoreHead(Connection connection, LeaseSpec lease) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.lockHead,
				Statement.RETURN_GENERATED_KEYS)) {
			statement.setString(1, lease.key());
			statement.setInt(2, lease.limit());
			statement.executeUpdate();
			return OptionalLong.of(insertId(statement));
		}
	}

	@Override
	long insertPermit(Connection connection, LeaseSpec lease, String owner, OptionalLong headFencing)
			throws SQLException {
		long fencingToken = headFencing.orElseThrow();
		update(connection, this.insertPermit, lease.key(), lease.token(), lease.token(), owner, fencingToken,
				lease.limit(), lease.ttl().toMillis());
		return fencingToken;
	}

	@Override
	boolean release(Connection connection, LeaseSpec lease) throws SQLException {
		if (EXCLUSIVE_SLOT.equals(slot(lease))) {
			return update(connection, this.releaseExclusive, lease.key(), lease.token()) > 0;
		}
		return update(connection, this.releasePermit, lease.key(), lease.token(), lease.token()) > 0;
	}

	@Override
	boolean forceRelease(Connection connection, String key) throws SQLException {
		boolean exclusive = update(connection, this.forceReleaseExclusive, key) > 0;
		int permits = update(connection, this.forceReleasePermits, key);
		// Permits draw their tokens from the head row: bump it too, so that the next permit's token is higher.
		update(connection, "UPDATE " + this.table + " SET FENCING = FENCING + 1 WHERE LOCK_KEY = ? AND SLOT = '#'", key);
		return exclusive || permits > 0;
	}

	private static long insertId(Statement statement) throws SQLException {
		try (ResultSet keys = statement.getGeneratedKeys()) {
			return keys.next() ? keys.getLong(1) : 0;
		}
	}

}
