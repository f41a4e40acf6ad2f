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

import dev.latchkey.LeaseSpec;

/**
 * PostgreSQL: {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE} takes a key only when
 * its lease has expired, and {@code RETURNING} answers the fencing token, drawn from the
 * table's sequence once the key's row is locked. A release empties the row and announces
 * the key with {@code pg_notify} in the same statement, which PostgreSQL delivers at
 * commit to every {@code LISTEN}ing application.
 */
final class PostgresLockDialect extends JdbcLockDialect {

	private static final String PAST = "TIMESTAMPTZ '1970-01-01 00:00:01Z'";

	private final String acquireExclusive;

	private final String acquireExclusiveAll;

	private final String insertKeyRow;

	private final String insertPermit;

	private final String releaseExclusive;

	private final String deletePermit;

	private final String fenceOff;

	private final String renew;

	private final String channel;

	PostgresLockDialect(String table) {
		super(table);
		this.channel = channel(table);
		String sequence = table + "_FENCING";
		// The token of a takeover is drawn in SET, which runs only once the row is locked
		// and found expired: a statement that waited for another transaction on the row
		// draws after that transaction's grant. The one in VALUES serves only the very
		// first grant of a key, since the key's row is never deleted afterwards.
		this.acquireExclusive = """
				INSERT INTO %1$s AS l (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
				VALUES (?, '', ?, ?, nextval('%2$s'), 1, now() + ? * INTERVAL '1 millisecond', ?)
				ON CONFLICT (LOCK_KEY, SLOT) DO UPDATE SET TOKEN = excluded.TOKEN, OWNER = excluded.OWNER,
					FENCING = nextval('%2$s'), EXPIRES_AT = excluded.EXPIRES_AT, DESCRIPTION = excluded.DESCRIPTION
				WHERE l.EXPIRES_AT <= now()
				RETURNING FENCING""".formatted(table, sequence);
		// The same upsert for several keys in one statement: rows are locked in the order
		// of the arrays (the keys' order), and a key that is held is left out of
		// RETURNING.
		this.acquireExclusiveAll = """
				INSERT INTO %1$s AS l (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
				SELECT v.LOCK_KEY, '', v.TOKEN, v.OWNER, nextval('%2$s'), 1, now() + v.TTL * INTERVAL '1 millisecond',
					v.DESCRIPTION
				FROM unnest(?::varchar[], ?::varchar[], ?::varchar[], ?::bigint[], ?::varchar[]) WITH ORDINALITY
					AS v (LOCK_KEY, TOKEN, OWNER, TTL, DESCRIPTION, N)
				ORDER BY v.N
				ON CONFLICT (LOCK_KEY, SLOT) DO UPDATE SET TOKEN = excluded.TOKEN, OWNER = excluded.OWNER,
					FENCING = nextval('%2$s'), EXPIRES_AT = excluded.EXPIRES_AT, DESCRIPTION = excluded.DESCRIPTION
				WHERE l.EXPIRES_AT <= now()
				RETURNING LOCK_KEY, FENCING""".formatted(table, sequence);
		this.insertKeyRow = """
				INSERT INTO %s (LOCK_KEY, SLOT, FENCING, PERMITS, EXPIRES_AT) VALUES (?, '', 0, 1, %s)
				ON CONFLICT (LOCK_KEY, SLOT) DO NOTHING""".formatted(table, PAST);
		this.insertPermit = """
				INSERT INTO %1$s (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT, DESCRIPTION)
				VALUES (?, ?, ?, ?, nextval('%2$s'), ?, now() + ? * INTERVAL '1 millisecond', ?)
				RETURNING FENCING""".formatted(table, sequence);
		this.releaseExclusive = """
				WITH released AS (UPDATE %s SET TOKEN = NULL, OWNER = NULL, DESCRIPTION = NULL, EXPIRES_AT = %s
					WHERE LOCK_KEY = ? AND SLOT = '' AND TOKEN = ? AND EXPIRES_AT > now() RETURNING LOCK_KEY)
				SELECT COUNT(pg_notify('%s', LOCK_KEY)) FROM released""".formatted(table, PAST, this.channel);
		this.deletePermit = """
				WITH released AS (DELETE FROM %s WHERE LOCK_KEY = ? AND SLOT = ? AND TOKEN = ?
					RETURNING LOCK_KEY, EXPIRES_AT)
				SELECT COUNT(*) FILTER (WHERE EXPIRES_AT > now()), COUNT(pg_notify('%s', LOCK_KEY)) FROM released"""
			.formatted(table, this.channel);
		this.fenceOff = "SELECT nextval('%s'), pg_notify('%s', ?)".formatted(sequence, this.channel);
		this.renew = """
				UPDATE %s AS l SET EXPIRES_AT = now() + v.TTL * INTERVAL '1 millisecond'
				FROM unnest(?::varchar[], ?::varchar[], ?::varchar[], ?::bigint[]) AS v (LOCK_KEY, SLOT, TOKEN, TTL)
				WHERE l.LOCK_KEY = v.LOCK_KEY AND l.SLOT = v.SLOT AND l.TOKEN = v.TOKEN AND l.EXPIRES_AT > now()
				RETURNING l.TOKEN""".formatted(table);
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
			statement.setString(5, lease.description());
			return firstLong(statement);
		}
	}

	/**
	 * One statement for every key: the acquire's upsert over arrays of the leases.
	 */
	@Override
	Map<String, Long> acquireExclusiveAll(Connection connection, List<LeaseSpec> leases, List<String> owners)
			throws SQLException {
		String[] keys = new String[leases.size()];
		String[] tokens = new String[leases.size()];
		Long[] ttls = new Long[leases.size()];
		String[] descriptions = new String[leases.size()];
		for (int i = 0; i < keys.length; i++) {
			keys[i] = leases.get(i).key();
			tokens[i] = leases.get(i).token();
			ttls[i] = leases.get(i).ttl().toMillis();
			descriptions[i] = leases.get(i).description();
		}
		Map<String, Long> granted = new HashMap<>();
		try (PreparedStatement statement = connection.prepareStatement(this.acquireExclusiveAll)) {
			Array[] arrays = { connection.createArrayOf("varchar", keys), connection.createArrayOf("varchar", tokens),
					connection.createArrayOf("varchar", owners.toArray()), connection.createArrayOf("bigint", ttls),
					connection.createArrayOf("varchar", descriptions) };
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

}
