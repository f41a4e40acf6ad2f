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
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.jspecify.annotations.Nullable;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.memory.MemoryLockRepository;

/**
 * Every backend next to its floor and its peers, in one run: the memory and socket
 * backends, then Redis, PostgreSQL and etcd against the servers named by the same
 * environment variables the tests use ({@code LATCHKEY_REDIS_URL},
 * {@code LATCHKEY_POSTGRES_URL}, {@code LATCHKEY_TEST_ETCD_ENDPOINTS}, which
 * {@code scripts/services.sh} prints). A backend whose variable is not set, or whose
 * server does not answer, is skipped with a line that says so.
 *
 * <pre>
 * eval "$(scripts/services.sh)"
 * java -cp benchmarks/target/benchmarks.jar dev.latchkey.benchmarks.BenchmarkSuite [quick|full] [--no-write | --redraw]
 * </pre>
 * <p>
 * Each harness ({@link SocketBenchmark}, {@link RedisBenchmark}, {@link JdbcBenchmark},
 * {@link EtcdBenchmark}) prints its own table as its {@code main} does and returns its
 * contenders' figures, and the {@link ReadersHeavy} workload's on the backends'
 * read/write locks; {@link ManyWaiters} runs each backend's many-waiters contenders (the
 * cross-instance targets, next to their peers and floors); the suite then prints them in
 * three tables, replaces the section between {@value #BEGIN} and {@value #END} in
 * {@code benchmarks/README.md} with it, and draws {@code benchmarks/results.svg}
 * ({@link ResultsChart}). {@code --no-write} leaves both files alone; {@code --redraw}
 * measures nothing and draws the chart again from the README's table.
 */
public final class BenchmarkSuite {

	static final String BEGIN = "<!-- suite:begin -->";

	static final String END = "<!-- suite:end -->";

	private static final String READERS_HEAVY_HEADER = "| backend | contender | reads/s | writes/s "
			+ "| reader wait p50 µs | reader wait p99 µs | writer wait p50 µs | writer wait p99 µs | overlaps |";

	private static final String READERS_HEAVY_CAPTION = "Readers-heavy, one key: " + ReadersHeavy.READERS
			+ " reader threads (shared lock) and 1 writer thread (exclusive lock), each holding it for 5 µs of work;"
			+ " overlaps counts a writer that met a reader or another writer (must be 0).";

	private static final String MANY_WAITERS_HEADER = "| backend | contender | instances × threads | hand-offs/s "
			+ "| requests/hand-off | wait p50 ms | wait p99 ms | max/mean wait | grants per thread |";

	private static final String MANY_WAITERS_CAPTION = "Many waiters of one key (ManyWaiters): every thread takes "
			+ "the key, works 5 µs and asks again at once; each instance is a repository (or a peer's client) of its own "
			+ "in this JVM, and requests are counted at each instance's client.";

	private static final PrintStream out = System.out;

	private BenchmarkSuite() {
	}

	public static void main(String[] args) throws Exception {
		List<String> arguments = List.of(args);
		for (String argument : arguments) {
			if (argument.startsWith("--") && !"--no-write".equals(argument) && !"--redraw".equals(argument)) {
				throw new IllegalArgumentException(
						"Unknown option " + argument + "; usage: BenchmarkSuite [quick|full] [--no-write | --redraw]");
			}
		}
		if (arguments.contains("--redraw")) {
			redraw();
			return;
		}
		boolean write = !arguments.contains("--no-write");
		Size size = arguments.stream()
			.filter((argument) -> !argument.startsWith("--"))
			.map((argument) -> Size.valueOf(argument.toUpperCase(Locale.ROOT)))
			.findFirst()
			.orElse(Size.QUICK);
		String loadBefore = loadAverage();
		List<BenchmarkResult> results = new ArrayList<>();
		List<String> skipped = new ArrayList<>();
		List<ReadersHeavy.Result> readersHeavy = new ArrayList<>();
		List<ManyWaitersRow> manyWaiters = new ArrayList<>();
		out.printf(Locale.ROOT, "Latchkey benchmark suite, %s size, JDK %s, load average %s%n%n",
				size.name().toLowerCase(Locale.ROOT), System.getProperty("java.version"), loadBefore);
		run("memory", results, skipped, () -> memory(size, readersHeavy));
		manyWaiters(manyWaiters, skipped, size, "memory", "memory", "Latchkey LockTemplate", 1, 8, false);
		run("socket", results, skipped,
				() -> SocketBenchmark.measure(size.socketIterations, size.contendedRun, readersHeavy, out));
		manyWaiters(manyWaiters, skipped, size, "socket", "socket", "Latchkey LockTemplate", 10, 100, false);
		String redis = System.getenv("LATCHKEY_REDIS_URL");
		if (reachable("Redis", "LATCHKEY_REDIS_URL", redis, skipped)) {
			run("Redis", results, skipped,
					() -> RedisBenchmark.measure(redis, size.redisIterations, size.contendedRun, readersHeavy, out));
			manyWaiters(manyWaiters, skipped, size, "Redis", "redis", "Latchkey LockTemplate", 8, 1, false);
			manyWaiters(manyWaiters, skipped, size, "Redis", "redis", "Latchkey LockTemplate, fair", 8, 1, true);
			manyWaiters(manyWaiters, skipped, size, "Redis", "si-redis-pubsub",
					"Spring Integration RedisLockRegistry, pub/sub lock", 8, 1, false);
			manyWaiters(manyWaiters, skipped, size, "Redis", "si-redis-spin",
					"Spring Integration RedisLockRegistry, spin lock", 8, 1, false);
			manyWaiters(manyWaiters, skipped, size, "Redis", "redis-relay-floor",
					"floor: the key passed to the next instance by one PUBLISH", 8, 1, false);
			manyWaiters(manyWaiters, skipped, size, "Redis", "redis", "Latchkey LockTemplate", 10, 100, false);
			manyWaiters(manyWaiters, skipped, size, "Redis", "redis", "Latchkey LockTemplate, fair", 10, 100, true);
		}
		String postgres = System.getenv("LATCHKEY_POSTGRES_URL");
		if (reachable("PostgreSQL", "LATCHKEY_POSTGRES_URL", postgres, skipped)) {
			run("PostgreSQL", results, skipped, () -> JdbcBenchmark.measure(postgres, size.jdbcIterations,
					size.jdbcHandOffRounds, size.contendedRun, readersHeavy));
			manyWaiters(manyWaiters, skipped, size, "PostgreSQL", "postgresql", "Latchkey LockTemplate", 1, 8, false);
			manyWaiters(manyWaiters, skipped, size, "PostgreSQL", "pg-row-floor",
					"floor: upsert + delete (2 raw statements)", 1, 8, false);
			manyWaiters(manyWaiters, skipped, size, "PostgreSQL", "postgresql-unlogged",
					"Latchkey LockTemplate, unlogged table", 1, 8, false);
			manyWaiters(manyWaiters, skipped, size, "PostgreSQL", "pg-row-floor-unlogged", "floor, unlogged table", 1,
					8, false);
			manyWaiters(manyWaiters, skipped, size, "PostgreSQL", "pg-advisory-lock", "pg_advisory_lock", 1, 8, false);
			manyWaiters(manyWaiters, skipped, size, "PostgreSQL", "postgresql", "Latchkey LockTemplate", 8, 1, false);
		}
		String etcd = System.getenv("LATCHKEY_TEST_ETCD_ENDPOINTS");
		if (reachable("etcd", "LATCHKEY_TEST_ETCD_ENDPOINTS", etcd, skipped)) {
			run("etcd", results, skipped,
					() -> EtcdBenchmark.measure(etcd, size.etcdIterations, size.contendedRun, readersHeavy, out));
			manyWaiters(manyWaiters, skipped, size, "etcd", "etcd", "Latchkey LockTemplate, fair", 8, 1, true);
			manyWaiters(manyWaiters, skipped, size, "etcd", "jetcd-lock", "jetcd Lock client", 8, 1, false);
			manyWaiters(manyWaiters, skipped, size, "etcd", "etcd", "Latchkey LockTemplate", 8, 1, false);
		}
		String caption = String.format(Locale.ROOT,
				"%s, %s size, JDK %s (%s), %d cores, load average %s before and %s after (1, 5, 15 min)",
				LocalDate.now(ZoneOffset.UTC), size.name().toLowerCase(Locale.ROOT), System.getProperty("java.version"),
				System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(), loadBefore,
				loadAverage());
		if (busy(loadBefore) || busy(loadAverage())) {
			caption += ": more than the cores, other work was running and the figures are noisy";
		}
		String section = section(results, readersHeavy, manyWaiters, skipped, caption, size);
		out.println();
		out.println(section);
		if (write) {
			Path directory = directory();
			Path readme = directory.resolve("README.md");
			Files.writeString(readme, replaceSection(Files.readString(readme), section));
			Files.writeString(directory.resolve("results.svg"), ResultsChart.svg(results, caption));
			out.println("Wrote " + readme + " and " + directory.resolve("results.svg"));
		}
	}

	/**
	 * The run sizes: quick for a look in a few minutes, full for the figures to compare.
	 */
	enum Size {

		QUICK(20_000, 5_000, 5_000, 1_000, 0, 1_000, Duration.ofSeconds(2)),

		FULL(200_000, 20_000, 20_000, 5_000, 200, 5_000, Duration.ofSeconds(5));

		final int memoryIterations;

		final int socketIterations;

		final int redisIterations;

		final int jdbcIterations;

		final int jdbcHandOffRounds;

		final int etcdIterations;

		final Duration contendedRun;

		Size(int memoryIterations, int socketIterations, int redisIterations, int jdbcIterations, int jdbcHandOffRounds,
				int etcdIterations, Duration contendedRun) {
			this.memoryIterations = memoryIterations;
			this.socketIterations = socketIterations;
			this.redisIterations = redisIterations;
			this.jdbcIterations = jdbcIterations;
			this.jdbcHandOffRounds = jdbcHandOffRounds;
			this.etcdIterations = etcdIterations;
			this.contendedRun = contendedRun;
		}

	}

	/**
	 * A harness's run.
	 */
	private interface Harness {

		List<BenchmarkResult> measure() throws Exception;

	}

	/**
	 * One row of the many-waiters table.
	 *
	 * @param backend the backend
	 * @param contender Latchkey or the peer, as the table names it
	 * @param instances the instances
	 * @param threads the threads of each instance
	 * @param result the figures
	 */
	record ManyWaitersRow(String backend, String contender, int instances, int threads, ManyWaiters.Result result) {

		boolean isLatchkey() {
			return this.contender.startsWith("Latchkey");
		}

	}

	/**
	 * Runs one many-waiters contender ({@link ManyWaiters}) for the run's contended time.
	 */
	private static void manyWaiters(List<ManyWaitersRow> rows, List<String> skipped, Size size, String backend,
			String argument, String contender, int instances, int threads, boolean fair) {
		out.printf(Locale.ROOT, "--- ManyWaiters %s %d %d%s%n", argument, instances, threads, fair ? " fair" : "");
		try {
			ManyWaiters.Result result = ManyWaiters.measure(argument, instances, threads, size.contendedRun, fair, out);
			if (result != null) {
				rows.add(new ManyWaitersRow(backend, contender, instances, threads, result));
			}
			else {
				skipped.add(backend + ", " + contender + ", " + instances + " × " + threads + ": no grant");
			}
		}
		catch (Exception ex) {
			String line = backend + ", " + contender + ", " + instances + " × " + threads + ": failed, " + ex;
			out.println(line);
			skipped.add(line);
		}
	}

	private static void run(String backend, List<BenchmarkResult> results, List<String> skipped, Harness harness) {
		out.println("=== " + backend + " ===");
		try {
			results.addAll(harness.measure());
		}
		catch (Exception ex) {
			String line = backend + ": failed, " + ex;
			out.println(line);
			skipped.add(line);
		}
		out.println();
	}

	/**
	 * Whether the server named by an environment variable answers; if not, says so and
	 * records the backend as skipped.
	 */
	private static boolean reachable(String backend, String variable, @Nullable String address, List<String> skipped) {
		String reason = null;
		if (address == null || address.isBlank()) {
			reason = variable + " is not set (eval \"$(scripts/services.sh)\" sets it)";
		}
		else {
			URI uri = URI.create(address.split(",")[0].replaceFirst("^jdbc:", ""));
			try (Socket socket = new Socket()) {
				socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 2_000);
			}
			catch (IOException ex) {
				reason = "nothing answers at " + uri.getHost() + ":" + uri.getPort() + " (" + variable + ")";
			}
		}
		if (reason == null) {
			return true;
		}
		String line = backend + ": skipped, " + reason;
		out.println("=== " + line + " ===");
		out.println();
		skipped.add(line);
		return false;
	}

	/**
	 * The memory backend next to the floor of a {@link ReentrantLock}: in one JVM, with
	 * no server, the same two measures as the other backends.
	 */
	private static List<BenchmarkResult> memory(Size size, List<ReadersHeavy.Result> readersHeavy)
			throws InterruptedException {
		List<BenchmarkResult> results = new ArrayList<>();
		int iterations = size.memoryIterations;
		int warmUps = Math.max(iterations / 2, 5_000);
		ReentrantLock lock = new ReentrantLock();
		Runnable locked = () -> {
			lock.lock();
			try {
				Measurements.work();
			}
			finally {
				lock.unlock();
			}
		};
		results.add(memoryResult("floor: ReentrantLock lock + unlock", Measurements.time(locked, warmUps, iterations),
				locked, size));
		MemoryLockRepository repository = new MemoryLockRepository();
		results.add(memoryResult("Latchkey MemoryLockRepository (SPI)", Measurements.time(() -> {
			LeaseSpec lease = LeaseSpec.exclusive("bench", "bench", UUID.randomUUID().toString(),
					Duration.ofSeconds(30));
			repository.tryAcquire(lease);
			repository.release(lease);
		}, warmUps, iterations), null, size));
		try (LockTemplate template = new LockTemplate(repository,
				LockSettings.defaults().withOwner("bench").withWaitTime(Duration.ofSeconds(30)), null)) {
			results.add(memoryResult("Latchkey LockTemplate",
					Measurements.time(() -> template.exclusive("bench").acquire().close(), warmUps, iterations),
					() -> template.exclusive("bench-contended").run(Measurements::work), size));
			results.add(memoryResult(
					"Latchkey LockTemplate, two keys", Measurements
						.time(() -> template.exclusive("bench", "bench-b").acquire().close(), warmUps, iterations),
					null, size));
			results.add(memoryResult("Latchkey LockTemplate, four keys",
					Measurements.time(
							() -> template.exclusive("bench", "bench-b", "bench-c", "bench-d").acquire().close(),
							warmUps, iterations),
					null, size));
			readersHeavy.add(ReadersHeavy.measure("memory", "floor: ReentrantReadWriteLock",
					ReadersHeavy.of(new ReentrantReadWriteLock()), size.contendedRun, out));
			readersHeavy.add(ReadersHeavy.measure("memory", "Latchkey LockTemplate",
					ReadersHeavy.of(template, "bench-rw"), size.contendedRun, out));
		}
		out.printf(Locale.ROOT, "%-44s %10s %10s %12s %14s%n", "contender", "p50 us", "p99 us", "ops/s (1 t)",
				"ops/s (8 t)");
		for (BenchmarkResult result : results) {
			out.printf(Locale.ROOT, "%-44s %10.2f %10.2f %,12.0f %s%n", result.contender(), result.p50Micros(),
					result.p99Micros(), result.opsPerSecond(),
					Measurements.contendedColumn(result.contendedOpsPerSecond()));
		}
		return results;
	}

	private static BenchmarkResult memoryResult(String contender, Measurements.Timings timings,
			@Nullable Runnable contended, Size size) throws InterruptedException {
		return BenchmarkResult.of("memory", contender, timings, Double.NaN, "",
				Measurements.contendedThroughputOrNaN(contended, 8, size.contendedRun));
	}

	/**
	 * The Markdown that goes between the markers: the caption, what was skipped, and one
	 * table of every contender.
	 */
	static String section(List<BenchmarkResult> results, List<ReadersHeavy.Result> readersHeavy,
			List<ManyWaitersRow> manyWaiters, List<String> skipped, String caption, Size size) {
		StringBuilder section = new StringBuilder();
		section.append("_Generated by `BenchmarkSuite ")
			.append(size.name().toLowerCase(Locale.ROOT))
			.append("`; do not edit by hand._ ")
			.append(caption)
			.append(".\n\n");
		for (String line : skipped) {
			section.append("- ").append(line).append('\n');
		}
		if (!skipped.isEmpty()) {
			section.append('\n');
		}
		section
			.append("| backend | contender | p50 µs | p99 µs | ops/s, 1 thread | requests/op | ops/s, 8 threads |\n");
		section.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
		for (BenchmarkResult result : results) {
			String contender = result.isLatchkey() ? "**" + result.contender() + "**" : result.contender();
			section.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", result.backend(),
					contender, micros(result.p50Micros()), micros(result.p99Micros()), count(result.opsPerSecond()),
					Double.isNaN(result.requestsPerOp()) ? "–"
							: String.format(Locale.ROOT, "%.2f %s", result.requestsPerOp(), result.requestUnit()),
					count(result.contendedOpsPerSecond())));
		}
		if (!readersHeavy.isEmpty()) {
			section.append("\n").append(READERS_HEAVY_CAPTION).append("\n\n");
			section.append(READERS_HEAVY_HEADER).append('\n');
			section.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
			for (ReadersHeavy.Result result : readersHeavy) {
				String contender = result.isLatchkey() ? "**" + result.contender() + "**" : result.contender();
				section.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %d |%n",
						result.backend(), contender, count(result.readerOpsPerSecond()),
						count(result.writerOpsPerSecond()), micros(result.readerWaitP50Micros()),
						micros(result.readerWaitP99Micros()), micros(result.writerWaitP50Micros()),
						micros(result.writerWaitP99Micros()), result.overlaps()));
			}
		}
		if (!manyWaiters.isEmpty()) {
			section.append("\n").append(MANY_WAITERS_CAPTION).append("\n\n");
			section.append(MANY_WAITERS_HEADER).append('\n');
			section.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
			for (ManyWaitersRow row : manyWaiters) {
				ManyWaiters.Result result = row.result();
				String contender = row.isLatchkey() ? "**" + row.contender() + "**" : row.contender();
				section
					.append(String.format(Locale.ROOT, "| %s | %s | %d × %d | %s | %s | %s | %s | %.1f | %,d–%,d |%n",
							row.backend(), contender, row.instances(), row.threads(), count(result.handOffsPerSecond()),
							Double.isNaN(result.requestsPerHandOff()) ? "–"
									: String.format(Locale.ROOT, "%.2f", result.requestsPerHandOff()),
							millis(result.waitP50Millis()), millis(result.waitP99Millis()), result.maxOverMean(),
							result.minGrants(), result.maxGrants()));
			}
		}
		return section.toString().replace(System.lineSeparator(), "\n");
	}

	/**
	 * Draws {@code results.svg} again from the table and caption in the README's section,
	 * without measuring: for a change to the chart itself.
	 */
	private static void redraw() throws IOException {
		Path directory = directory();
		String readme = Files.readString(directory.resolve("README.md"));
		String section = readme.substring(readme.indexOf(BEGIN), readme.indexOf(END));
		List<BenchmarkResult> results = new ArrayList<>();
		String caption = "";
		for (String line : section.split("\n")) {
			if (line.equals(READERS_HEAVY_HEADER) || line.equals(MANY_WAITERS_HEADER)) {
				break;
			}
			if (line.startsWith("_Generated by")) {
				caption = line.substring(line.indexOf("._ ") + 3).replaceFirst("\\.$", "");
			}
			else if (line.startsWith("| ") && !line.startsWith("| backend") && !line.startsWith("| ---")) {
				String[] cells = line.substring(2, line.length() - 2).split(" \\| ");
				String[] requests = cells[5].split(" ", 2);
				results.add(new BenchmarkResult(cells[0], cells[1].replace("**", ""), number(cells[2]),
						number(cells[3]), number(cells[4]), number(requests[0]),
						(requests.length > 1) ? requests[1] : "", number(cells[6])));
			}
		}
		Files.writeString(directory.resolve("results.svg"), ResultsChart.svg(results, caption));
		out.println("Drew " + directory.resolve("results.svg") + " from the " + results.size() + " rows in "
				+ directory.resolve("README.md"));
	}

	private static double number(String cell) {
		return "–".equals(cell) ? Double.NaN : Double.parseDouble(cell.replace(",", ""));
	}

	private static Path directory() {
		return Files.isDirectory(Path.of("benchmarks")) ? Path.of("benchmarks") : Path.of(".");
	}

	static String replaceSection(String readme, String section) {
		int begin = readme.indexOf(BEGIN);
		int end = readme.indexOf(END);
		if (begin < 0 || end < begin) {
			throw new IllegalStateException("The README has no " + BEGIN + " ... " + END + " section");
		}
		return readme.substring(0, begin + BEGIN.length()) + "\n" + section + "\n" + readme.substring(end);
	}

	private static String millis(double value) {
		return (value < 10) ? String.format(Locale.ROOT, "%.1f", value) : String.format(Locale.ROOT, "%,.0f", value);
	}

	private static String micros(double value) {
		if (Double.isNaN(value)) {
			return "–";
		}
		return (value < 10) ? String.format(Locale.ROOT, "%.2f", value) : String.format(Locale.ROOT, "%,.0f", value);
	}

	private static String count(double value) {
		return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%,.0f", value);
	}

	private static boolean busy(String loadAverage) {
		try {
			return Double.parseDouble(loadAverage.split(" ")[0]) > Runtime.getRuntime().availableProcessors();
		}
		catch (NumberFormatException ex) {
			return false;
		}
	}

	static String loadAverage() {
		try {
			String[] fields = Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII).trim().split(" ");
			return fields[0] + " " + fields[1] + " " + fields[2];
		}
		catch (IOException | RuntimeException ex) {
			return "unknown";
		}
	}

}
