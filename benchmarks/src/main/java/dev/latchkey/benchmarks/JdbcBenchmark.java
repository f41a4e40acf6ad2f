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

package dev.latchkey.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;
import net.javacrumbs.shedlock.provider.jdbctemplate.JdbcTemplateLockProvider;

import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.integration.jdbc.lock.DefaultLockRepository;
import org.springframework.integration.jdbc.lock.JdbcLockRegistry;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.util.StreamUtils;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.test.ForwardingLockRepository;

/**
 * The JDBC backend on PostgreSQL next to the floor of two raw JDBC statements, Spring
 * Integration's {@code JdbcLockRegistry} and ShedLock's {@code JdbcTemplateLockProvider},
 * against the same database, in one run.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.latchkey.benchmarks.JdbcBenchmark \
 *     [jdbc-url] [iterations] [hand-off rounds]
 * </pre>
 * <p>
 * Every contender gets its own table (created from the schema the library ships, under a
 * random name, and dropped at the end) and its own HikariCP pool. For each: single-thread
 * uncontended acquire+release latency (mean and percentiles), and the statements and
 * round trips the driver sends per acquire+release, counted in a separate pass of 1,000
 * operations through a small proxy between the driver and PostgreSQL that reads the wire
 * protocol. Then the throughput of 8 threads contending for one key, for the contenders
 * that wait (Latchkey's template and Spring Integration's registry). Then the hand-off: a
 * holder releases a key that a waiter of another pool (as another process would) is
 * waiting for; the latency is from just before the holder's release to just after the
 * waiter holds the key.
 */
public final class JdbcBenchmark {

	private static final int COUNTED_OPERATIONS = 1_000;

	private static final int TURNS = 10;

	private static final int CONTENDERS = 8;

	private static final Duration TTL = Duration.ofSeconds(30);

	/** How long the waiter waits, in each hand-off round, before the holder releases. */
	private static final long WAITER_HEAD_START_MILLIS = 20;

	private static final PrintStream out = System.out;

	private final String url;

	private final String suffix = UUID.randomUUID()
		.toString()
		.replace("-", "")
		.substring(0, 10)
		.toUpperCase(Locale.ROOT);

	private final List<HikariDataSource> pools = new ArrayList<>();

	private final List<AutoCloseable> closeables = new ArrayList<>();

	private final List<String> tables = new ArrayList<>();

	private final List<BenchmarkResult> results = new ArrayList<>();

	private final StatementCountingProxy proxy;

	private final HikariDataSource admin;

	private final Duration contendedRun;

	private JdbcBenchmark(String url, Duration contendedRun) throws IOException {
		this.url = url;
		this.contendedRun = contendedRun;
		this.proxy = new StatementCountingProxy(url);
		this.admin = pool(url, "admin");
	}

	public static void main(String[] args) throws Exception {
		String url = (args.length > 0) ? args[0] : System.getenv()
			.getOrDefault("LATCHKEY_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
		int iterations = (args.length > 1) ? Integer.parseInt(args[1]) : 5_000;
		int rounds = (args.length > 2) ? Integer.parseInt(args[2]) : 200;
		measure(url, iterations, rounds, Duration.ofSeconds(5), new ArrayList<>());
	}

	/**
	 * Runs every contender, printing the tables as {@link #main} does.
	 * @param url the PostgreSQL JDBC URL
	 * @param iterations the timed acquire+releases per contender
	 * @param rounds the hand-off rounds per contender, or 0 to leave the hand-off out
	 * @param contendedRun how long to count the throughput of 8 threads contending for
	 * one key, and the readers-heavy workload, or zero to leave both out
	 * @param readersHeavy where to add the readers-heavy figures of Latchkey
	 * @return each contender's uncontended and contended figures (the hand-off is printed
	 * only)
	 * @throws Exception if a contender fails
	 */
	static List<BenchmarkResult> measure(String url, int iterations, int rounds, Duration contendedRun,
			List<ReadersHeavy.Result> readersHeavy) throws Exception {
		JdbcBenchmark benchmark = new JdbcBenchmark(url, contendedRun);
		try {
			benchmark.run(iterations, rounds, readersHeavy);
			return benchmark.results;
		}
		finally {
			benchmark.close();
		}
	}

	private void run(int iterations, int rounds, List<ReadersHeavy.Result> readersHeavy) throws Exception {
		String version = new JdbcTemplate(this.admin).queryForObject("SHOW server_version", String.class);
		out.printf(Locale.ROOT, "PostgreSQL %s, %d iterations, %d hand-off rounds, JDK %s%n", version, iterations,
				rounds, System.getProperty("java.version"));
		String latchkeyTable = latchkeyTable("LKB_" + this.suffix, "schema-postgresql.sql");
		String unloggedTable = latchkeyTable("LKB_U_" + this.suffix, "schema-postgresql-unlogged.sql");
		String floorTable = latchkeyTable("LKB_F_" + this.suffix, "schema-postgresql.sql");
		String floorUnloggedTable = latchkeyTable("LKB_FU_" + this.suffix, "schema-postgresql-unlogged.sql");
		String integrationPrefix = integrationTable("LKB_SI_" + this.suffix + "_", false);
		String shedLockTable = shedLockTable("LKB_SL_" + this.suffix, false);
		String integrationUnloggedPrefix = integrationTable("LKB_SIU_" + this.suffix + "_", true);
		String shedLockUnloggedTable = shedLockTable("LKB_SLU_" + this.suffix, true);

		out.println();
		Map<String, Function<DataSource, Operation>> contenders = new java.util.LinkedHashMap<>();
		contenders.put("floor: upsert + delete (2 raw statements)", (ds) -> floor(ds, floorTable));
		contenders.put("floor, unlogged table", (ds) -> floor(ds, floorUnloggedTable));
		contenders.put("Latchkey JdbcLockRepository (SPI)", (ds) -> repository(ds, latchkeyTable));
		contenders.put("Latchkey LockTemplate", (ds) -> template(ds, latchkeyTable));
		contenders.put("Latchkey LockTemplate, two keys", (ds) -> template(ds, latchkeyTable, "bench-b"));
		contenders.put("Latchkey LockTemplate, four keys",
				(ds) -> template(ds, latchkeyTable, "bench-b", "bench-c", "bench-d"));
		contenders.put("Latchkey JdbcLockRepository, unlogged table", (ds) -> repository(ds, unloggedTable));
		contenders.put("Latchkey LockTemplate, unlogged table", (ds) -> template(ds, unloggedTable));
		contenders.put("Latchkey LockTemplate, unlogged table, two keys",
				(ds) -> template(ds, unloggedTable, "bench-b"));
		contenders.put("Spring Integration JdbcLockRegistry", (ds) -> integration(ds, integrationPrefix));
		contenders.put("ShedLock JdbcTemplateLockProvider (DB time)", (ds) -> shedLock(ds, shedLockTable));
		// Not something the peers offer: their tables made UNLOGGED here, to compare the
		// work without WAL flushes.
		contenders.put("Spring Integration, its table made unlogged",
				(ds) -> integration(ds, integrationUnloggedPrefix));
		contenders.put("ShedLock, its table made unlogged", (ds) -> shedLock(ds, shedLockUnloggedTable));
		out.println();
		out.println("Uncontended acquire+release, one thread, the contenders measured in turns (statements and round"
				+ " trips counted on the wire)");
		uncontended(contenders, iterations);
		if (!this.contendedRun.isZero()) {
			Map<String, Function<DataSource, Operation>> waiting = new java.util.LinkedHashMap<>();
			waiting.put("Latchkey LockTemplate", (ds) -> waitingTemplate(ds, latchkeyTable));
			waiting.put("Latchkey LockTemplate, unlogged table", (ds) -> waitingTemplate(ds, unloggedTable));
			waiting.put("Spring Integration JdbcLockRegistry", (ds) -> integration(ds, integrationPrefix));
			waiting.put("Spring Integration, its table made unlogged",
					(ds) -> integration(ds, integrationUnloggedPrefix));
			contended(waiting);
			readersHeavy.add(readersHeavy("Latchkey LockTemplate", latchkeyTable));
			readersHeavy.add(readersHeavy("Latchkey LockTemplate, unlogged table", unloggedTable));
		}
		if (rounds > 0) {
			handOffs(rounds, latchkeyTable, unloggedTable, integrationPrefix, shedLockTable);
		}
		out.println();
		out.println("uptime load: " + loadAverage());
	}

	private void handOffs(int rounds, String latchkeyTable, String unloggedTable, String integrationPrefix,
			String shedLockTable) throws Exception {
		out.println();
		out.println("Hand-off: holder releases, a waiter on another pool (another process) takes the key; " + rounds
				+ " rounds after " + Math.max(rounds / 10, 10) + " warm-up rounds; the waiter starts waiting "
				+ WAITER_HEAD_START_MILLIS + " ms before the release");
		out.printf(Locale.ROOT, "%-62s %9s %9s %9s %9s %11s%n", "contender", "p50 us", "p90 us", "p99 us", "max us",
				"release p50");
		LockSettings settings = LockSettings.defaults().withOwner("bench").withWaitTime(Duration.ofSeconds(30));
		LockSettings slowPolling = settings.withPollIntervals(Duration.ofSeconds(1), Duration.ofSeconds(1));
		handOff("Latchkey LockTemplate, NOTIFY (polls 50 ms..1 s)", rounds,
				(b) -> b.latchkeyHandOff(latchkeyTable, settings, false));
		handOff("Latchkey LockTemplate, NOTIFY, polls every 1 s", rounds,
				(b) -> b.latchkeyHandOff(latchkeyTable, slowPolling, false));
		handOff("Latchkey LockTemplate, NOTIFY, unlogged table", rounds,
				(b) -> b.latchkeyHandOff(unloggedTable, settings, false));
		handOff("Latchkey LockTemplate, no NOTIFY: polling only (50 ms..1 s)", Math.max(rounds / 4, 25),
				(b) -> b.latchkeyHandOff(latchkeyTable, settings, true));
		handOff("Latchkey LockTemplate, both threads on one repository", rounds,
				(b) -> b.sameRepositoryHandOff(latchkeyTable));
		handOff("Spring Integration JdbcLockRegistry lock() (idle 100 ms)", Math.max(rounds / 4, 25),
				(b) -> b.integrationHandOff(integrationPrefix));
		handOff("ShedLock, retry lock() every 50 ms (it has no waiting)", Math.max(rounds / 4, 25),
				(b) -> b.shedLockHandOff(shedLockTable));
	}

	// --- Contenders, uncontended ---

	/**
	 * One contender's acquire+release, built on a data source.
	 */
	private interface Operation {

		void run() throws Exception;

	}

	/**
	 * The floor's acquisition: one raw upsert that takes a free or expired key's row.
	 * Parameters: the key, the holder's token.
	 */
	static String floorAcquire(String table) {
		return """
				INSERT INTO %s AS l (LOCK_KEY, SLOT, TOKEN, OWNER, FENCING, PERMITS, EXPIRES_AT)
				VALUES (?, '', ?, 'bench', 1, 1, now() + INTERVAL '30 seconds')
				ON CONFLICT (LOCK_KEY, SLOT) DO UPDATE SET TOKEN = excluded.TOKEN, EXPIRES_AT = excluded.EXPIRES_AT
				WHERE l.EXPIRES_AT <= now()""".formatted(table);
	}

	/**
	 * The floor's release: one raw delete of the holder's row. Parameters: the key, the
	 * holder's token.
	 */
	static String floorRelease(String table) {
		return "DELETE FROM %s WHERE LOCK_KEY = ? AND SLOT = '' AND TOKEN = ?".formatted(table);
	}

	private Operation floor(DataSource dataSource, String table) {
		String acquire = floorAcquire(table);
		String release = floorRelease(table);
		return () -> {
			String token = UUID.randomUUID().toString();
			try (Connection connection = dataSource.getConnection();
					PreparedStatement statement = connection.prepareStatement(acquire)) {
				statement.setString(1, "bench");
				statement.setString(2, token);
				statement.executeUpdate();
			}
			try (Connection connection = dataSource.getConnection();
					PreparedStatement statement = connection.prepareStatement(release)) {
				statement.setString(1, "bench");
				statement.setString(2, token);
				statement.executeUpdate();
			}
		};
	}

	private Operation repository(DataSource dataSource, String table) {
		JdbcLockRepository repository = closing(new JdbcLockRepository(dataSource, table));
		return () -> {
			LeaseSpec lease = LeaseSpec.exclusive("bench", "bench", UUID.randomUUID().toString(), TTL);
			if (repository.tryAcquire(lease).isEmpty()) {
				throw new IllegalStateException("Not acquired");
			}
			repository.release(lease);
		};
	}

	/**
	 * Acquire+release through a template: of the key {@code bench}, and of more keys with
	 * it when given (a lock of several keys, asked for in one attempt).
	 */
	private Operation template(DataSource dataSource, String table, String... moreKeys) {
		JdbcLockRepository repository = closing(new JdbcLockRepository(dataSource, table));
		LockTemplate template = closing(new LockTemplate(repository, LockSettings.defaults().withOwner("bench"), null));
		return () -> template.exclusive("bench", moreKeys).run(Measurements::work);
	}

	private Operation waitingTemplate(DataSource dataSource, String table) {
		JdbcLockRepository repository = closing(new JdbcLockRepository(dataSource, table));
		LockTemplate template = closing(new LockTemplate(repository,
				LockSettings.defaults().withOwner("bench").withWaitTime(Duration.ofSeconds(30)), null));
		return () -> template.exclusive("bench-contended").run(Measurements::work);
	}

	private Operation integration(DataSource dataSource, String prefix) {
		JdbcLockRegistry registry = new JdbcLockRegistry(integrationRepository(dataSource, prefix), TTL);
		return () -> {
			Lock lock = registry.obtain("bench");
			lock.lock();
			lock.unlock();
		};
	}

	private DefaultLockRepository integrationRepository(DataSource dataSource, String prefix) {
		DefaultLockRepository repository = new DefaultLockRepository(dataSource);
		repository.setPrefix(prefix);
		repository.setTransactionManager(new DataSourceTransactionManager(dataSource));
		repository.afterPropertiesSet();
		repository.afterSingletonsInstantiated();
		repository.start();
		return repository;
	}

	private Operation shedLock(DataSource dataSource, String table) {
		JdbcTemplateLockProvider provider = shedLockProvider(dataSource, table);
		return () -> {
			SimpleLock lock = provider.lock(shedLockConfiguration("bench"))
				.orElseThrow(() -> new IllegalStateException("Not acquired"));
			lock.unlock();
		};
	}

	private static JdbcTemplateLockProvider shedLockProvider(DataSource dataSource, String table) {
		return new JdbcTemplateLockProvider(JdbcTemplateLockProvider.Configuration.builder()
			.withJdbcTemplate(new JdbcTemplate(dataSource))
			.withTableName(table)
			.usingDbTime()
			.build());
	}

	private static LockConfiguration shedLockConfiguration(String name) {
		return new LockConfiguration(Instant.now(), name, TTL, Duration.ZERO);
	}

	// --- Uncontended measurement ---

	/**
	 * Measures the contenders in turns of {@link #TURNS} slices each, one contender after
	 * the other, so that every contender sees the same share of a load that changes while
	 * the benchmark runs (other processes' builds, and the disk that commits wait for);
	 * then counts each one's statements through the proxy.
	 */
	private void uncontended(Map<String, Function<DataSource, Operation>> contenders, int iterations) throws Exception {
		int scope = scope();
		Map<String, Operation> operations = new java.util.LinkedHashMap<>();
		Map<String, long[]> samples = new HashMap<>();
		Map<String, Long> elapsed = new HashMap<>();
		try {
			for (Map.Entry<String, Function<DataSource, Operation>> contender : contenders.entrySet()) {
				Operation operation = contender.getValue().apply(pool(this.url, "timed"));
				for (int i = 0; i < Math.max(iterations / 2, 2_000); i++) {
					operation.run();
				}
				operations.put(contender.getKey(), operation);
				samples.put(contender.getKey(), new long[iterations]);
				elapsed.put(contender.getKey(), 0L);
			}
			int slice = (iterations + TURNS - 1) / TURNS;
			for (int from = 0; from < iterations; from += slice) {
				int to = Math.min(iterations, from + slice);
				for (Map.Entry<String, Operation> contender : operations.entrySet()) {
					long[] times = samples.get(contender.getKey());
					long start = System.nanoTime();
					for (int i = from; i < to; i++) {
						long begin = System.nanoTime();
						contender.getValue().run();
						times[i] = System.nanoTime() - begin;
					}
					elapsed.merge(contender.getKey(), System.nanoTime() - start, Long::sum);
				}
			}
		}
		finally {
			closeScope(scope);
		}
		out.printf(Locale.ROOT, "%-46s %9s %9s %9s %9s %10s %9s %9s%n", "contender", "mean us", "p50 us", "p90 us",
				"p99 us", "ops/s", "stmts/op", "trips/op");
		Map<String, Map<String, Long>> sent = new java.util.LinkedHashMap<>();
		for (Map.Entry<String, Function<DataSource, Operation>> contender : contenders.entrySet()) {
			StatementCountingProxy.Counts counts = count(contender.getValue());
			sent.put(contender.getKey(), counts.byText());
			long[] times = samples.get(contender.getKey());
			Arrays.sort(times);
			long total = elapsed.get(contender.getKey());
			out.printf(Locale.ROOT, "%-46s %9.1f %9.1f %9.1f %9.1f %,10.0f %9.2f %9.2f%n", contender.getKey(),
					total / 1e3 / iterations, Measurements.percentileMicros(times, 0.5),
					Measurements.percentileMicros(times, 0.9), Measurements.percentileMicros(times, 0.99),
					iterations / (total / 1e9), counts.statements() / (double) COUNTED_OPERATIONS,
					counts.roundTrips() / (double) COUNTED_OPERATIONS);
			this.results
				.add(new BenchmarkResult("PostgreSQL", contender.getKey(), Measurements.percentileMicros(times, 0.5),
						Measurements.percentileMicros(times, 0.99), iterations / (total / 1e9),
						counts.statements() / (double) COUNTED_OPERATIONS, "statements", Double.NaN));
		}
		out.println();
		out.println("What the driver sent per acquire+release (" + COUNTED_OPERATIONS + " counted operations each)");
		sent.forEach((name, texts) -> {
			out.println("  " + name + ":");
			// Left out: what a connection opened during the pass sent once (its SET
			// application_name).
			new TreeMap<>(texts).entrySet()
				.stream()
				.filter((text) -> text.getValue() * 100 >= COUNTED_OPERATIONS)
				.forEach((text) -> out.printf(Locale.ROOT, "    %5.2f x %s%n",
						text.getValue() / (double) COUNTED_OPERATIONS, text.getKey().replace(this.suffix, "")));
		});
	}

	/**
	 * The readers-heavy workload through a template on a pool of 10 connections, as the
	 * contended measure's.
	 */
	private ReadersHeavy.Result readersHeavy(String name, String table) throws Exception {
		int scope = scope();
		try {
			JdbcLockRepository repository = closing(new JdbcLockRepository(pool(this.url, "readers-heavy", 10), table));
			LockTemplate template = closing(new LockTemplate(repository,
					LockSettings.defaults().withOwner("bench").withWaitTime(Duration.ofSeconds(30)), null));
			return ReadersHeavy.measure("PostgreSQL", name, ReadersHeavy.of(template, "bench-rw"), this.contendedRun,
					out);
		}
		finally {
			closeScope(scope);
		}
	}

	/**
	 * The throughput of {@link #CONTENDERS} threads taking one key through one contender
	 * (a pool of 10 connections), for the contenders that wait for a key: the floor and
	 * ShedLock do not.
	 */
	private void contended(Map<String, Function<DataSource, Operation>> contenders) throws Exception {
		out.println();
		out.printf(Locale.ROOT, "Contended: %d threads of one JVM taking one key, counted for %s after 1 s%n",
				CONTENDERS, this.contendedRun);
		out.printf(Locale.ROOT, "%-46s %14s%n", "contender", "ops/s");
		for (Map.Entry<String, Function<DataSource, Operation>> contender : contenders.entrySet()) {
			String name = contender.getKey();
			int scope = scope();
			try {
				Operation operation = contender.getValue().apply(pool(this.url, "contended", 10));
				double opsPerSecond = Measurements.contendedThroughput(() -> {
					try {
						operation.run();
					}
					catch (Exception ex) {
						throw new IllegalStateException(ex);
					}
				}, CONTENDERS, this.contendedRun);
				out.printf(Locale.ROOT, "%-46s %s%n", name, Measurements.contendedColumn(opsPerSecond));
				this.results.replaceAll((result) -> result.contender().equals(name)
						? result.withContendedOpsPerSecond(opsPerSecond) : result);
			}
			finally {
				closeScope(scope);
			}
		}
	}

	/**
	 * The same contender on a pool whose connections go through the proxy.
	 */
	private StatementCountingProxy.Counts count(Function<DataSource, Operation> contender) throws Exception {
		int scope = scope();
		try {
			Operation counted = contender.apply(pool(this.proxy.url(), "counted"));
			for (int i = 0; i < 100; i++) {
				counted.run();
			}
			this.proxy.reset();
			for (int i = 0; i < COUNTED_OPERATIONS; i++) {
				counted.run();
			}
			return this.proxy.counts();
		}
		finally {
			closeScope(scope);
		}
	}

	// --- Hand-off ---

	/**
	 * One contender's hand-off: the holder's side and the waiter's side, each on a pool
	 * of its own.
	 */
	private interface HandOff {

		void holderAcquire() throws Exception;

		void holderRelease() throws Exception;

		/** Blocks until the waiter holds the key. */
		void waiterAcquire() throws Exception;

		void waiterRelease() throws Exception;

	}

	private HandOff latchkeyHandOff(String table, LockSettings settings, boolean withoutNotifications) {
		LockTemplate holder = closing(new LockTemplate(closing(new JdbcLockRepository(pool(this.url, "holder"), table)),
				settings.withWaitTime(Duration.ZERO), null));
		LockRepository waiterRepository = closing(new JdbcLockRepository(pool(this.url, "waiter"), table));
		if (withoutNotifications) {
			waiterRepository = new WithoutNotifications(waiterRepository);
		}
		LockTemplate waiter = closing(new LockTemplate(waiterRepository, settings, null));
		return templateHandOff(holder, waiter);
	}

	private HandOff sameRepositoryHandOff(String table) {
		LockSettings settings = LockSettings.defaults().withOwner("bench").withWaitTime(Duration.ofSeconds(30));
		JdbcLockRepository repository = closing(new JdbcLockRepository(pool(this.url, "shared"), table));
		return templateHandOff(closing(new LockTemplate(repository, settings.withWaitTime(Duration.ZERO), null)),
				closing(new LockTemplate(repository, settings, null)));
	}

	private static HandOff templateHandOff(LockTemplate holder, LockTemplate waiter) {
		String key = "bench-handoff";
		return new HandOff() {

			private LockHandle held;

			private LockHandle waited;

			@Override
			public void holderAcquire() {
				this.held = holder.exclusive(key).acquire();
			}

			@Override
			public void holderRelease() {
				this.held.close();
			}

			@Override
			public void waiterAcquire() {
				this.waited = waiter.exclusive(key).acquire();
			}

			@Override
			public void waiterRelease() {
				this.waited.close();
			}

		};
	}

	private HandOff integrationHandOff(String prefix) {
		Lock holder = new JdbcLockRegistry(integrationRepository(pool(this.url, "holder"), prefix), TTL)
			.obtain("bench-handoff");
		Lock waiter = new JdbcLockRegistry(integrationRepository(pool(this.url, "waiter"), prefix), TTL)
			.obtain("bench-handoff");
		return new HandOff() {

			@Override
			public void holderAcquire() {
				holder.lock();
			}

			@Override
			public void holderRelease() {
				holder.unlock();
			}

			@Override
			public void waiterAcquire() {
				waiter.lock();
			}

			@Override
			public void waiterRelease() {
				waiter.unlock();
			}

		};
	}

	private HandOff shedLockHandOff(String table) {
		JdbcTemplateLockProvider holder = shedLockProvider(pool(this.url, "holder"), table);
		JdbcTemplateLockProvider waiter = shedLockProvider(pool(this.url, "waiter"), table);
		String name = "bench-handoff";
		return new HandOff() {

			private SimpleLock held;

			private SimpleLock waited;

			@Override
			public void holderAcquire() {
				this.held = holder.lock(shedLockConfiguration(name)).orElseThrow();
			}

			@Override
			public void holderRelease() {
				this.held.unlock();
			}

			@Override
			public void waiterAcquire() throws InterruptedException {
				Optional<SimpleLock> lock = waiter.lock(shedLockConfiguration(name));
				while (lock.isEmpty()) {
					Thread.sleep(50);
					lock = waiter.lock(shedLockConfiguration(name));
				}
				this.waited = lock.get();
			}

			@Override
			public void waiterRelease() {
				this.waited.unlock();
			}

		};
	}

	private void handOff(String name, int rounds, Function<JdbcBenchmark, HandOff> contender) throws Exception {
		int scope = scope();
		try {
			measureHandOff(name, rounds, contender.apply(this));
		}
		finally {
			closeScope(scope);
		}
	}

	private void measureHandOff(String name, int rounds, HandOff handOff) throws Exception {
		SynchronousQueue<Long> acquiredAt = new SynchronousQueue<>();
		SynchronousQueue<Boolean> go = new SynchronousQueue<>();
		Thread waiter = new Thread(() -> {
			try {
				while (go.take()) {
					handOff.waiterAcquire();
					long at = System.nanoTime();
					handOff.waiterRelease();
					acquiredAt.put(at);
				}
			}
			catch (Exception ex) {
				ex.printStackTrace();
				acquiredAt.offer(-1L);
			}
		}, "bench-waiter");
		waiter.start();
		int warmUp = Math.max(rounds / 10, 10);
		long[] samples = new long[rounds];
		long[] releases = new long[rounds];
		int early = 0;
		try {
			for (int round = -warmUp; round < rounds; round++) {
				handOff.holderAcquire();
				go.put(true);
				Thread.sleep(WAITER_HEAD_START_MILLIS);
				long releasedAt = System.nanoTime();
				handOff.holderRelease();
				long releaseReturnedAt = System.nanoTime();
				Long at = acquiredAt.poll(30, TimeUnit.SECONDS);
				if (at == null || at == -1L) {
					throw new IllegalStateException(name + ": the waiter failed");
				}
				if (at < releasedAt) {
					early++;
				}
				if (round >= 0) {
					samples[round] = at - releasedAt;
					releases[round] = releaseReturnedAt - releasedAt;
				}
			}
		}
		finally {
			go.offer(false, 1, TimeUnit.SECONDS);
			waiter.join(5_000);
		}
		Arrays.sort(samples);
		Arrays.sort(releases);
		out.printf(Locale.ROOT, "%-62s %9.0f %9.0f %9.0f %9.0f %11.0f%s%n", name,
				Measurements.percentileMicros(samples, 0.5), Measurements.percentileMicros(samples, 0.9),
				Measurements.percentileMicros(samples, 0.99), samples[samples.length - 1] / 1e3,
				Measurements.percentileMicros(releases, 0.5),
				(early > 0) ? "  (" + early + " rounds acquired before the release: broken)" : "");
	}

	/**
	 * A repository that cannot announce releases: its waiters poll.
	 */
	private static final class WithoutNotifications extends ForwardingLockRepository {

		WithoutNotifications(LockRepository delegate) {
			super(delegate);
		}

		@Override
		public ReleaseSubscription subscribe(String key, Runnable onRelease) {
			return ReleaseSubscription.NONE;
		}

	}

	// --- Tables, pools, clean-up ---

	/**
	 * Creates a lock table from the schema script Latchkey ships, under another name, as
	 * its schema initializer does.
	 */
	private String latchkeyTable(String table, String script) throws IOException {
		String text = StreamUtils.copyToString(new ClassPathResource("dev/latchkey/jdbc/" + script).getInputStream(),
				StandardCharsets.UTF_8);
		this.tables.add("TABLE " + table);
		this.tables.add("SEQUENCE " + table + "_FENCING");
		execute(text.replace(JdbcLockRepository.DEFAULT_TABLE_NAME, table));
		return table;
	}

	/**
	 * Creates Spring Integration's lock table from the PostgreSQL script it ships (only
	 * its {@code INT_LOCK} table), with another prefix.
	 */
	private String integrationTable(String prefix, boolean unlogged) throws IOException {
		String text = StreamUtils.copyToString(
				new ClassPathResource("org/springframework/integration/jdbc/schema-postgresql.sql").getInputStream(),
				StandardCharsets.UTF_8);
		Matcher lockTable = Pattern.compile("CREATE TABLE INT_LOCK\\s*\\(.*?\\);", Pattern.DOTALL).matcher(text);
		if (!lockTable.find()) {
			throw new IllegalStateException("No INT_LOCK table in Spring Integration's schema-postgresql.sql");
		}
		this.tables.add("TABLE " + prefix + "LOCK");
		String create = lockTable.group().replace("INT_", prefix);
		execute(unlogged ? create.replace("CREATE TABLE", "CREATE UNLOGGED TABLE") : create);
		return prefix;
	}

	/**
	 * Creates ShedLock's table as its documentation gives it for PostgreSQL.
	 */
	private String shedLockTable(String table, boolean unlogged) {
		this.tables.add("TABLE " + table);
		execute("CREATE " + (unlogged ? "UNLOGGED " : "") + "TABLE " + table
				+ " (name VARCHAR(64) NOT NULL, lock_until TIMESTAMP NOT NULL,"
				+ " locked_at TIMESTAMP NOT NULL, locked_by VARCHAR(255) NOT NULL, PRIMARY KEY (name));");
		return table;
	}

	private void execute(String script) {
		new ResourceDatabasePopulator(new ByteArrayResource(script.getBytes(StandardCharsets.UTF_8)))
			.execute(this.admin);
	}

	private HikariDataSource pool(String url, String name) {
		return pool(url, name, 4);
	}

	private HikariDataSource pool(String url, String name, int size) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(url);
		config.setMaximumPoolSize(size);
		config.setMinimumIdle(1);
		config.setConnectionTimeout(5000);
		config.setPoolName("bench-" + name + "-" + this.pools.size());
		HikariDataSource pool = new HikariDataSource(config);
		this.pools.add(pool);
		return pool;
	}

	/**
	 * Marks where a contender's pools and closeables start, so that they are closed after
	 * it ran: the database serves other clients too, and its connections are limited.
	 */
	private int scope() {
		return this.pools.size() * 100_000 + this.closeables.size();
	}

	private void closeScope(int scope) {
		int closeablesFrom = scope % 100_000;
		int poolsFrom = scope / 100_000;
		while (this.closeables.size() > closeablesFrom) {
			try {
				this.closeables.remove(this.closeables.size() - 1).close();
			}
			catch (Exception ex) {
				out.println("Could not close: " + ex);
			}
		}
		while (this.pools.size() > poolsFrom) {
			this.pools.remove(this.pools.size() - 1).close();
		}
	}

	private <T extends AutoCloseable> T closing(T closeable) {
		this.closeables.add(closeable);
		return closeable;
	}

	private void close() {
		for (int i = this.closeables.size() - 1; i >= 0; i--) {
			try {
				this.closeables.get(i).close();
			}
			catch (Exception ex) {
				// Best effort: the tables are dropped anyway.
			}
		}
		JdbcTemplate jdbc = new JdbcTemplate(this.admin);
		for (String table : this.tables) {
			try {
				jdbc.execute("DROP " + table.replaceFirst(" ", " IF EXISTS "));
			}
			catch (RuntimeException ex) {
				out.println("Could not drop " + table + ": " + ex.getMessage());
			}
		}
		this.pools.forEach(HikariDataSource::close);
		this.admin.close();
		this.proxy.close();
	}

	private static String loadAverage() {
		try {
			return new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/loadavg")),
					StandardCharsets.US_ASCII)
				.trim();
		}
		catch (IOException ex) {
			return "unknown";
		}
	}

}
