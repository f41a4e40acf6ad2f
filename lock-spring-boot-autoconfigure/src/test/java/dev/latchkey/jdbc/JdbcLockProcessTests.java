package dev.latchkey.jdbc;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.ChildProcess;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The JDBC backend across processes, on PostgreSQL and on MariaDB: a holder killed with SIGKILL frees its key when its
 * lease expires, and processes whose clocks disagree by hours still exclude each other, because only the database's
 * clock decides expiry. The clock offset is injected with libfaketime ({@code faketime}, which
 * {@code scripts/services.sh} installs).
 */
@Timeout(300)
class JdbcLockProcessTests {

	private static final String TABLE = JdbcTestSupport.newTableName();

	private static HikariDataSource postgres;

	private static HikariDataSource mariadb;

	@TempDir
	Path temporary;

	private final List<ChildProcess> children = new ArrayList<>();

	@BeforeAll
	static void createTables() {
		postgres = JdbcTestSupport.dataSource(TestServers.postgresUrl(), 8);
		JdbcTestSupport.createTable(postgres, "schema-postgresql.sql", TABLE);
		mariadb = JdbcTestSupport.dataSource(TestServers.mariadbUrl(), 8);
		JdbcTestSupport.createTable(mariadb, "schema-mysql.sql", TABLE);
	}

	@AfterAll
	static void dropTables() {
		if (postgres != null) {
			JdbcTestSupport.dropTable(postgres, TABLE, true);
			postgres.close();
		}
		if (mariadb != null) {
			JdbcTestSupport.dropTable(mariadb, TABLE, false);
			mariadb.close();
		}
	}

	@AfterEach
	void stopChildren() {
		this.children.forEach(ChildProcess::close);
	}

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb" })
	void holderKilledWithSigkillFreesItsKeyWhenItsLeaseExpires(String database) {
		String key = "killed-holder:" + database + ":" + System.nanoTime();
		ChildProcess holder = start(database, List.of(), "3000", "hold", key);
		long heldToken = Long.parseLong(holder.awaitLine("HELD ", Duration.ofSeconds(60)).substring(5));
		JdbcLockRepository repository = new JdbcLockRepository(dataSource(database), TABLE);
		LeaseSpec next = LeaseSpec.exclusive(key, "test", "test-token-" + System.nanoTime(), Duration.ofSeconds(30));
		assertThat(repository.tryAcquire(next)).isEmpty();

		holder.kill();
		// Nobody released it: the row stays until the database's clock passes its expiry.
		assertThat(repository.tryAcquire(next)).isEmpty();
		long granted = await().atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> repository.tryAcquire(next), java.util.OptionalLong::isPresent)
			.getAsLong();
		assertThat(granted).isGreaterThan(heldToken);
		assertThat(repository.release(next)).isTrue();
	}

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb" })
	void processesWhoseClocksDisagreeByHoursStillExcludeEachOther(String database) throws Exception {
		String key = "skewed-clocks:" + database + ":" + System.nanoTime();
		Path counter = Files.writeString(this.temporary.resolve("counter"), "0", StandardCharsets.UTF_8);
		int iterations = 15;
		// Were expiry judged by the processes' clocks, every lease would look expired (or everlasting) to one side.
		ChildProcess ahead = start(database, faketime("+2h"), "5000", "count", key, Integer.toString(iterations),
				counter.toString());
		ChildProcess behind = start(database, faketime("-2h"), "5000", "count", key, Integer.toString(iterations),
				counter.toString());
		long now = Instant.now().toEpochMilli();
		assertThat(Long.parseLong(ahead.awaitLine("CLOCK ", Duration.ofSeconds(60)).substring(6)) - now)
			.as("clock of the process started with faketime +2h")
			.isBetween(Duration.ofMinutes(110).toMillis(), Duration.ofMinutes(130).toMillis());
		assertThat(now - Long.parseLong(behind.awaitLine("CLOCK ", Duration.ofSeconds(60)).substring(6)))
			.as("clock of the process started with faketime -2h")
			.isBetween(Duration.ofMinutes(110).toMillis(), Duration.ofMinutes(130).toMillis());
		// This JVM, on the true clock, takes part too.
		ExecutorService executor = Executors.newFixedThreadPool(2);
		try (JdbcLockRepository repository = new JdbcLockRepository(dataSource(database), TABLE);
				LockTemplate locks = new LockTemplate(repository, LockSettings.defaults().withTtl(Duration.ofSeconds(5)),
						null)) {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<?>> workers = new ArrayList<>();
			for (int t = 0; t < 2; t++) {
				workers.add(executor.submit(() -> {
					start.await();
					for (int i = 0; i < iterations; i++) {
						locks.exclusive(key).waitTime(Duration.ofSeconds(60)).run(() -> JdbcLockChild.increment(counter));
					}
					return null;
				}));
			}
			start.countDown();
			for (Future<?> worker : workers) {
				worker.get(200, TimeUnit.SECONDS);
			}
			ahead.awaitLine("DONE", Duration.ofSeconds(200));
			behind.awaitLine("DONE", Duration.ofSeconds(200));
		}
		finally {
			executor.shutdownNow();
		}
		assertThat(Files.readString(counter, StandardCharsets.UTF_8)).isEqualTo(Integer.toString(4 * iterations));
	}

	private HikariDataSource dataSource(String database) {
		return database.equals("postgres") ? postgres : mariadb;
	}

	private ChildProcess start(String database, List<String> launcher, String ttlMillis, String... command) {
		String url = database.equals("postgres") ? TestServers.postgresUrl() : TestServers.mariadbUrl();
		List<String> arguments = new ArrayList<>(List.of(url, TABLE, ttlMillis));
		arguments.addAll(List.of(command));
		ChildProcess child = ChildProcess.start(this.temporary, launcher, JdbcLockChild.class,
				arguments.toArray(String[]::new));
		this.children.add(child);
		return child;
	}

	/**
	 * The words that start a command with its wall clock shifted, through libfaketime; the monotonic clock (which
	 * leases' local deadlines use) is left alone, as a clock offset between hosts would leave it.
	 */
	private static List<String> faketime(String offset) {
		if (!Files.isExecutable(Path.of("/usr/bin/faketime"))) {
			fail("This test injects a clock offset with libfaketime, and 'faketime' is not installed. Run"
					+ " 'scripts/services.sh' (it installs the package 'faketime' when run as root), or install it"
					+ " yourself (for example 'sudo apt-get install faketime').");
		}
		return List.of("env", "DONT_FAKE_MONOTONIC=1", "faketime", "-f", offset);
	}

}
