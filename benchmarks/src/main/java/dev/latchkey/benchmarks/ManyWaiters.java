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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

import javax.sql.DataSource;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;

import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.integration.redis.util.RedisLockRegistry;
import org.springframework.util.Assert;

import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

/**
 * Many waiters of one key over several instances: how many hand-offs a backend makes per
 * second, what each costs in backend requests, and how fairly the key goes round.
 * <p>
 * Each instance is a repository with its own client (its own Redis connection factory,
 * connection pool, etcd client or arbiter connection) and its own {@link LockTemplate},
 * as separate processes would have; they run in this JVM so that one clock times every
 * wait. Every thread of every instance takes the one key, holds it for a few microseconds
 * of work, and asks again at once, for the whole run. Requests are counted at each
 * instance's client (Lettuce's command listener, a gRPC interceptor, the PostgreSQL
 * protocol proxy the JDBC harness uses), only during the timed run.
 *
 * <pre class="code">
 * java -cp benchmarks/target/benchmarks.jar dev.latchkey.benchmarks.ManyWaiters redis 10 100 10
 * </pre>
 *
 * Arguments: the backend ({@code memory}, {@code socket}, {@code socket-remote},
 * {@code redis}, {@code redis-cluster}, {@code postgresql}, {@code postgresql-unlogged},
 * {@code etcd} or {@code etcd-cluster}; see {@link Instances}; or, to compare,
 * {@code jetcd-lock}, jetcd's own {@code Lock} service on the etcd server,
 * {@code si-redis-spin} and {@code si-redis-pubsub}, Spring Integration's
 * {@code RedisLockRegistry} of either lock type on the Redis server,
 * {@code redis-relay-floor}, the key passed round the instances by one {@code PUBLISH}
 * each, the floor of any hand-off to another instance through Redis,
 * {@code pg-advisory-lock}, PostgreSQL's {@code pg_advisory_lock} on the PostgreSQL
 * server, and {@code pg-row-floor} and {@code pg-row-floor-unlogged}, a row taken with
 * one raw upsert and given back with one raw delete, the floor of the JDBC backend's
 * hand-off), instances, threads per instance, seconds to count (after 2 s of warm-up),
 * and {@code fair} to take the key as a fair lock ({@code LockSettings.withFair(true)}):
 *
 * <pre class="code">
 * java -cp benchmarks/target/benchmarks.jar dev.latchkey.benchmarks.ManyWaiters etcd 8 1 10 fair
 * </pre>
 */
public final class ManyWaiters {

	private static final String KEY = "many-waiters";

	private static final long WORK_NANOS = 5_000;

	private static final Duration WAIT_TIME = Duration.ofMinutes(5);

	private final String backend;

	private final int instances;

	private final int threadsPerInstance;

	private final Duration run;

	private final boolean fair;

	private final PrintStream out;

	private ManyWaiters(String backend, int instances, int threadsPerInstance, Duration run, boolean fair,
			PrintStream out) {
		this.backend = backend;
		this.instances = instances;
		this.threadsPerInstance = threadsPerInstance;
		this.run = run;
		this.fair = fair;
		this.out = out;
	}

	public static void main(String[] args) throws Exception {
		if (args.length < 3) {
			System.err.println("Usage: ManyWaiters memory|socket|socket-remote|redis|redis-cluster|postgresql|"
					+ "postgresql-unlogged|etcd|etcd-cluster|"
					+ "jetcd-lock|si-redis-spin|si-redis-pubsub|redis-relay-floor|pg-advisory-lock|pg-row-floor|pg-row-floor-unlogged instances threads-per-instance [seconds] [fair]");
			System.exit(2);
		}
		Duration run = Duration.ofSeconds((args.length > 3) ? Long.parseLong(args[3]) : 10);
		boolean fair = args.length > 4 && "fair".equals(args[4]);
		measure(args[0], Integer.parseInt(args[1]), Integer.parseInt(args[2]), run, fair, System.out);
		System.exit(0);
	}

	/**
	 * Runs one contender and reports it, as {@code main} does, for
	 * {@link BenchmarkSuite}.
	 * @param contender the backend or peer, as {@code main}'s first argument
	 * @param instances the instances
	 * @param threadsPerInstance the threads of each instance
	 * @param run how long to count, after 2 s of warm-up
	 * @param fair whether Latchkey takes the key as a fair lock
	 * @param out where the report goes
	 * @return the figures, or {@code null} when nothing was granted
	 * @throws Exception if the backend cannot be reached
	 */
	static @Nullable Result measure(String contender, int instances, int threadsPerInstance, Duration run, boolean fair,
			PrintStream out) throws Exception {
		return new ManyWaiters(contender, instances, threadsPerInstance, run, fair, out).measure();
	}

	private @Nullable Result measure() throws Exception {
		try (Instances instances = new Instances(server(this.backend), "many-waiters")) {
			List<Locker> lockers = new ArrayList<>();
			String registryKey = "many-waiters-" + UUID.randomUUID();
			for (int i = 0; i < this.instances; i++) {
				lockers.add(locker(instances, i, registryKey));
			}
			return report(contend(lockers, instances.requests()));
		}
	}

	/**
	 * The server a contender runs against, as {@link Instances} names it.
	 */
	private static String server(String contender) {
		return switch (contender) {
			case "jetcd-lock" -> "etcd";
			case "si-redis-spin", "si-redis-pubsub", "redis-relay-floor" -> "redis";
			case "pg-advisory-lock", "pg-row-floor" -> "postgresql";
			case "pg-row-floor-unlogged" -> "postgresql-unlogged";
			default -> contender;
		};
	}

	/**
	 * One instance of the contender: a peer's client, the row floor, or Latchkey's
	 * template on a repository of its own.
	 */
	private Locker locker(Instances instances, int instance, String registryKey) throws Exception {
		return switch (this.backend) {
			case "jetcd-lock" -> jetcdLock(instances);
			case "si-redis-spin" ->
				springIntegration(instances, registryKey, RedisLockRegistry.RedisLockType.SPIN_LOCK);
			case "si-redis-pubsub" ->
				springIntegration(instances, registryKey, RedisLockRegistry.RedisLockType.PUB_SUB_LOCK);
			case "redis-relay-floor" -> relayFloor(instances, instance, registryKey);
			case "pg-advisory-lock" -> advisoryLock(instances, instance);
			case "pg-row-floor", "pg-row-floor-unlogged" -> rowFloor(instances, instance);
			default -> {
				LockTemplate template = new LockTemplate(instances.repository(instance),
						LockSettings.defaults()
							.withOwner("instance-" + instance)
							.withWaitTime(WAIT_TIME)
							.withFair(this.fair),
						null);
				instances.closeLater(template);
				yield (work) -> template.exclusive(KEY).run(work);
			}
		};
	}

	/**
	 * Takes the key, runs the work, and gives the key back: an instance's template, or
	 * jetcd's own {@code Lock} service.
	 */
	@FunctionalInterface
	private interface Locker {

		void run(Runnable work) throws Exception;

	}

	/**
	 * An instance of Spring Integration's {@code RedisLockRegistry}: a connection factory
	 * of its own, and the registry's lock of the key, which its threads share (its local
	 * lock hands the key between them, and only its holder asks Redis).
	 */
	private Locker springIntegration(Instances instances, String registryKey, RedisLockRegistry.RedisLockType type) {
		RedisLockRegistry registry = new RedisLockRegistry(instances.redisConnectionFactory(), registryKey, 30_000);
		registry.setRedisLockType(type);
		instances.closeLater(registry::destroy);
		Lock lock = registry.obtain(KEY);
		return (work) -> {
			lock.lockInterruptibly();
			try {
				work.run();
			}
			finally {
				lock.unlock();
			}
		};
	}

	/**
	 * The floor of a hand-off to another instance through Redis: the instances pass the
	 * key round a ring, each instance's turn beginning when Redis pushes it a message on
	 * its own channel, which the instance before it sent with one {@code PUBLISH} after
	 * its work. One command and one push per hand-off, and nothing kept in Redis: no lock
	 * does less to hand a key to a waiter of another instance, since the release must
	 * reach the server and the server must tell the waiter. Run it with one thread per
	 * instance.
	 */
	private Locker relayFloor(Instances instances, int instance, String registryKey) {
		Assert.isTrue(this.threadsPerInstance == 1,
				"redis-relay-floor passes the key between instances: " + "run it with 1 thread per instance");
		LettuceConnectionFactory factory = instances.redisConnectionFactory();
		byte[] own = (registryKey + ":" + instance).getBytes(StandardCharsets.UTF_8);
		byte[] next = (registryKey + ":" + ((instance + 1) % this.instances)).getBytes(StandardCharsets.UTF_8);
		byte[] payload = "turn".getBytes(StandardCharsets.UTF_8);
		Semaphore turn = new Semaphore((instance == 0) ? 1 : 0);
		RedisConnection subscriber = factory.getConnection();
		instances.closeLater(subscriber);
		subscriber.subscribe((message, pattern) -> turn.release(), own);
		RedisConnection publisher = factory.getConnection();
		instances.closeLater(publisher);
		return (work) -> {
			turn.acquire();
			try {
				work.run();
			}
			finally {
				publisher.publish(next, payload);
			}
		};
	}

	/**
	 * An instance of jetcd's {@code Lock} service (etcd's server-side
	 * {@code concurrency.Mutex}): a client of its own, one etcd lease granted once, and
	 * lock and unlock for every grant.
	 */
	private Locker jetcdLock(Instances instances) throws Exception {
		Client client = instances.etcdClient();
		long lease = client.getLeaseClient().grant(this.run.toSeconds() + 120).get(10, TimeUnit.SECONDS).getID();
		ByteSequence name = ByteSequence.from(instances.etcdNamespace() + KEY, StandardCharsets.UTF_8);
		return (work) -> {
			ByteSequence owned = client.getLockClient().lock(name, lease).get().getKey();
			try {
				work.run();
			}
			finally {
				client.getLockClient().unlock(owned).get();
			}
		};
	}

	/**
	 * An instance of PostgreSQL's own session-level advisory lock: a pool of its own with
	 * a connection per thread, and {@code pg_advisory_lock} and
	 * {@code pg_advisory_unlock} of one number for every grant. The server queues the
	 * waiting sessions and wakes one when the lock frees; nothing is written, so no
	 * commit waits for the disk.
	 */
	private Locker advisoryLock(Instances instances, int instance) throws Exception {
		DataSource pool = instances.postgresDataSource(instance, this.threadsPerInstance);
		long number = KEY.hashCode();
		return (work) -> {
			try (Connection connection = pool.getConnection()) {
				try (PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_lock(?)")) {
					lock.setLong(1, number);
					lock.execute();
				}
				try {
					work.run();
				}
				finally {
					try (PreparedStatement unlock = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
						unlock.setLong(1, number);
						unlock.execute();
					}
				}
			}
		};
	}

	/**
	 * The floor of a lock that is a row: the threads of an instance take turns on a fair
	 * local lock, and its holder takes the key's row with one raw upsert and gives it
	 * back with one raw delete (two commits), trying again at once while another instance
	 * has it. What Latchkey's JDBC hand-off costs at the least: its release and the next
	 * holder's acquisition are the same two statements, each a commit.
	 */
	private Locker rowFloor(Instances instances, int instance) throws Exception {
		DataSource pool = instances.postgresDataSource(instance, 2);
		String table = instances.postgresTable();
		String acquire = JdbcBenchmark.floorAcquire(table);
		String release = JdbcBenchmark.floorRelease(table);
		Lock local = new ReentrantLock(true);
		return (work) -> {
			local.lockInterruptibly();
			try {
				String token = UUID.randomUUID().toString();
				try (Connection connection = pool.getConnection()) {
					try (PreparedStatement statement = connection.prepareStatement(acquire)) {
						statement.setString(1, KEY);
						statement.setString(2, token);
						while (statement.executeUpdate() == 0) {
							Thread.onSpinWait();
						}
					}
					try {
						work.run();
					}
					finally {
						try (PreparedStatement statement = connection.prepareStatement(release)) {
							statement.setString(1, KEY);
							statement.setString(2, token);
							statement.executeUpdate();
						}
					}
				}
			}
			finally {
				local.unlock();
			}
		};
	}

	private Figures contend(List<Locker> lockers, Instances.Requests counter) throws InterruptedException {
		int threads = this.instances * this.threadsPerInstance;
		long[] grants = new long[threads];
		Samples[] waits = new Samples[threads];
		AtomicBoolean running = new AtomicBoolean(true);
		AtomicBoolean counting = new AtomicBoolean(false);
		AtomicLong countedFrom = new AtomicLong(Long.MAX_VALUE);
		LongAdder failures = new LongAdder();
		CountDownLatch done = new CountDownLatch(threads);
		List<Thread> all = new ArrayList<>(threads);
		for (int t = 0; t < threads; t++) {
			int index = t;
			Locker locker = lockers.get(t / this.threadsPerInstance);
			waits[t] = new Samples(Integer.MAX_VALUE);
			Thread thread = new Thread(() -> {
				try {
					while (running.get()) {
						long asked = System.nanoTime();
						try {
							locker.run(() -> {
								long waited = System.nanoTime() - asked;
								if (counting.get()) {
									grants[index]++;
									// Waits begun in the warm-up, while the lines formed,
									// are not this run's steady state.
									if (asked - countedFrom.get() >= 0) {
										waits[index].add(waited);
									}
								}
								spin(WORK_NANOS);
							});
						}
						catch (LockNotAcquiredException ex) {
							if (running.get()) {
								failures.increment();
							}
						}
						catch (InterruptedException ex) {
							return;
						}
						catch (Exception ex) {
							if (running.get()) {
								failures.increment();
							}
						}
					}
				}
				finally {
					done.countDown();
				}
			}, "waiter-" + t);
			thread.setDaemon(true);
			all.add(thread);
		}
		all.forEach(Thread::start);
		Thread.sleep(2_000);
		counter.begin();
		long started = System.nanoTime();
		countedFrom.set(started);
		counting.set(true);
		Thread.sleep(this.run.toMillis());
		counting.set(false);
		long elapsed = System.nanoTime() - started;
		long requests = counter.end();
		running.set(false);
		// Waiters still in line are interrupted rather than served one by one.
		all.forEach(Thread::interrupt);
		done.await(60, TimeUnit.SECONDS);
		return new Figures(grants, Samples.merge(waits), elapsed, requests, counter.counts(), failures.sum());
	}

	private @Nullable Result report(Figures figures) {
		if (figures.waits.length == 0) {
			this.out.printf(Locale.ROOT, "%s: no grant in %s%n", this.backend, this.run);
			return null;
		}
		long total = Arrays.stream(figures.grants).sum();
		double seconds = figures.elapsedNanos / 1e9;
		long[] sortedGrants = figures.grants.clone();
		Arrays.sort(sortedGrants);
		long starved = Arrays.stream(figures.grants).filter((g) -> g == 0).count();
		double meanWait = Arrays.stream(figures.waits).average().orElse(Double.NaN) / 1e6;
		double maxWait = figures.waits[figures.waits.length - 1] / 1e6;
		this.out.printf(Locale.ROOT, "%s, %d instances x %d threads on one key%s, %s counted, JDK %s%n", this.backend,
				this.instances, this.threadsPerInstance, this.fair ? " (fair)" : "", this.run,
				System.getProperty("java.version"));
		this.out.printf(Locale.ROOT, "hand-offs/s %,.0f; requests per hand-off %s%n", total / seconds,
				figures.counts ? String.format(Locale.ROOT, "%.2f", figures.requests / (double) total) : "not counted");
		this.out.printf(Locale.ROOT, "wait ms: p50 %.1f, p99 %.1f, max %.1f, mean %.1f; max/mean %.1f%n",
				Measurements.percentileMicros(figures.waits, 0.5) / 1e3,
				Measurements.percentileMicros(figures.waits, 0.99) / 1e3, maxWait, meanWait, maxWait / meanWait);
		this.out.printf(Locale.ROOT,
				"grants per thread: min %d, median %d, max %d, mean %.1f; threads with none: %d of %d%n",
				sortedGrants[0], sortedGrants[sortedGrants.length / 2], sortedGrants[sortedGrants.length - 1],
				total / (double) sortedGrants.length, starved, sortedGrants.length);
		if (figures.failures > 0) {
			this.out.printf(Locale.ROOT, "waits that ran out (%s): %d%n", WAIT_TIME, figures.failures);
		}
		this.out.println("uptime load: " + loadAverage());
		return new Result(total / seconds, figures.counts ? figures.requests / (double) total : Double.NaN,
				Measurements.percentileMicros(figures.waits, 0.5) / 1e3,
				Measurements.percentileMicros(figures.waits, 0.99) / 1e3, maxWait / meanWait, sortedGrants[0],
				sortedGrants[sortedGrants.length - 1]);
	}

	private static void spin(long nanos) {
		long until = System.nanoTime() + nanos;
		while (System.nanoTime() < until) {
			Thread.onSpinWait();
		}
	}

	private static String loadAverage() {
		try {
			return Files.readString(Path.of("/proc/loadavg")).trim();
		}
		catch (IOException ex) {
			return "unknown";
		}
	}

	/**
	 * One contender's figures.
	 *
	 * @param handOffsPerSecond grants per second over all threads
	 * @param requestsPerHandOff backend requests per grant; {@code NaN} when not counted
	 * @param waitP50Millis the median wait for the key
	 * @param waitP99Millis the 99th percentile of the waits
	 * @param maxOverMean the longest wait over the mean wait
	 * @param minGrants the fewest grants of a thread
	 * @param maxGrants the most grants of a thread
	 */
	record Result(double handOffsPerSecond, double requestsPerHandOff, double waitP50Millis, double waitP99Millis,
			double maxOverMean, long minGrants, long maxGrants) {
	}

	private record Figures(long[] grants, long[] waits, long elapsedNanos, long requests, boolean counts,
			long failures) {
	}

}
