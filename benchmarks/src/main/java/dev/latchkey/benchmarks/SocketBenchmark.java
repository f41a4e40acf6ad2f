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

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.socket.SocketLockRepository;

/**
 * The socket backend between processes, measured with a harness rather than JMH, since
 * the arbiter and the waiting holder must be other processes.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.latchkey.benchmarks.SocketBenchmark [iterations]
 * </pre>
 * <p>
 * Three measurements, each reported as percentiles of single operations:
 * <ol>
 * <li><b>floor</b>: {@code FileChannel.lock()} + release on a file in the lock directory,
 * in this process: what a lock shared through the file system costs at the least;</li>
 * <li><b>acquire+release</b>: an uncontended {@code tryAcquire} + {@code release} through
 * the repository, with the arbiter in another process (and, separately, through
 * {@link LockTemplate}, with events off), and in the process that runs the arbiter (which
 * calls it directly);</li>
 * <li><b>hand-off</b>: a child process holds a key and releases it; this process waits
 * for it through {@link LockTemplate} with slow polling, so only the arbiter's release
 * push wakes it. Measured from just before the child's release to just after this process
 * holds the key ({@link System#nanoTime()} is the same monotonic clock in every process
 * of a Linux host).</li>
 * </ol>
 * Next to the hand-off, the time one line takes through a pipe to a thread of another
 * process that is blocked reading it: the cost of waking a thread that has been idle for
 * milliseconds, which a hand-off pays three times (the arbiter's thread, the waiter's
 * connection reader, the waiting thread).
 */
public final class SocketBenchmark {

	private SocketBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		if (args.length > 0 && args[0].equals("child")) {
			child(Path.of(args[1]));
			return;
		}
		int iterations = (args.length > 0) ? Integer.parseInt(args[0]) : 20_000;
		measure(iterations, Duration.ZERO, new ArrayList<>(), System.out);
	}

	/**
	 * Runs every measurement, printing them as {@link #main} does.
	 * @param iterations the timed operations per measurement
	 * @param contendedRun how long to count the throughput of 8 threads contending for
	 * one key through {@link LockTemplate}, and the readers-heavy workload, or zero to
	 * leave both out (as {@link #main} does)
	 * @param readersHeavy where to add the readers-heavy figures of Latchkey
	 * @param out where to print the measurements
	 * @return the floor's and the acquire+release measurements' figures (the hand-off is
	 * printed only); their throughput is the samples' count over their sum
	 * @throws Exception if a measurement fails
	 */
	static List<BenchmarkResult> measure(int iterations, Duration contendedRun, List<ReadersHeavy.Result> readersHeavy,
			PrintStream out) throws Exception {
		List<BenchmarkResult> results = new ArrayList<>();
		Path directory = Files.createTempDirectory("latchkey-bench").resolve("locks");
		out.printf(Locale.ROOT, "socket backend, %d iterations, JDK %s%n", iterations,
				System.getProperty("java.version"));
		out.println(floor(directory.getParent(), iterations, results));
		Process child = startChild(directory);
		try (BufferedReader fromChild = new BufferedReader(
				new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
				PrintWriter toChild = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8)) {
			expect(fromChild, "ARBITER true");
			SocketLockRepository repository = new SocketLockRepository(directory);
			out.println(acquireRelease(repository, iterations,
					"acquire+release, repository, arbiter in another process", results));
			try (SocketLockRepository own = new SocketLockRepository(directory.resolveSibling("own"))) {
				out.println(acquireRelease(own, iterations, "acquire+release, repository, in the arbiter's own process",
						results));
			}
			LockSettings settings = LockSettings.defaults()
				.withOwner("bench")
				.withWaitTime(Duration.ofSeconds(10))
				.withPollIntervals(Duration.ofSeconds(5), Duration.ofSeconds(5));
			try (LockTemplate template = new LockTemplate(repository, settings, null)) {
				double contended = Double.NaN;
				if (!contendedRun.isZero()) {
					contended = Measurements.contendedThroughput(
							() -> template.exclusive("bench-contended").run(Measurements::work), 8, contendedRun);
				}
				out.println(templateAcquireRelease(template, iterations, contended, results));
				out.println(templateAcquireRelease(template, iterations, "two keys", results, "bench", "bench-b"));
				out.println(templateAcquireRelease(template, iterations, "four keys", results, "bench", "bench-b",
						"bench-c", "bench-d"));
				if (!contendedRun.isZero()) {
					out.printf(Locale.ROOT, "%-72s %,.0f ops/s%n",
							"contended: 8 threads of this process, LockTemplate, arbiter in another process",
							contended);
					readersHeavy.add(ReadersHeavy.measure("socket", "Latchkey LockTemplate, arbiter in another process",
							ReadersHeavy.of(template, "bench-rw"), contendedRun, out));
				}
				// Warm up the hand-off path in both processes, then measure.
				handOff(template, repository, fromChild, toChild, Math.max(200, iterations / 40));
				out.println(handOff(template, repository, fromChild, toChild, Math.max(200, iterations / 40)));
			}
			repository.close();
			toChild.println("EXIT");
		}
		finally {
			child.destroyForcibly();
		}
		return results;
	}

	private static String floor(Path directory, int iterations, List<BenchmarkResult> results) throws IOException {
		long[] samples = new long[iterations];
		try (FileChannel channel = FileChannel.open(directory.resolve("floor.lock"), StandardOpenOption.CREATE,
				StandardOpenOption.WRITE)) {
			for (int i = -Math.max(iterations / 2, 5_000); i < iterations; i++) {
				long start = System.nanoTime();
				FileLock lock = channel.lock();
				lock.release();
				if (i >= 0) {
					samples[i] = System.nanoTime() - start;
				}
			}
		}
		results.add(result("floor: FileChannel.lock + release", samples, Double.NaN));
		return report("floor: FileChannel.lock + release", samples);
	}

	private static String acquireRelease(SocketLockRepository repository, int iterations, String name,
			List<BenchmarkResult> results) {
		long[] samples = new long[iterations];
		for (int i = -Math.max(iterations / 2, 5_000); i < iterations; i++) {
			LeaseSpec lease = LeaseSpec.exclusive("bench", "bench", UUID.randomUUID().toString(),
					Duration.ofSeconds(30));
			long start = System.nanoTime();
			OptionalLong granted = repository.tryAcquire(lease);
			repository.release(lease);
			if (granted.isEmpty()) {
				throw new IllegalStateException("Uncontended acquire failed");
			}
			if (i >= 0) {
				samples[i] = System.nanoTime() - start;
			}
		}
		results.add(result("Latchkey SocketLockRepository (SPI), " + name.substring(name.indexOf("repository, ") + 12),
				samples, Double.NaN));
		return report(name, samples);
	}

	/**
	 * Uncontended acquire+release of a lock of several keys through the template (the
	 * socket backend takes them one by one: its arbiter has no request for several keys).
	 */
	private static String templateAcquireRelease(LockTemplate template, int iterations, String name,
			List<BenchmarkResult> results, String key, String... moreKeys) {
		long[] samples = new long[iterations];
		for (int i = -Math.max(iterations / 2, 5_000); i < iterations; i++) {
			long start = System.nanoTime();
			template.exclusive(key, moreKeys).acquire().close();
			if (i >= 0) {
				samples[i] = System.nanoTime() - start;
			}
		}
		results.add(result("Latchkey LockTemplate, " + name + ", arbiter in another process", samples, Double.NaN));
		return report("acquire+release, LockTemplate, " + name + ", arbiter in another process", samples);
	}

	private static String templateAcquireRelease(LockTemplate template, int iterations, double contended,
			List<BenchmarkResult> results) {
		long[] samples = new long[iterations];
		for (int i = -Math.max(iterations / 2, 5_000); i < iterations; i++) {
			long start = System.nanoTime();
			template.exclusive("bench").acquire().close();
			if (i >= 0) {
				samples[i] = System.nanoTime() - start;
			}
		}
		results.add(result("Latchkey LockTemplate, arbiter in another process", samples, contended));
		return report("acquire+release, LockTemplate (no events), arbiter in another process", samples);
	}

	private static String handOff(LockTemplate template, SocketLockRepository repository, BufferedReader fromChild,
			PrintWriter toChild, int rounds) throws IOException {
		long[] samples = new long[rounds];
		long[] pushes = new long[rounds];
		long[] pipe = new long[rounds];
		AtomicLong pushedAt = new AtomicLong();
		// Also when the arbiter's release notification (of the WATCH) reaches this
		// process: it comes after the grant the arbiter pushes to the queued waiter, so
		// it is not on the hand-off's path.
		repository.subscribe("handoff", () -> pushedAt.compareAndSet(0, System.nanoTime()));
		for (int i = 0; i < rounds; i++) {
			toChild.println("HOLD");
			expect(fromChild, "HELD");
			pushedAt.set(0);
			toChild.println("RELEASE");
			// The child prints the time just before its release; we are waiting before it
			// releases.
			long[] released = { 0 };
			int round = i;
			Thread reader = new Thread(() -> {
				try {
					String line = fromChild.readLine();
					long arrived = System.nanoTime();
					released[0] = Long.parseLong(line.substring(2));
					pipe[round] = arrived - released[0];
				}
				catch (IOException ex) {
					throw new IllegalStateException(ex);
				}
			});
			reader.start();
			try (LockHandle handle = template.exclusive("handoff").acquire()) {
				long acquired = System.nanoTime();
				reader.join();
				samples[i] = acquired - released[0];
				// The grant comes before the release notification: wait for this round's.
				long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
				while (pushedAt.get() == 0 && System.nanoTime() - deadline < 0) {
					Thread.onSpinWait();
				}
				pushes[i] = pushedAt.get() - released[0];
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
		}
		return report("hand-off to a waiting process (release push)", samples) + System.lineSeparator()
				+ report("release notification to a watcher of the key", pushes) + System.lineSeparator()
				+ report("floor: one line through a pipe to a blocked thread of another process", pipe);
	}

	static Process startChild(Path directory) throws IOException {
		String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), SocketBenchmark.class.getName(),
				"child", directory.toString())
			.redirectError(ProcessBuilder.Redirect.INHERIT)
			.start();
	}

	static void expect(BufferedReader in, String expected) throws IOException {
		String line = in.readLine();
		if (line == null || !line.startsWith(expected)) {
			throw new IllegalStateException("Expected '" + expected + "' from the child, got '" + line + "'");
		}
	}

	/**
	 * The child: becomes the arbiter, then holds and releases "handoff" on command.
	 */
	private static void child(Path directory) throws IOException {
		SocketLockRepository repository = new SocketLockRepository(directory);
		repository.list();
		PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
		out.println("ARBITER " + repository.isArbiter());
		try (LockTemplate template = new LockTemplate(repository, LockSettings.defaults().withOwner("child"), null)) {
			BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
			LockHandle held = null;
			String command;
			while ((command = in.readLine()) != null && !"EXIT".equals(command)) {
				if ("HOLD".equals(command)) {
					held = template.exclusive("handoff").acquire();
					out.println("HELD");
				}
				else if ("RELEASE".equals(command) && held != null) {
					// Give the parent time to start waiting, then release.
					sleep(2);
					out.println("T " + System.nanoTime());
					held.close();
					held = null;
				}
			}
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static String report(String name, long[] samples) {
		long[] sorted = samples.clone();
		Arrays.sort(sorted);
		return String.format(Locale.ROOT, "%-72s p50 %7.1f us  p90 %7.1f us  p99 %7.1f us  (n=%d)", name,
				percentile(sorted, 0.50), percentile(sorted, 0.90), percentile(sorted, 0.99), sorted.length);
	}

	private static BenchmarkResult result(String name, long[] samples, double contended) {
		long[] sorted = samples.clone();
		Arrays.sort(sorted);
		double total = 0;
		for (long sample : sorted) {
			total += sample;
		}
		return new BenchmarkResult("socket", name, percentile(sorted, 0.50), percentile(sorted, 0.99),
				sorted.length / (total / 1e9), Double.NaN, "", contended);
	}

	private static double percentile(long[] sorted, double p) {
		return sorted[Math.min(sorted.length - 1, (int) Math.floor(p * sorted.length))] / 1000.0;
	}

}
