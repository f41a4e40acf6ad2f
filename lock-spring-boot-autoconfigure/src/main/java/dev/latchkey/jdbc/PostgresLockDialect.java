package dev.latchkey.jdbc;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

import dev.latchkey.LeaseSpec;

/**
 * PostgreSQL: {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE} takes a key only when its lease has expired, and
 * {@code RETURNING} answers the fencing token, drawn from the table's sequence. A release deletes the row and
 * announces the key with {@code pg_notify} in the same statement, which PostgreSQL delivers at commit to every
 * {@code LISTEN}ing application.
 */
final class PostgresLockDialect extends JdbcLockDialect {

	private final String acquireExclusive;

	private final String lockHead;

	private final String insertPermit;

	private final String release;

	private final String forceRelease;

	private final String renew;

	private final String channel;

	PostgresLockDialect(String table) {
		super(table);
		this.channel = channel(table);
		String sequence = table + "_FENCING";
		this.acquireExclusive = """
				INSERT INTO %1$s AS l (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT)
				VALUES (?, '', ?, ?, nextval('%2$s'), 1, now() + ? * INTERVAL '1 millisecond')
				ON CONFLICT (LOCK_KEY, SLOT) DO UPDATE SET TOKEN = excluded.TOKEN, OWNER = excluded.OWNER,
					FENCING = excluded.FENCING, EXPIRES_AT = excluded.EXPIRES_AT
				WHERE l.EXPIRES_AT <= now()
				RETURNING FENCING""".formatted(table, sequence);
		this.lockHead = """
				INSERT INTO %s AS l (LOCK_KEY, SLOT, FENCING, PERMITS, EXPIRES_AT) VALUES (?, '#', 0, ?, 'infinity')
				ON CONFLICT (LOCK_KEY, SLOT) DO UPDATE SET PERMITS = excluded.PERMITS""".formatted(table);
		this.insertPermit = """
				INSERT INTO %1$s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT)
				VALUES (?, ?, ?, ?, nextval('%2$s'), ?, now() + ? * INTERVAL '1 millisecond')
				RETURNING FENCING""".formatted(table, sequence);
		this.release = """
				WITH released AS (DELETE FROM %s WHERE LOCK_KEY = ? AND SLOT = ? AND TOKEN = ?
					RETURNING LOCK_KEY, EXPIRES_AT)
				SELECT COUNT(*) FILTER (WHERE EXPIRES_AT > now()), COUNT(pg_notify('%s', LOCK_KEY)) FROM released"""
			.formatted(table, this.channel);
		this.forceRelease = """
				WITH released AS (DELETE FROM %s WHERE LOCK_KEY = ? AND SLOT <> '#' RETURNING LOCK_KEY, EXPIRES_AT)
				SELECT COUNT(*) FILTER (WHERE EXPIRES_AT > now()), COUNT(pg_notify('%s', LOCK_KEY)),
					(SELECT nextval('%s')) FROM released"""
			.formatted(table, this.channel, sequence);
		this.renew = """
				UPDATE %s AS l SET EXPIRES_AT = now() + v.TTL * INTERVAL '1 millisecond'
				FROM unnest(?::varchar[], ?::varchar[], ?::varchar[], ?::bigint[]) AS v (LOCK_KEY, SLOT, TOKEN, TTL)
				WHERE l.LOCK_KEY = v.LOCK_KEY AND l.SLOT = v.SLOT AND l.TOKEN = v.TOKEN AND l.EXPIRES_AT > now()
				RETURNING l.TOKEN""".formatted(table);
	}

	/**
	 * The channel a table's releases are announced on: {@code latchkey_} and the table's name, lower case, with a
	 * schema's dot as an underscore.
	 * @param table the table name
	 * @return the channel name
	 */
	static String channel(String table) {
		return "latchkey_" + table.toLowerCase(java.util.Locale.ROOT).replace('.', '_');
	}

	String channel() {
		return this.channel;
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
	String remainingMillis() {
		return "CAST(FLOOR(EXTRACT(EPOCH FROM (EXPIRES_AT - now())) * 1000) AS BIGINT)";
	}

	@Override
	String schemaScript() {
		return "schema-postgresql.sql";
	}

	@Override
	OptionalLong acquireExclusive(Connection connection, LeaseSpec lease, String owner) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.acquireExclusive)) {
			statement.setString(1, lease.key());
			statement.setString(2, lease.token());
			statement.setString(3, owner);
			statement.setLong(4, lease.ttl().toMillis());
			return firstLong(statement);
		}
	}

	@Override
	OptionalLong lockSemaphoreHead(Connection connection, LeaseSpec lease) throws SQLException {
		update(connection, this.lockHead, lease.key(), lease.limit());
		return OptionalLong.empty();
	}

	@Override
	long insertPermit(Connection connection, LeaseSpec lease, String owner, OptionalLong headFencing)
			throws SQLException {
		return insertPermitReturningFencing(connection, this.insertPermit, lease, owner);
	}

	@Override
	boolean release(Connection connection, LeaseSpec lease) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.release)) {
			statement.setString(1, lease.key());
			statement.setString(2, slot(lease));
			statement.setString(3, lease.token());
			return firstLong(statement).orElse(0) > 0;
		}
	}

	@Override
	boolean forceRelease(Connection connection, String key) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(this.forceRelease)) {
			statement.setString(1, key);
			return firstLong(statement).orElse(0) > 0;
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

}
