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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.support.SQLExceptionSubclassTranslator;
import org.springframework.jdbc.support.SQLExceptionTranslator;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.util.Assert;
import org.springframework.util.ClassUtils;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockInfo;
import dev.latchkey.LockPermitsConflictException;
import dev.latchkey.LockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.support.BoundedMemory;
import dev.latchkey.support.OwnerRecordLeases;
import dev.latchkey.support.ReleaseListeners;

/**
 * The JDBC backend: locks kept in a table of the application's own database (PostgreSQL,
 * MySQL, MariaDB or H2), through its {@link DataSource}.
 *
 * <pre class="code">
 * JdbcLockRepository repository = new JdbcLockRepository(dataSource);
 * repository.checkSchema(512);
 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults());
 * locks.exclusive("order:42").run(() -&gt; pay(42));
 * </pre>
 * <p>
 * Each lease is a row of the lock table (by default {@value #DEFAULT_TABLE_NAME}; the
 * scripts {@code dev/latchkey/jdbc/schema-<platform>.sql} create it). Acquiring an
 * exclusive lease is one statement, an upsert that inserts the key's row or takes it over
 * only when its lease has expired and draws the fencing token in the same statement;
 * releasing is one statement that empties the row only if the token still matches;
 * renewing every held lease is one statement. A semaphore permit is a row of its own,
 * granted in a short transaction that locks the key's row and reserves it for the
 * semaphore, so the limit holds however many instances race and an exclusive acquire
 * finds the key held. A permit with another limit than the key's holders' throws
 * {@link LockPermitsConflictException}. Contention is a normal answer of the statement,
 * never a caught duplicate-key error.
 * <p>
 * The database's clock decides expiry ({@code now()}, {@code UTC_TIMESTAMP(3)},
 * {@code CURRENT_TIMESTAMP}); the application's clock never enters a statement, so hosts
 * whose clocks disagree still exclude each other.
 * <p>
 * Every statement runs on a connection of its own, taken from the {@link DataSource}
 * directly and never from a transaction bound to the calling thread: a rollback of the
 * caller's transaction cannot release a lock, nor can its commit keep one. Waiting holds
 * no connection. On PostgreSQL a release is announced with {@code NOTIFY}, and one
 * connection per repository (opened when the first waiter subscribes) listens; an
 * exclusive release wakes the instance that has waited longest for the key (its place in
 * the key's wake line), not every one. On the other databases waiters of other instances
 * poll with backoff and jitter, and waiters of this one are woken by its own releases.
 * <p>
 * Database failures (no connection within the pool's timeout, a missing table, a database
 * that is down) are thrown as {@link LockBackendException}. Close the repository to stop
 * its notification listener and its expiry sweep, whose threads are named
 * {@value #DEFAULT_THREAD_NAME_PREFIX} unless the application gives a thread factory.
 * <p>
 * On PostgreSQL, MySQL and MariaDB an exclusive lease names the repository's <em>owner
 * record</em> of its TTL (on PostgreSQL a row of the same table, {@code LOCK_KEY} empty;
 * on MySQL and MariaDB a row of the table named after the lock table with {@code _OWNERS}
 * appended), and is held while that record lives: renewing every such lease is one call
 * per TTL class, however many are held. A lease the core stops renewing is given back by
 * the repository's sweep once its TTL has passed; a force-release leaves a revocation
 * that the holder's next renewal reports; a record that expired (its holder paused past
 * the TTL) is never renewed again, and every lease that named it is lost.
 *
 * @since 0.1.0
 */
public class JdbcLockRepository implements LockRepository, AutoCloseable {

	/**
	 * The lock table's name when none is given.
	 */
	public static final String DEFAULT_TABLE_NAME = "LATCHKEY_LOCKS";

	/**
	 * The name prefix of the thread the repository makes on PostgreSQL when no thread
	 * factory is given.
	 */
	public static final String DEFAULT_THREAD_NAME_PREFIX = "latchkey-jdbc-notifications-";

	private static final String BACKEND = "jdbc";

	private static final int OWNER_COLUMN_LENGTH = 255;

	private static final int MAX_ROWS_PER_RENEWAL = 5_000;

	// How many times a statement (or transaction) is sent when the database aborts it to
	// break a deadlock: the database lets one of the statements in the cycle through, so
	// a second try is not in the same cycle again.
	private static final int MAX_ATTEMPTS_AFTER_DEADLOCK = 3;

	private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

	private static final String POSTGRES_DRIVER = "org.postgresql.PGConnection";

	private static final LogAccessor logger = new LogAccessor(JdbcLockRepository.class);

	private final DataSource dataSource;

	private final String tableName;

	private final SQLExceptionTranslator exceptionTranslator = new SQLExceptionSubclassTranslator();

	private final ReleaseListeners listeners = new ReleaseListeners();

	// The writer waits this repository recorded and has not withdrawn: token, and when
	// the wait was last written (System.nanoTime()).
	private final Map<String, Long> writerWaits = new ConcurrentHashMap<>();

	private final ThreadFactory threadFactory;

	// This repository's name in the wake lines of the keys it waits for (PostgreSQL), and
	// the address of the release notifications that wake it.
	private final String instance = UUID.randomUUID().toString();

	// The keys a waiting caller of this instance was refused on, until a grant finds no
	// other instance waiting (PostgreSQL): their attempts and releases use the wake line.
	// At most 10,000: forgotten keys are released to every instance, and join again when
	// refused.
	private final BoundedMemory<String, Boolean> contendedKeys = new BoundedMemory<>(10_000);

	// The keys whose last grant or hand-over here found another instance in the wake
	// line (PostgreSQL): no hand-over is tried until a grant finds none. At most 10,000:
	// for a forgotten key a hand-over is tried, and refused while another waits.
	private final BoundedMemory<String, Boolean> othersWaiting = new BoundedMemory<>(10_000);

	// PostgreSQL, MySQL, MariaDB: the owner records of this repository and the
	// exclusive leases that name them.
	private final OwnerRecordLeases<OwnerRecordLeases.Held> held;

	private volatile boolean ownerRecords = true;

	private volatile @Nullable JdbcLockDialect dialect;

	private @Nullable PostgresReleaseNotifier notifier;

	private boolean closed;

	/**
	 * Makes a repository on the table {@value #DEFAULT_TABLE_NAME}.
	 * @param dataSource the application's data source
	 */
	public JdbcLockRepository(DataSource dataSource) {
		this(dataSource, DEFAULT_TABLE_NAME);
	}

	/**
	 * Makes a repository on a table of the given name.
	 * @param dataSource the application's data source
	 * @param tableName the lock table's name, optionally qualified by its schema
	 * ({@code locks.LATCHKEY_LOCKS})
	 * @throws IllegalArgumentException if the name is not a plain SQL identifier
	 */
	public JdbcLockRepository(DataSource dataSource, String tableName) {
		this(dataSource, tableName, defaultThreadFactory());
	}

	/**
	 * Makes a repository on a table of the given name whose PostgreSQL release listener
	 * runs on a thread of the application's thread factory.
	 *
	 * <pre class="code">
	 * ThreadFactory threads = new CustomizableThreadFactory("locks-");
	 * JdbcLockRepository repository = new JdbcLockRepository(dataSource, "LATCHKEY_LOCKS", threads);
	 * </pre>
	 * @param dataSource the application's data source
	 * @param tableName the lock table's name, optionally qualified by its schema
	 * ({@code locks.LATCHKEY_LOCKS})
	 * @param threadFactory makes the two threads the repository runs on PostgreSQL, the
	 * release listener (from the first waiter on) and the expiry sweep of the leases on
	 * owner records (from the first such lease on), which {@link #close()} stops
	 * @throws IllegalArgumentException if the name is not a plain SQL identifier
	 */
	public JdbcLockRepository(DataSource dataSource, String tableName, ThreadFactory threadFactory) {
		Assert.notNull(dataSource, "DataSource must not be null");
		Assert.notNull(threadFactory, "ThreadFactory must not be null");
		checkTableName(tableName);
		this.dataSource = dataSource;
		this.tableName = tableName;
		this.threadFactory = threadFactory;
		this.held = new OwnerRecordLeases<>(JdbcLockRepository.class, "JDBC", threadFactory, this::releaseExpired);
	}

	private static ThreadFactory defaultThreadFactory() {
		CustomizableThreadFactory threads = new CustomizableThreadFactory(DEFAULT_THREAD_NAME_PREFIX);
		threads.setDaemon(true);
		return threads;
	}

	/**
	 * Checks that a lock table's name is a plain SQL identifier, optionally qualified by
	 * a schema: letters, digits and underscores, not starting with a digit, at most 63
	 * characters per part (so that the sequence's and the notification channel's names
	 * derived from it are valid too). Nothing is quoted, so the name cannot smuggle SQL.
	 * @param tableName the name to check
	 * @throws IllegalArgumentException if it is not such a name
	 */
	public static void checkTableName(String tableName) {
		Assert.isTrue(tableName != null && !tableName.isEmpty(), "The lock table's name must not be empty");
		String[] parts = tableName.split("\\.", -1);
		boolean valid = parts.length <= 2;
		for (String part : parts) {
			valid = valid && IDENTIFIER.matcher(part).matches();
		}
		// The sequence appends "_FENCING" to the table's name.
		valid = valid && parts[parts.length - 1].length() <= 63 - "_FENCING".length();
		Assert.isTrue(valid, () -> "'" + tableName + "' is not a valid lock table name: use letters, digits and"
				+ " underscores, optionally qualified by a schema (schema.table), at most 55 characters for the table");
	}

	/**
	 * Sets whether exclusive leases on PostgreSQL, MySQL and MariaDB name this
	 * repository's owner record, so that renewing them all is one call per TTL class
	 * ({@code true} by default). Turn it off while instances of a version before owner
	 * records share the table, as in a rolling upgrade: they judge a lease by its row's
	 * expiry alone, and would take over a lease held longer than its TTL. Leases keep
	 * their own expiry then, renewed 5,000 per statement. Set it before the first
	 * acquisition.
	 *
	 * <pre class="code">
	 * JdbcLockRepository repository = new JdbcLockRepository(dataSource);
	 * repository.setOwnerRecords(false); // until every instance runs this version
	 * </pre>
	 * @param ownerRecords whether exclusive leases name an owner record
	 */
	public void setOwnerRecords(boolean ownerRecords) {
		this.ownerRecords = ownerRecords;
	}

	/**
	 * The lock table's name.
	 * @return the table name
	 */
	public String getTableName() {
		return this.tableName;
	}

	/**
	 * Fails, with the statement that adds it, when the lock table lacks a column that an
	 * earlier version's script did not make, rather than at the first acquisition.
	 * @param column the column's name
	 * @param type its SQL type, for the statement that adds it
	 * @param holds what it holds, for the message
	 */
	private void checkAddedColumn(JdbcLockDialect dialect, String column, String type, String holds) {
		requireSchema("SELECT " + column + " FROM " + this.tableName + " WHERE 1 = 0",
				(ex) -> new LockConfigurationException(
						"The lock table " + this.tableName + " lacks the " + column + " column, which holds " + holds
								+ "; it was made by an earlier version of Latchkey (" + dialect.name() + " said: "
								+ ex.getMessage() + ")",
						"Add the column: ALTER TABLE " + this.tableName + " ADD COLUMN " + column + " " + type
								+ " (in a Flyway or Liquibase migration, or by hand)",
						ex));
	}

	/**
	 * Checks that the table of the owner records exists, where the records are not rows
	 * of the lock table (MySQL and MariaDB): every statement that judges an exclusive
	 * lease reads it.
	 */
	private void checkOwnersTable(JdbcLockDialect dialect, String owners) {
		requireSchema("SELECT RECORD, TOKEN, OWNER, EXPIRES_AT FROM " + owners + " WHERE 1 = 0",
				(ex) -> new LockConfigurationException("The table " + owners
						+ " of the lock table's owner records does not exist, or lacks Latchkey's columns; a lock"
						+ " table made by an earlier version of Latchkey comes without it (" + dialect.name()
						+ " said: " + ex.getMessage() + ")",
						"Create it with the second statement of the script classpath:dev/latchkey/jdbc/"
								+ dialect.schemaScript()
								+ " (in a Flyway or Liquibase migration, or by setting latchkey.jdbc.initialize-schema=always)",
						ex));
	}

	/**
	 * Runs a query that selects nothing from what the schema must have: a failure to
	 * connect fails as the backend does, any other is the schema's, as {@code missing}
	 * describes it.
	 */
	private void requireSchema(String query, Function<SQLException, LockConfigurationException> missing) {
		try (Connection connection = this.dataSource.getConnection();
				PreparedStatement statement = connection.prepareStatement(query);
				ResultSet result = statement.executeQuery()) {
			// What it selects is there.
		}
		catch (SQLException ex) {
			if (isTransientConnectionFailure(ex) || isRefusedLogin(ex)) {
				throw failure("check the lock table", null, ex);
			}
			throw missing.apply(ex);
		}
	}

	@Override
	public String backend() {
		return BACKEND;
	}

	/**
	 * Checks, at startup, that the database is reachable and supported, that the lock
	 * table exists with every column (a table made by an earlier version lacks
	 * {@code DESCRIPTION}, or on PostgreSQL, MySQL and MariaDB {@code RECORD}, which the
	 * message says how to add), on MySQL and MariaDB that the table of its owner records
	 * (the table named after the lock table with {@code _OWNERS} appended) exists, and
	 * that its key column holds keys of the given length.
	 * @param maxKeyLength the longest key the application may use, prefix included
	 * @throws LockConfigurationException if the table or a column is missing or its key
	 * column is too short, or the database is not supported
	 * @throws LockBackendException if the database cannot be reached
	 */
	public void checkSchema(int maxKeyLength) {
		JdbcLockDialect dialect = dialect();
		int keyColumnLength;
		try (Connection connection = this.dataSource.getConnection();
				PreparedStatement statement = connection
					.prepareStatement("SELECT LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT FROM "
							+ this.tableName + " WHERE 1 = 0");
				ResultSet result = statement.executeQuery()) {
			keyColumnLength = result.getMetaData().getPrecision(1);
		}
		catch (SQLException ex) {
			if (isTransientConnectionFailure(ex) || isRefusedLogin(ex)) {
				throw failure("check the lock table", null, ex);
			}
			throw new LockConfigurationException(
					"The lock table " + this.tableName + " does not exist or lacks Latchkey's columns ("
							+ dialect.name() + " said: " + ex.getMessage() + ")",
					"Create it with the script classpath:dev/latchkey/jdbc/" + dialect.schemaScript()
							+ " (in a Flyway or Liquibase migration, or by setting latchkey.jdbc.initialize-schema=always),"
							+ " or set latchkey.jdbc.table-name to the table you created",
					ex);
		}
		checkAddedColumn(dialect, "DESCRIPTION", "VARCHAR(" + LeaseSpec.MAX_DESCRIPTION_LENGTH + ")",
				"the holders' descriptions");
		if (dialect.keepsOwnerRecords()) {
			checkAddedColumn(dialect, "RECORD", "VARCHAR(64)",
					"the owner record each exclusive lease names, which renews them all in one statement; while"
							+ " instances of the earlier version still take locks from the table, as in a rolling"
							+ " upgrade, set latchkey.jdbc.owner-records=false (they would take over a lease held"
							+ " longer than its TTL), and remove it once every instance runs this version");
		}
		String owners = dialect.ownersTable();
		if (owners != null) {
			checkOwnersTable(dialect, owners);
		}
		if (keyColumnLength > 0 && keyColumnLength < maxKeyLength) {
			throw new LockConfigurationException(
					"The lock table's LOCK_KEY column holds " + keyColumnLength
							+ " characters, but latchkey.max-key-length allows keys of " + maxKeyLength,
					"Lower latchkey.max-key-length to " + keyColumnLength + ", or widen " + this.tableName
							+ ".LOCK_KEY (and keep the primary key within the database's index size limit)");
		}
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL, MySQL and MariaDB the lease names this repository's owner record of
	 * its TTL, made by the first acquisition of that TTL (one call more, once).
	 */
	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		Assert.isTrue(lease.mode() == LeaseMode.EXCLUSIVE, "tryAcquire takes an exclusive lease");
		JdbcLockDialect dialect = dialect();
		if (dialect.keepsOwnerRecords()) {
			return acquireNamingRecord(List.of(lease), lease.key(), dialect,
					(record) -> inConnection("acquire", lease.key(), false,
							(connection) -> dialect.acquireExclusive(connection, lease, owner(lease), record)),
					OptionalLong::isPresent);
		}
		return inConnection("acquire", lease.key(), false,
				(connection) -> dialect.acquireExclusive(connection, lease, owner(lease)));
	}

	/**
	 * Sends one acquisition naming the owner record of its leases' TTL, tracking the
	 * leases from before it is sent, so that the sweep gives back a grant whose answer
	 * was lost.
	 * @param <T> the acquisition's answer
	 * @param leases the exclusive leases the acquisition asks for
	 * @param key their key, for errors; {@code null} for several keys
	 * @param acquisition sends the acquisition, naming the {@code SLOT} of the given
	 * record ({@code null}: the leases keep their own expiry)
	 * @param granted whether an answer grants the leases
	 * @return the acquisition's answer
	 */
	private <T> T acquireNamingRecord(List<LeaseSpec> leases, @Nullable String key, JdbcLockDialect dialect,
			Function<@Nullable String, T> acquisition, Predicate<T> granted) {
		OwnerRecordLeases.Record record = record(leases, key, dialect);
		if (record == null) {
			return acquisition.apply(null);
		}
		leases.forEach((lease) -> this.held.track(new OwnerRecordLeases.Held(lease, record)));
		T answer = acquisition.apply(record.name());
		boolean wasGranted = granted.test(answer);
		for (LeaseSpec lease : leases) {
			OwnerRecordLeases.Held entry = this.held.get(lease.token());
			if (!wasGranted) {
				this.held.forget(lease.token());
			}
			else if (entry != null) {
				entry.renewed();
			}
		}
		return answer;
	}

	/**
	 * The owner record the exclusive leases of one acquisition are to name, or
	 * {@code null} when they keep their own expiry: leases of different TTLs, or once the
	 * repository is closed (and its sweep stopped). Making the record fails as the
	 * acquisition would, with its key.
	 */
	private OwnerRecordLeases.@Nullable Record record(List<LeaseSpec> leases, @Nullable String key,
			JdbcLockDialect dialect) {
		long ttl = leases.get(0).ttl().toMillis();
		for (LeaseSpec lease : leases) {
			if (lease.mode() != LeaseMode.EXCLUSIVE || lease.ttl().toMillis() != ttl) {
				return null;
			}
		}
		if (!this.ownerRecords || this.held.isClosed()) {
			return null;
		}
		String owner = owner(leases.get(0));
		return this.held.record(ttl, dialect::newRecordName,
				(record) -> inConnection("acquire", key, false, (connection) -> {
					dialect.createRecord(connection, record.name(), owner, ttl);
					return null;
				}));
	}

	/**
	 * Gives back a lease whose local deadline passed without a renewal, if it is still
	 * the lease's: its owner record, kept alive for the other leases, would keep it held.
	 */
	private void releaseExpired(OwnerRecordLeases.Held entry) {
		LeaseSpec lease = entry.spec();
		JdbcLockDialect dialect = dialect();
		if (inConnection("release", lease.key(), false, (connection) -> dialect.releaseExclusive(connection, lease))) {
			this.listeners.released(lease.key());
		}
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * One transaction, committed when every key was granted and rolled back when one is
	 * held, so no other instance ever sees part of the keys taken: on PostgreSQL one
	 * statement for all keys (the exclusive acquire's upsert over arrays), elsewhere the
	 * exclusive acquire's statement for each key, stopping at the first that is held.
	 * Rows are locked in the keys' order, so two such transactions never wait for each
	 * other in a cycle. The transaction keeps the connection's isolation level (asking
	 * for it would cost PostgreSQL's driver a round trip): a transaction the database
	 * chose as a deadlock's or serialization failure's victim (SQLSTATE class 40) was
	 * rolled back whole, and is answered as refused.
	 */
	@Override
	public List<Long> tryAcquireAll(List<LeaseSpec> leases) {
		LockRepository.checkAll(leases);
		JdbcLockDialect dialect = dialect();
		List<LeaseSpec> ordered = leases.stream().sorted(Comparator.comparing(LeaseSpec::key)).toList();
		List<String> owners = ordered.stream().map(JdbcLockRepository::owner).toList();
		Map<String, Long> granted = dialect.keepsOwnerRecords()
				? acquireNamingRecord(ordered, null, dialect,
						(record) -> acquireAll(ordered,
								(connection) -> dialect.acquireExclusiveAll(connection, ordered, owners, record)),
						(all) -> all.size() == ordered.size())
				: acquireAll(ordered, (connection) -> dialect.acquireExclusiveAll(connection, ordered, owners));
		if (granted.size() != ordered.size()) {
			return List.of();
		}
		Map<String, Long> fencingTokens = granted;
		return leases.stream().map((lease) -> fencingTokens.get(lease.key())).toList();
	}

	/**
	 * Runs the acquisition of several keys in one transaction, committed when every key
	 * was granted and rolled back otherwise.
	 * @return the fencing token of each key granted, by key: all of them, or fewer when
	 * it was rolled back
	 */
	private Map<String, Long> acquireAll(List<LeaseSpec> ordered, ConnectionWork<Map<String, Long>> acquisition) {
		Map<String, Long> granted;
		try (Connection connection = this.dataSource.getConnection()) {
			boolean autoCommit = connection.getAutoCommit();
			try {
				connection.setAutoCommit(false);
				granted = acquisition.run(connection);
				if (granted.size() == ordered.size()) {
					connection.commit();
				}
				else {
					connection.rollback();
				}
			}
			catch (SQLException ex) {
				connection.rollback();
				if (ex.getSQLState() == null || !ex.getSQLState().startsWith("40")) {
					throw ex;
				}
				// A deadlock's or serialization failure's victim: rolled back whole.
				granted = Map.of();
			}
			catch (RuntimeException ex) {
				connection.rollback();
				throw ex;
			}
			finally {
				connection.setAutoCommit(autoCommit);
			}
		}
		catch (SQLException ex) {
			throw failure("acquire the locks", null, ex);
		}
		return granted;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL a refused caller records its writer wait and puts this instance in
	 * the key's wake line, so that a release wakes it (see
	 * {@link #wakesWaitersOfItsOwnReleases()}), and a grant withdraws both: one statement
	 * per attempt once this instance found the key contended, the plain acquire before.
	 * Elsewhere the acquire, and when refused a transaction that records the writer wait,
	 * on the first refusal and again once a third of the lease's time-to-live has passed.
	 */
	@Override
	public OptionalLong tryAcquireWaiting(LeaseSpec lease) {
		if (dialect() instanceof PostgresLockDialect postgres) {
			return tryAcquireWaiting(postgres, lease);
		}
		OptionalLong granted = tryAcquire(lease);
		if (granted.isPresent()) {
			if (this.writerWaits.remove(lease.token()) != null) {
				withdrawWait(lease);
			}
			return granted;
		}
		// The wait is written when first refused, and again once a third of its TTL has
		// passed: a refused attempt in between costs its one statement only, and the
		// wait never lapses while the writer keeps trying.
		long now = System.nanoTime();
		Long recorded = this.writerWaits.get(lease.token());
		if (recorded != null && now - recorded < lease.ttl().toNanos() / 3) {
			return granted;
		}
		JdbcLockDialect dialect = dialect();
		inConnection("record a writer wait on", lease.key(), true, (connection) -> {
			dialect.recordWriterWait(connection, lease);
			return null;
		});
		this.writerWaits.put(lease.token(), now);
		return granted;
	}

	/**
	 * A waiting caller's attempt on PostgreSQL. While this instance has not found the key
	 * contended, the exclusive acquire's plain statement, as for a single attempt:
	 * refused, a second statement records the writer wait and joins the wake line, and
	 * the key counts as contended. Then each attempt is the one statement that joins the
	 * line when refused and leaves it when granted; a grant that finds no other instance
	 * in the line makes the key uncontended again. A release of a contended key wakes the
	 * first instance in its line; of another, every instance (a release that finds nobody
	 * waiting pays nothing for the line).
	 */
	private OptionalLong tryAcquireWaiting(PostgresLockDialect postgres, LeaseSpec lease) {
		Assert.isTrue(lease.mode() == LeaseMode.EXCLUSIVE, "tryAcquireWaiting takes an exclusive lease");
		if (this.contendedKeys.contains(lease.key())) {
			PostgresLockDialect.WaitingGrant grant = acquireNamingRecord(List.of(lease), lease.key(), postgres,
					(record) -> inConnection("acquire", lease.key(), false, (connection) -> postgres
						.acquireExclusiveWaiting(connection, lease, owner(lease), record, this.instance)),
					(answer) -> answer.fencingToken().isPresent());
			if (grant.fencingToken().isEmpty()) {
				this.writerWaits.putIfAbsent(lease.token(), System.nanoTime());
				return grant.fencingToken();
			}
			this.writerWaits.remove(lease.token());
			if (!grant.othersWaiting()) {
				this.contendedKeys.remove(lease.key());
				this.othersWaiting.remove(lease.key());
			}
			else {
				this.othersWaiting.put(lease.key(), true);
			}
			return grant.fencingToken();
		}
		OptionalLong granted = tryAcquire(lease);
		if (granted.isPresent()) {
			if (this.writerWaits.remove(lease.token()) != null) {
				withdrawWait(lease);
			}
			return granted;
		}
		this.contendedKeys.put(lease.key(), true);
		inConnection("record a writer wait on", lease.key(), false, (connection) -> {
			postgres.joinWakeLine(connection, lease, this.instance);
			return null;
		});
		this.writerWaits.putIfAbsent(lease.token(), System.nanoTime());
		return granted;
	}

	@Override
	public void stopWaiting(LeaseSpec lease) {
		if (this.writerWaits.remove(lease.token()) != null) {
			withdrawWait(lease);
		}
	}

	private void withdrawWait(LeaseSpec lease) {
		JdbcLockDialect dialect = dialect();
		try {
			inConnection("withdraw the writer wait on", lease.key(), false, (connection) -> {
				if (dialect instanceof PostgresLockDialect postgres) {
					postgres.withdrawWaits(connection, lease, this.instance);
				}
				else {
					dialect.deleteWriterWait(connection, lease);
				}
				return null;
			});
		}
		catch (LockBackendException ex) {
			logger.debug(ex, () -> "Could not withdraw the writer wait on '" + lease.key()
					+ "'; it expires with its time-to-live");
		}
	}

	@Override
	public OptionalLong tryAcquireShared(LeaseSpec lease) {
		Assert.isTrue(lease.mode() == LeaseMode.SHARED, "tryAcquireShared takes a shared lease");
		JdbcLockDialect dialect = dialect();
		return inConnection("acquire a shared lease of", lease.key(), true, (connection) -> {
			if (dialect.lockKeyRow(connection, lease.key())) {
				return OptionalLong.empty();
			}
			dialect.deleteExpiredPermits(connection, lease.key());
			JdbcLockDialect.Permits permits = dialect.countPermits(connection, lease.key());
			if (permits.count() > 0 && permits.highestLimit() != JdbcLockDialect.SHARED_PERMITS) {
				// Held as a semaphore.
				return OptionalLong.empty();
			}
			if (dialect.writerWaits(connection, lease.key())) {
				return OptionalLong.empty();
			}
			return OptionalLong.of(dialect.grantPermit(connection, lease, owner(lease)));
		});
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		Assert.isTrue(lease.mode() == LeaseMode.SEMAPHORE, "tryAcquirePermit takes a shared lease");
		JdbcLockDialect dialect = dialect();
		return inConnection("acquire a permit of", lease.key(), true, (connection) -> {
			if (dialect.lockKeyRow(connection, lease.key())) {
				return OptionalLong.empty();
			}
			dialect.deleteExpiredPermits(connection, lease.key());
			JdbcLockDialect.Permits permits = dialect.countPermits(connection, lease.key());
			if (permits.count() > 0 && permits.lowestLimit() == JdbcLockDialect.SHARED_PERMITS) {
				// Held shared.
				return OptionalLong.empty();
			}
			if (permits.count() > 0
					&& (permits.lowestLimit() != lease.permits() || permits.highestLimit() != lease.permits())) {
				int held = (permits.lowestLimit() != lease.permits()) ? permits.lowestLimit() : permits.highestLimit();
				throw new LockPermitsConflictException(lease.key(), lease.permits(), held);
			}
			if (permits.count() >= lease.permits()) {
				return OptionalLong.empty();
			}
			return OptionalLong.of(dialect.grantPermit(connection, lease, owner(lease)));
		});
	}

	/**
	 * With owner records (PostgreSQL, MySQL, MariaDB) no limit: exclusive leases are
	 * renewed by their owner record, and the others in statements of at most 5,000
	 * leases, one after the other. Elsewhere at most 5,000 leases per renewal call: each
	 * lease is a row to update, and a call of 100,000 took PostgreSQL about a second,
	 * during which none of them was renewed.
	 */
	@Override
	public int renewalBatchSize() {
		// The dialect is known once a lease was granted: none is looked up here.
		JdbcLockDialect known = this.dialect;
		return (this.ownerRecords && known != null && known.keepsOwnerRecords()) ? Integer.MAX_VALUE
				: MAX_ROWS_PER_RENEWAL;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL, MySQL and MariaDB the exclusive leases this repository granted are
	 * renewed by their owner record: one call per TTL class renews the record (one
	 * statement on PostgreSQL, two on MySQL and MariaDB), and with it every such lease,
	 * and takes the force-releases of the class's leases. Other leases (shared leases,
	 * permits, leases of another repository, a lease whose TTL changed) are renewed row
	 * by row, 5,000 per statement, and a lease that named a record is moved off it then,
	 * to an expiry of its own.
	 */
	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		if (leases.isEmpty()) {
			return Set.of();
		}
		JdbcLockDialect dialect = dialect();
		if (dialect.keepsOwnerRecords()) {
			return renew(dialect, leases);
		}
		return renewRows(leases);
	}

	private Set<String> renew(JdbcLockDialect dialect, Collection<LeaseSpec> leases) {
		Set<String> lost = new HashSet<>();
		Map<OwnerRecordLeases.Record, List<OwnerRecordLeases.Held>> byRecord = new IdentityHashMap<>();
		List<LeaseSpec> oneByOne = new ArrayList<>();
		for (LeaseSpec lease : leases) {
			OwnerRecordLeases.Held entry = this.held.get(lease.token());
			if (entry == null || entry.record().ttlMillis() != lease.ttl().toMillis()) {
				oneByOne.add(lease);
			}
			else {
				byRecord.computeIfAbsent(entry.record(), (record) -> new ArrayList<>()).add(entry);
			}
		}
		byRecord.forEach((record, named) -> lost.addAll(renewRecord(dialect, record, named)));
		lost.addAll(renewOffRecords(oneByOne));
		return lost;
	}

	/**
	 * Renews leases row by row, in statements of at most {@value #MAX_ROWS_PER_RENEWAL},
	 * which moves them off their owner records, if they named one: tracked no longer.
	 * @return the tokens of those no longer held
	 */
	private Set<String> renewOffRecords(List<LeaseSpec> leases) {
		Set<String> lost = new HashSet<>();
		for (int from = 0; from < leases.size(); from += MAX_ROWS_PER_RENEWAL) {
			List<LeaseSpec> slice = leases.subList(from, Math.min(leases.size(), from + MAX_ROWS_PER_RENEWAL));
			lost.addAll(renewRows(slice));
			slice.forEach((lease) -> this.held.forget(lease.token()));
		}
		return lost;
	}

	/**
	 * Renews an owner record, and with it the given leases, which all name it. When the
	 * record is gone (nothing renewed it for its TTL, as when its instance held nothing
	 * of its TTL for a while), the leases are renewed row by row and leave it: one
	 * granted less than a TTL ago is held by its own expiry; the others are lost.
	 * @param entries the tracking entries of the leases, as {@link #renew} found them
	 * @return the tokens of those no longer held
	 */
	private Set<String> renewRecord(JdbcLockDialect dialect, OwnerRecordLeases.Record record,
			List<OwnerRecordLeases.Held> entries) {
		long sentAt = System.nanoTime();
		boolean one = entries.size() == 1;
		JdbcLockDialect.RecordRenewal renewal = inConnection(one ? "renew" : "renew " + entries.size() + " leases",
				one ? entries.get(0).spec().key() : null, false,
				(connection) -> dialect.renewRecord(connection, record.name(), record.ttlMillis()));
		if (!renewal.renewed()) {
			record.gone();
			return renewOffRecords(entries.stream().map(OwnerRecordLeases.Held::spec).toList());
		}
		return this.held.answered(record, entries, true, sentAt, renewal.revoked());
	}

	/**
	 * Renews leases row by row, in one transaction when permits are among them (their
	 * semaphores' reservations are extended first).
	 * @return the tokens of those no longer held
	 */
	private Set<String> renewRows(Collection<LeaseSpec> leases) {
		JdbcLockDialect dialect = dialect();
		String action = (leases.size() == 1) ? "renew" : "renew " + leases.size() + " leases";
		String key = (leases.size() == 1) ? leases.iterator().next().key() : null;
		List<LeaseSpec> permits = leases.stream().filter((lease) -> lease.mode() != LeaseMode.EXCLUSIVE).toList();
		return inConnection(action, key, false, (connection) -> {
			if (!permits.isEmpty()) {
				dialect.extendReservations(connection, permits);
			}
			return dialect.renew(connection, leases);
		});
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL the release of an exclusive lease of a contended key wakes the first
	 * instance of the key's wake line, with a notification addressed to it, or every
	 * instance when the line is empty; this instance's waiters are woken here when it is
	 * the one. A release of a key this instance has not found contended tells every
	 * instance, as one of another mode does.
	 */
	@Override
	public boolean release(LeaseSpec lease) {
		boolean released = releaseAtDatabase(lease);
		this.held.forget(lease.token());
		return released;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL, for a key this instance has found contended, one statement releases
	 * the lease as {@link #release(LeaseSpec)} does, records the waiter's writer wait,
	 * and, when the release wakes another instance, keeps this one in the key's wake
	 * line. Otherwise the lease is released as by {@link #release(LeaseSpec)}, which
	 * wakes this instance's waiters itself.
	 */
	@Override
	public boolean release(LeaseSpec lease, LeaseSpec waiter) {
		Assert.isTrue(waiter.mode() == LeaseMode.EXCLUSIVE && waiter.key().equals(lease.key()),
				"release(lease, waiter) takes the lease of an exclusive waiter of the same key");
		if (lease.mode() != LeaseMode.EXCLUSIVE || !(dialect() instanceof PostgresLockDialect postgres)
				|| !this.contendedKeys.contains(lease.key())) {
			return release(lease);
		}
		PostgresLockDialect.Release released = inConnection("release", lease.key(), false,
				(connection) -> postgres.releaseExclusive(connection, lease, waiter, this.instance));
		this.held.forget(lease.token());
		if (released == PostgresLockDialect.Release.NOT_HELD) {
			return false;
		}
		// Before the waiter is woken: its grant withdraws the wait.
		this.writerWaits.putIfAbsent(waiter.token(), System.nanoTime());
		if (released == PostgresLockDialect.Release.WAKE_HERE) {
			this.listeners.released(lease.key());
		}
		return true;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL, unless the last grant or hand-over of the key here found another
	 * instance waiting for it (see {@link #handOver}); elsewhere no: waiters of other
	 * instances poll there, and no line tells whether any waits.
	 */
	@Override
	public boolean handsOver(LeaseSpec lease) {
		return lease.mode() == LeaseMode.EXCLUSIVE && this.dialect instanceof PostgresLockDialect
				&& !this.othersWaiting.contains(lease.key());
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL one statement changes the key's row to the waiter's lease, with a new
	 * fencing token drawn from the table's sequence, only while the lease is held and no
	 * other instance is in the key's wake line: every waiting caller of another instance
	 * that was refused the key is in that line, so while one waits, the lease is released
	 * as usual and that instance woken. It sends no notification, as the key stays held.
	 * The waiter's lease names this repository's owner record of its TTL, as its own
	 * grant would.
	 */
	@Override
	public OptionalLong handOver(LeaseSpec lease, LeaseSpec waiter) {
		Assert.isTrue(lease.mode() == LeaseMode.EXCLUSIVE && waiter.mode() == LeaseMode.EXCLUSIVE
				&& waiter.key().equals(lease.key()), "handOver takes two exclusive leases of the same key");
		if (!handsOver(lease) || !(dialect() instanceof PostgresLockDialect postgres)) {
			return OptionalLong.empty();
		}
		OptionalLong handed = acquireNamingRecord(List.of(waiter), waiter.key(), postgres, (record) -> inConnection(
				"hand over", lease.key(), false,
				(connection) -> postgres.handOver(connection, lease, waiter, owner(waiter), record, this.instance)),
				OptionalLong::isPresent);
		if (handed.isEmpty()) {
			// Another instance waits (or the lease is lost): its release goes the wake
			// line's way, and so do the next ones until a grant finds nobody else in it.
			this.contendedKeys.put(lease.key(), true);
			this.othersWaiting.put(lease.key(), true);
			return handed;
		}
		this.held.forget(lease.token());
		this.writerWaits.remove(waiter.token());
		return handed;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL, yes (see {@link #release(LeaseSpec, LeaseSpec)}), once a request has
	 * found which database this is; elsewhere, and before that, no.
	 */
	@Override
	public boolean keepsWaitersInLine() {
		return this.dialect instanceof PostgresLockDialect;
	}

	private boolean releaseAtDatabase(LeaseSpec lease) {
		JdbcLockDialect dialect = dialect();
		if (lease.mode() == LeaseMode.EXCLUSIVE && dialect instanceof PostgresLockDialect postgres
				&& this.contendedKeys.contains(lease.key())) {
			PostgresLockDialect.Release released = inConnection("release", lease.key(), false,
					(connection) -> postgres.releaseExclusive(connection, lease, this.instance));
			if (released == PostgresLockDialect.Release.WAKE_HERE) {
				this.listeners.released(lease.key());
			}
			return released != PostgresLockDialect.Release.NOT_HELD;
		}
		boolean released = (lease.mode() == LeaseMode.EXCLUSIVE)
				? inConnection("release", lease.key(), false,
						(connection) -> dialect.releaseExclusive(connection, lease))
				: inConnection("release a permit of", lease.key(), true,
						(connection) -> dialect.releasePermit(connection, lease));
		if (released) {
			this.listeners.released(lease.key());
		}
		return released;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * On PostgreSQL: a release wakes one instance, the first in the key's wake line,
	 * which this one may be, and this repository then wakes its own waiters. Elsewhere a
	 * release wakes no other instance (their waiters poll), and the answer is
	 * {@code false}.
	 */
	@Override
	public boolean wakesWaitersOfItsOwnReleases() {
		return this.dialect instanceof PostgresLockDialect;
	}

	@Override
	public boolean forceRelease(String key) {
		JdbcLockDialect dialect = dialect();
		boolean evicted = inConnection("force-release", key, true,
				(connection) -> dialect.forceRelease(connection, key));
		if (evicted) {
			this.listeners.released(key);
		}
		return evicted;
	}

	@Override
	public Optional<LockInfo> inspect(String key) {
		JdbcLockDialect dialect = dialect();
		List<JdbcLockDialect.LeaseRow> rows = inConnection("inspect", key, false,
				(connection) -> dialect.leases(connection, key));
		return toInfos(rows).stream().findFirst();
	}

	@Override
	public List<LockInfo> list() {
		JdbcLockDialect dialect = dialect();
		return toInfos(
				inConnection("list the held keys", null, false, (connection) -> dialect.leases(connection, null)));
	}

	private static List<LockInfo> toInfos(List<JdbcLockDialect.LeaseRow> rows) {
		Map<String, List<JdbcLockDialect.LeaseRow>> byKey = new LinkedHashMap<>();
		for (JdbcLockDialect.LeaseRow row : rows) {
			byKey.computeIfAbsent(row.key(), (key) -> new ArrayList<>()).add(row);
		}
		List<LockInfo> infos = new ArrayList<>(byKey.size());
		byKey.forEach((key, leases) -> {
			// A key is held in one mode; should an exclusive lease and others exist, the
			// exclusive lease is shown.
			LeaseMode mode = leases.stream().anyMatch((row) -> row.mode() == LeaseMode.EXCLUSIVE) ? LeaseMode.EXCLUSIVE
					: leases.get(0).mode();
			List<LockInfo.Holder> holders = leases.stream()
				.filter((row) -> row.mode() == mode)
				.map((row) -> new LockInfo.Holder(row.owner(), row.fencingToken(),
						Duration.ofMillis(row.remainingMillis()), row.description()))
				.toList();
			infos.add(new LockInfo(key, mode, (mode == LeaseMode.SEMAPHORE) ? leases.get(0).permits() : 1, holders));
		});
		return infos;
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		ReleaseSubscription subscription = this.listeners.add(key, onRelease);
		if (dialect() instanceof PostgresLockDialect postgres) {
			PostgresReleaseNotifier notifier = notifier(postgres);
			if (notifier != null) {
				notifier.start();
			}
		}
		return subscription;
	}

	/**
	 * The release notifier, made on first use; none once the repository is closed
	 * (waiters poll then).
	 */
	private synchronized @Nullable PostgresReleaseNotifier notifier(PostgresLockDialect postgres) {
		if (this.notifier == null && !this.closed) {
			this.notifier = new PostgresReleaseNotifier(this.dataSource, postgres.channel(), this.instance,
					this.listeners, this.threadFactory);
		}
		return this.notifier;
	}

	/**
	 * Stops the PostgreSQL release listener and the expiry sweep, waiting for their
	 * threads to end. The leases on owner records are renewed no more.
	 */
	@Override
	public void close() {
		PostgresReleaseNotifier notifier;
		synchronized (this) {
			this.closed = true;
			notifier = this.notifier;
		}
		if (notifier != null) {
			notifier.close();
		}
		this.held.close();
	}

	/**
	 * The statements of the database behind the data source, found on first use.
	 */
	private JdbcLockDialect dialect() {
		JdbcLockDialect dialect = this.dialect;
		if (dialect == null) {
			String product = inConnection("connect to the database", null, false,
					(connection) -> connection.getMetaData().getDatabaseProductName());
			dialect = dialectOf(product);
			this.dialect = dialect;
		}
		return dialect;
	}

	private JdbcLockDialect dialectOf(String product) {
		String name = product.toLowerCase(Locale.ROOT);
		if (name.contains("postgres")) {
			if (!ClassUtils.isPresent(POSTGRES_DRIVER, getClass().getClassLoader())) {
				throw new LockConfigurationException("The database is PostgreSQL, but its JDBC driver is not visible",
						"Add the dependency org.postgresql:postgresql");
			}
			return new PostgresLockDialect(this.tableName);
		}
		if (name.contains("mysql") || name.contains("mariadb")) {
			return new MySqlLockDialect(this.tableName);
		}
		if ("h2".equals(name)) {
			return new H2LockDialect(this.tableName);
		}
		throw new LockConfigurationException(
				"Latchkey's JDBC backend does not support " + product
						+ " (it supports PostgreSQL, MySQL, MariaDB and H2)",
				"Use one of those databases, or set latchkey.backend to another backend");
	}

	private static String owner(LeaseSpec lease) {
		String owner = lease.owner();
		return (owner.length() <= OWNER_COLUMN_LENGTH) ? owner : owner.substring(0, OWNER_COLUMN_LENGTH);
	}

	/**
	 * Runs statements on a connection taken from the data source itself, never one bound
	 * to the calling thread's transaction; in a transaction of its own (read committed)
	 * when asked.
	 */
	private <T> T inConnection(String action, @Nullable String key, boolean transaction, ConnectionWork<T> work) {
		for (int attempt = 1;; attempt++) {
			try {
				return inConnectionOnce(transaction, work);
			}
			catch (SQLException ex) {
				if (attempt < MAX_ATTEMPTS_AFTER_DEADLOCK && isDeadlock(ex)) {
					// The database rolled the statement back, whole: sent again, it
					// decides afresh, as a first attempt would.
					logger.debug(ex, () -> "Deadlock of the statement to " + action + " a lock; sending it again");
					continue;
				}
				throw failure(action, key, ex);
			}
		}
	}

	private <T> T inConnectionOnce(boolean transaction, ConnectionWork<T> work) throws SQLException {
		try (Connection connection = this.dataSource.getConnection()) {
			boolean autoCommit = connection.getAutoCommit();
			if (!transaction) {
				try {
					T result = work.run(connection);
					if (!autoCommit) {
						connection.commit();
					}
					return result;
				}
				catch (SQLException ex) {
					if (!autoCommit) {
						connection.rollback();
					}
					throw ex;
				}
			}
			// Read only here: some drivers (PostgreSQL's) ask the database for it, a
			// round trip per call.
			int isolation = connection.getTransactionIsolation();
			try {
				connection.setAutoCommit(false);
				if (isolation != Connection.TRANSACTION_READ_COMMITTED) {
					connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
				}
				T result = work.run(connection);
				connection.commit();
				return result;
			}
			catch (SQLException | RuntimeException ex) {
				connection.rollback();
				throw ex;
			}
			finally {
				if (isolation != Connection.TRANSACTION_READ_COMMITTED) {
					connection.setTransactionIsolation(isolation);
				}
				connection.setAutoCommit(autoCommit);
			}
		}
	}

	/**
	 * A statement or transaction the database aborted to break a deadlock (PostgreSQL's
	 * SQLSTATE 40P01; MySQL's and MariaDB's 40001, which H2 also uses for a serialization
	 * failure): nothing of it was kept, so it can be sent again.
	 */
	private static boolean isDeadlock(SQLException ex) {
		String state = ex.getSQLState();
		return "40P01".equals(state) || "40001".equals(state);
	}

	private LockBackendException failure(String action, @Nullable String key, SQLException ex) {
		DataAccessException translated = this.exceptionTranslator.translate(action, null, ex);
		// The message says "the lock", never the key (which may be personal data): the
		// key is the exception's getKey(), and the template adds the lock's name.
		String what = (key != null) ? " the lock" : "";
		String cause = isTransientConnectionFailure(ex)
				? "no database connection (is the database up, and is the connection pool large enough?): " : "";
		return new LockBackendException(BACKEND, key,
				"Could not " + action + what + " in table " + this.tableName + ": " + cause + ex.getMessage(),
				(translated != null) ? translated : ex);
	}

	/**
	 * A login the database refused (SQLSTATE class 28: a wrong password, an unknown role)
	 * or a database that does not exist (3D): the table could not be looked at, which
	 * says nothing about whether it exists.
	 */
	private static boolean isRefusedLogin(SQLException ex) {
		String state = ex.getSQLState();
		return state != null && (state.startsWith("28") || state.startsWith("3D"));
	}

	private static boolean isTransientConnectionFailure(SQLException ex) {
		String state = ex.getSQLState();
		return ex instanceof java.sql.SQLTransientConnectionException
				|| ex instanceof java.sql.SQLNonTransientConnectionException
				|| (state != null && state.startsWith("08"));
	}

	@FunctionalInterface
	private interface ConnectionWork<T> {

		T run(Connection connection) throws SQLException;

	}

}
