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

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

/**
 * What the backend harnesses ({@link RedisBenchmark}, {@link EtcdBenchmark},
 * {@link JdbcBenchmark}) measure the same way: the guarded work, percentiles of latency
 * samples, and the throughput of threads contending for one lock.
 *
 * <pre class="code">
 * Arrays.sort(samples);
 * double p99 = Measurements.percentileMicros(samples, 0.99);
 * double opsPerSecond = Measurements.contendedThroughput(() -&gt; locks.exclusive("k").run(Measurements::work), 8,
 *         Duration.ofSeconds(5));
 * </pre>
 */
final class Measurements {

	private static final AtomicLong counter = new AtomicLong();

	private Measurements() {
	}

	/**
	 * The work done under a lock: as little as can be, so that what is measured is the
	 * locking around it.
	 */
	static void work() {
		counter.incrementAndGet();
	}

	/**
	 * A percentile of sorted samples in nanoseconds.
	 * @param sorted the samples, sorted
	 * @param p the percentile, from 0 to 1
	 * @return the percentile in microseconds
	 */
	static double percentileMicros(long[] sorted, double p) {
		return sorted[Math.min(sorted.length - 1, (int) Math.floor(p * sorted.length))] / 1000.0;
	}

	/**
	 * Times an operation on this thread, after warming it up.
	 * @param operation one acquire and release, say
	 * @param warmUps how many runs to make first, unmeasured
	 * @param iterations how many runs to time
	 * @return the runs' times
	 */
	static Timings time(Runnable operation, int warmUps, int iterations) {
		for (int i = 0; i < warmUps; i++) {
			operation.run();
		}
		long[] samples = new long[iterations];
		long start = System.nanoTime();
		for (int i = 0; i < iterations; i++) {
			long begin = System.nanoTime();
			operation.run();
			samples[i] = System.nanoTime() - begin;
		}
		long elapsed = System.nanoTime() - start;
		Arrays.sort(samples);
		return new Timings(samples, elapsed);
	}

	/**
	 * {@link #contendedThroughput} of the operation, or {@link Double#NaN} where a
	 * contender has none.
	 * @param lockedWork one acquire, work and release, or {@code null}
	 * @param contenders the number of threads
	 * @param run how long to count
	 * @return completed operations per second, or {@link Double#NaN}
	 * @throws InterruptedException if interrupted while waiting
	 */
	static double contendedThroughputOrNaN(@Nullable Runnable lockedWork, int contenders, Duration run)
			throws InterruptedException {
		return (lockedWork != null) ? contendedThroughput(lockedWork, contenders, run) : Double.NaN;
	}

	/**
	 * The contended throughput column of a harness's table.
	 * @param opsPerSecond operations per second, or {@link Double#NaN} for a dash
	 * @return the column, 14 characters wide
	 */
	static String contendedColumn(double opsPerSecond) {
		return Double.isNaN(opsPerSecond) ? String.format(Locale.ROOT, "%14s", "-")
				: String.format(Locale.ROOT, "%,14.0f", opsPerSecond);
	}

	/**
	 * Runs a locked operation on several threads at once, after a second of warm-up, and
	 * counts how many complete.
	 * @param lockedWork one acquire, work and release
	 * @param contenders the number of threads
	 * @param run how long to count
	 * @return completed operations per second
	 * @throws InterruptedException if interrupted while waiting
	 */
	static double contendedThroughput(Runnable lockedWork, int contenders, Duration run) throws InterruptedException {
		AtomicBoolean running = new AtomicBoolean(true);
		AtomicLong operations = new AtomicLong();
		CountDownLatch done = new CountDownLatch(contenders);
		List<Thread> threads = new ArrayList<>();
		for (int i = 0; i < contenders; i++) {
			Thread thread = new Thread(() -> {
				try {
					while (running.get()) {
						lockedWork.run();
						operations.incrementAndGet();
					}
				}
				finally {
					done.countDown();
				}
			});
			threads.add(thread);
			thread.start();
		}
		Thread.sleep(Duration.ofSeconds(1).toMillis());
		long from = operations.get();
		long start = System.nanoTime();
		Thread.sleep(run.toMillis());
		long counted = operations.get() - from;
		double seconds = (System.nanoTime() - start) / 1e9;
		running.set(false);
		done.await(30, TimeUnit.SECONDS);
		return counted / seconds;
	}

	/**
	 * The times of a run of {@link #time}.
	 *
	 * @param sortedNanos each operation's time, in nanoseconds, sorted
	 * @param elapsedNanos the whole run's time
	 */
	record Timings(long[] sortedNanos, long elapsedNanos) {

		double percentileMicros(double p) {
			return Measurements.percentileMicros(this.sortedNanos, p);
		}

		double perSecond() {
			return this.sortedNanos.length / (this.elapsedNanos / 1e9);
		}

	}

}
