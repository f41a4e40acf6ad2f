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
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

import io.lettuce.core.RedisClient;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.jspecify.annotations.Nullable;
import org.redisson.Redisson;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.integration.redis.util.RedisLockRegistry;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.redis.RedisLockRepository;

/**
 * The Redis backend next to the floor of two raw Lettuce round trips, Redisson's
 * {@code RLock} and Spring Integration's {@code RedisLockRegistry}, against the same
 * Redis, in one run.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.latchkey.benchmarks.RedisBenchmark [redis://host:port] [iterations]
 * </pre>
 * <p>
 * For each contender: single-thread uncontended acquire+release latency (percentiles) and
 * throughput, the commands a client sends per acquire+release (counted with
 * {@code MONITOR} in a separate pass, leaving out the commands that scripts run inside
 * the server), and the throughput of 8 threads contending for one key.
 */
public final class RedisBenchmark {

	private static final int CONTENDERS = 8;

	private static final Duration CONTENDED_RUN = Duration.ofSeconds(5);

	private final io.lettuce.core.RedisURI uri;

	private final PrintStream out;

	private final Duration contendedRun;

	private final List<BenchmarkResult> results = new ArrayList<>();

	private RedisBenchmark(io.lettuce.core.RedisURI uri, PrintStream out, Duration contendedRun) {
		this.uri = uri;
		this.out = out;
		this.contendedRun = contendedRun;
	}

	public static void main(String[] args) throws Exception {
		String url = (args.length > 0) ? args[0]
				: System.getenv().getOrDefault("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379");
		int iterations = (args.length > 1) ? Integer.parseInt(args[1]) : 20_000;
		measure(url, iterations, CONTENDED_RUN, new ArrayList<>(), System.out);
	}

	/**
	 * Runs every contender, printing the table as {@link #main} does.
	 * @param url the Redis URL
	 * @param iterations the timed acquire+releases per contender
	 * @param contendedRun how long to count the contended throughput, and the
	 * readers-heavy workload
	 * @param readersHeavy where to add the readers-heavy figures of Latchkey and Redisson
	 * @param out where to print the table
	 * @return each contender's figures
	 * @throws Exception if a contender fails
	 */
	static List<BenchmarkResult> measure(String url, int iterations, Duration contendedRun,
			List<ReadersHeavy.Result> readersHeavy, PrintStream out) throws Exception {
		io.lettuce.core.RedisURI uri = io.lettuce.core.RedisURI.create(url);
		RedisClient client = RedisClient.create(uri);
		LettuceConnectionFactory factory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(uri.getHost(), uri.getPort()));
		factory.afterPropertiesSet();
		factory.start();
		Config config = new Config();
		config.useSingleServer().setAddress("redis://" + uri.getHost() + ":" + uri.getPort());
		RedissonClient redisson = Redisson.create(config);
		RedisLockRegistry registry = new RedisLockRegistry(factory, "bench-registry-" + UUID.randomUUID(), 30_000);
		RedisLockRepository repository = new RedisLockRepository(factory, "bench-" + UUID.randomUUID());
		try (StatefulRedisConnection<String, String> floorConnection = client.connect();
				LockTemplate template = new LockTemplate(repository,
						LockSettings.defaults().withOwner("bench").withWaitTime(Duration.ofSeconds(30)), null)) {
			RedisBenchmark benchmark = new RedisBenchmark(uri, out, contendedRun);
			benchmark.out.printf(Locale.ROOT, "Redis at %s, %d iterations, %d contenders for %s, JDK %s%n", url,
					iterations, CONTENDERS, contendedRun, System.getProperty("java.version"));
			benchmark.out.printf(Locale.ROOT, "%-44s %10s %10s %10s %12s %10s %14s%n", "contender", "p50 us", "p90 us",
					"p99 us", "ops/s (1 t)", "cmds/op", "ops/s (8 t)");
			RedisCommands<String, String> floor = floorConnection.sync();
			benchmark.run("floor: SET NX PX + DEL (2 round trips)", iterations, () -> {
				String key = "bench-floor";
				floor.set(key, "token", SetArgs.Builder.nx().px(30_000));
				floor.del(key);
			}, null);
			benchmark.run("Latchkey RedisLockRepository (SPI)", iterations, () -> {
				LeaseSpec lease = LeaseSpec.exclusive("bench", "bench", UUID.randomUUID().toString(),
						Duration.ofSeconds(30));
				repository.tryAcquire(lease);
				repository.release(lease);
			}, null);
			benchmark.run("Latchkey LockTemplate", iterations, () -> template.exclusive("bench").acquire().close(),
					() -> template.exclusive("bench-contended").run(Measurements::work));
			benchmark.run("Latchkey LockTemplate, two keys", iterations,
					() -> template.exclusive("bench-a", "bench-b").acquire().close(), () -> {
						// Half the callers name the keys in the other order: no deadlock.
						boolean reversed = ThreadLocalRandom.current().nextBoolean();
						template
							.exclusive(reversed ? "bench-b-contended" : "bench-a-contended",
									reversed ? "bench-a-contended" : "bench-b-contended")
							.run(Measurements::work);
					});
			benchmark.run("Latchkey LockTemplate, four keys", iterations,
					() -> template.exclusive("bench-a", "bench-b", "bench-c", "bench-d").acquire().close(), null);
			benchmark.run("Redisson RLock", iterations, () -> {
				RLock lock = redisson.getLock("bench-redisson");
				lock.lock();
				lock.unlock();
			}, () -> {
				RLock lock = redisson.getLock("bench-redisson-contended");
				lock.lock();
				try {
					Measurements.work();
				}
				finally {
					lock.unlock();
				}
			});
			benchmark.run("Spring Integration RedisLockRegistry", iterations, () -> {
				Lock lock = registry.obtain("bench");
				lock.lock();
				lock.unlock();
			}, () -> {
				Lock lock = registry.obtain("bench-contended");
				lock.lock();
				try {
					Measurements.work();
				}
				finally {
					lock.unlock();
				}
			});
			readersHeavy.add(ReadersHeavy.measure("Redis", "Latchkey LockTemplate",
					ReadersHeavy.of(template, "bench-rw"), contendedRun, out));
			readersHeavy.add(ReadersHeavy.measure("Redis", "Redisson RReadWriteLock",
					ReadersHeavy.of(redisson.getReadWriteLock("bench-redisson-rw")), contendedRun, out));
			return benchmark.results;
		}
		finally {
			registry.destroy();
			repository.close();
			redisson.shutdown();
			factory.destroy();
			client.shutdown();
		}
	}

	private void run(String name, int iterations, Runnable acquireRelease, @Nullable Runnable contended)
			throws Exception {
		Measurements.Timings timings = Measurements.time(acquireRelease, Math.max(iterations / 2, 5_000), iterations);
		double commandsPerOp = commandsPerOperation(acquireRelease, 1_000);
		double contendedOps = Measurements.contendedThroughputOrNaN(contended, CONTENDERS, this.contendedRun);
		this.out.printf(Locale.ROOT, "%-44s %10.1f %10.1f %10.1f %,12.0f %10.2f %s%n", name,
				timings.percentileMicros(0.5), timings.percentileMicros(0.9), timings.percentileMicros(0.99),
				timings.perSecond(), commandsPerOp, Measurements.contendedColumn(contendedOps));
		this.results.add(BenchmarkResult.of("Redis", name, timings, commandsPerOp, "commands", contendedOps));
	}

	/**
	 * Counts the commands clients send while the operation runs, with {@code MONITOR} on
	 * a connection of its own; commands run by scripts inside the server (shown as
	 * {@code [0 lua]}) are not counted.
	 */
	private double commandsPerOperation(Runnable operation, int operations) throws Exception {
		try (java.net.Socket monitor = new java.net.Socket(this.uri.getHost(), this.uri.getPort())) {
			monitor.getOutputStream().write("MONITOR\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
			java.io.BufferedReader lines = new java.io.BufferedReader(
					new java.io.InputStreamReader(monitor.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
			if (!"+OK".equals(lines.readLine())) {
				throw new IllegalStateException("MONITOR refused");
			}
			AtomicLong sent = new AtomicLong();
			String marker = "bench-marker-" + UUID.randomUUID();
			Thread reader = new Thread(() -> {
				try {
					String line;
					while ((line = lines.readLine()) != null && !line.contains(marker)) {
						if (!line.contains(" lua] ")) {
							sent.incrementAndGet();
						}
					}
				}
				catch (java.io.IOException ex) {
					// The socket closed: counting is over.
				}
			});
			reader.start();
			for (int i = 0; i < operations; i++) {
				operation.run();
			}
			RedisClient client = RedisClient.create(this.uri);
			try (StatefulRedisConnection<String, String> connection = client.connect()) {
				connection.sync().echo(marker);
			}
			finally {
				client.shutdown();
			}
			reader.join(TimeUnit.SECONDS.toMillis(30));
			return sent.get() / (double) operations;
		}
	}

}
