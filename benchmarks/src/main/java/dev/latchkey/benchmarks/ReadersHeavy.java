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

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;

import dev.latchkey.LockTemplate;

/**
 * A readers-heavy workload on one key: {@value #READERS} reader threads take the shared
 * lock and read a value, one writer thread takes the exclusive lock and bumps it, each
 * for a few microseconds of work, all looping for a fixed time after a second of warm-up.
 * Counts each side's operations per second and the time each waited for its lock (p50 and
 * p99), and checks the locking while it measures: every critical section counts the
 * readers and writers inside it, and a writer that meets anyone else, or a reader that
 * meets a writer, is an overlap (there must be none).
 *
 * <pre class="code">
 * ReadersHeavy.Result result = ReadersHeavy.measure("Redis", "Latchkey LockTemplate",
 *         ReadersHeavy.of(template, "bench-rw"), Duration.ofSeconds(2), System.out);
 * </pre>
 */
final class ReadersHeavy {

	static final int READERS = 8;

	/**
	 * Per thread, the most wait times kept: enough for the percentiles, bounded for the
	 * memory backend's millions of operations.
	 */
	private static final int MAX_SAMPLES = 1 << 18;

	private static final long WORK_NANOS = 5_000;

	private ReadersHeavy() {
	}

	/**
	 * Takes a lock, runs the critical section and releases the lock.
	 */
	interface Locking {

		void locked(Runnable criticalSection);

	}

	/**
	 * The shared and exclusive locking of one key.
	 *
	 * @param read how a reader takes the key
	 * @param write how the writer takes the key
	 */
	record Locks(Locking read, Locking write) {

	}

	/**
	 * One contender's figures.
	 *
	 * @param backend the backend measured
	 * @param contender who is measured
	 * @param readerOpsPerSecond reads per second, all readers together
	 * @param writerOpsPerSecond writes per second
	 * @param readerWaitP50Micros median wait of a reader for its lock, in microseconds
	 * @param readerWaitP99Micros 99th percentile of a reader's wait
	 * @param writerWaitP50Micros median wait of the writer for its lock
	 * @param writerWaitP99Micros 99th percentile of the writer's wait
	 * @param overlaps critical sections that met one they must exclude (must be 0)
	 */
	record Result(String backend, String contender, double readerOpsPerSecond, double writerOpsPerSecond,
			double readerWaitP50Micros, double readerWaitP99Micros, double writerWaitP50Micros,
			double writerWaitP99Micros, long overlaps) {

		boolean isLatchkey() {
			return this.contender.startsWith("Latchkey");
		}

	}

	/**
	 * A key's shared and exclusive lock through a {@link LockTemplate}.
	 * @param template the template
	 * @param key the key
	 * @return the locking of the key
	 */
	static Locks of(LockTemplate template, String key) {
		return new Locks((section) -> template.shared(key).run(section),
				(section) -> template.exclusive(key).run(section));
	}

	/**
	 * Two lockings of the same key, from two clients, taken in turns: the readers and the
	 * writer alternate between them, as they would between two processes.
	 * @param one the key through one client
	 * @param other the key through the other
	 * @return the locking of the key, alternating
	 */
	static Locks alternating(Locks one, Locks other) {
		AtomicLong turn = new AtomicLong();
		return new Locks((section) -> ((turn.getAndIncrement() % 2 == 0) ? one : other).read().locked(section),
				(section) -> ((turn.getAndIncrement() % 2 == 0) ? one : other).write().locked(section));
	}

	/**
	 * A {@link ReadWriteLock}'s two locks: a JDK one, or Redisson's
	 * {@code RReadWriteLock}.
	 * @param lock the read/write lock
	 * @return the locking of its key
	 */
	static Locks of(ReadWriteLock lock) {
		return new Locks((section) -> locked(lock.readLock(), section), (section) -> locked(lock.writeLock(), section));
	}

	private static void locked(java.util.concurrent.locks.Lock lock, Runnable section) {
		lock.lock();
		try {
			section.run();
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * Runs the workload and prints one line of figures.
	 * @param backend the backend measured
	 * @param contender who is measured
	 * @param locks the locking of one key
	 * @param run how long to count, after a second of warm-up
	 * @param out where to print the figures
	 * @return the figures
	 * @throws InterruptedException if interrupted while waiting
	 */
	static Result measure(String backend, String contender, Locks locks, Duration run, PrintStream out)
			throws InterruptedException {
		AtomicInteger readersInside = new AtomicInteger();
		AtomicInteger writersInside = new AtomicInteger();
		AtomicLong overlaps = new AtomicLong();
		AtomicLong value = new AtomicLong();
		AtomicBoolean running = new AtomicBoolean(true);
		AtomicBoolean counting = new AtomicBoolean();
		AtomicLong reads = new AtomicLong();
		AtomicLong writes = new AtomicLong();
		Samples[] readerWaits = new Samples[READERS];
		Samples writerWaits = new Samples(MAX_SAMPLES);
		List<Thread> threads = new ArrayList<>();
		List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
		CountDownLatch done = new CountDownLatch(READERS + 1);
		for (int i = 0; i < READERS; i++) {
			Samples waits = new Samples(MAX_SAMPLES);
			readerWaits[i] = waits;
			threads.add(new Thread(() -> loop(running, done, failures, () -> {
				long begin = System.nanoTime();
				locks.read().locked(() -> {
					long waited = System.nanoTime() - begin;
					readersInside.incrementAndGet();
					boolean overlapped = writersInside.get() != 0;
					long read = value.get();
					spin(read);
					overlapped |= writersInside.get() != 0;
					readersInside.decrementAndGet();
					if (overlapped) {
						overlaps.incrementAndGet();
					}
					if (counting.get()) {
						reads.incrementAndGet();
						waits.add(waited);
					}
				});
			}), "reader-" + i));
		}
		threads.add(new Thread(() -> loop(running, done, failures, () -> {
			long begin = System.nanoTime();
			locks.write().locked(() -> {
				long waited = System.nanoTime() - begin;
				boolean overlapped = writersInside.incrementAndGet() != 1 || readersInside.get() != 0;
				spin(value.incrementAndGet());
				overlapped |= writersInside.get() != 1 || readersInside.get() != 0;
				writersInside.decrementAndGet();
				if (overlapped) {
					overlaps.incrementAndGet();
				}
				if (counting.get()) {
					writes.incrementAndGet();
					writerWaits.add(waited);
				}
			});
		}), "writer"));
		threads.forEach(Thread::start);
		Thread.sleep(1_000);
		counting.set(true);
		long start = System.nanoTime();
		Thread.sleep(run.toMillis());
		counting.set(false);
		double seconds = (System.nanoTime() - start) / 1e9;
		running.set(false);
		if (!done.await(60, TimeUnit.SECONDS)) {
			throw new IllegalStateException("The readers and the writer did not stop within 60 s");
		}
		if (!failures.isEmpty()) {
			throw new IllegalStateException(contender + ": a reader or the writer failed", failures.get(0));
		}
		long[] readerSamples = Samples.merge(readerWaits);
		long[] writerSamples = Samples.merge(writerWaits);
		Result result = new Result(backend, contender, reads.get() / seconds, writes.get() / seconds,
				percentile(readerSamples, 0.5), percentile(readerSamples, 0.99), percentile(writerSamples, 0.5),
				percentile(writerSamples, 0.99), overlaps.get());
		out.printf(Locale.ROOT,
				"readers-heavy (%d readers, 1 writer, one key), %-40s reads/s %,10.0f  writes/s %,8.0f  "
						+ "reader wait p50/p99 %,.1f/%,.1f us  writer wait p50/p99 %,.1f/%,.1f us  overlaps %d%n",
				READERS, contender, result.readerOpsPerSecond(), result.writerOpsPerSecond(),
				result.readerWaitP50Micros(), result.readerWaitP99Micros(), result.writerWaitP50Micros(),
				result.writerWaitP99Micros(), result.overlaps());
		return result;
	}

	private static void loop(AtomicBoolean running, CountDownLatch done, List<Throwable> failures, Runnable operation) {
		try {
			while (running.get()) {
				operation.run();
			}
		}
		catch (RuntimeException | Error ex) {
			failures.add(ex);
		}
		finally {
			done.countDown();
		}
	}

	/**
	 * A few microseconds of work on the value read or written, so that readers really are
	 * inside the lock together.
	 */
	private static void spin(long seed) {
		long end = System.nanoTime() + WORK_NANOS;
		long x = seed;
		while (System.nanoTime() < end) {
			x = x * 31 + 7;
		}
		if (x == 42) {
			Thread.onSpinWait();
		}
	}

	private static double percentile(long[] sorted, double p) {
		return (sorted.length == 0) ? Double.NaN : Measurements.percentileMicros(sorted, p);
	}

}
