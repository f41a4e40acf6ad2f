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
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
import org.jspecify.annotations.Nullable;

import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.util.StreamUtils;

import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.etcd.EtcdLockRepository;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.socket.SocketLockRepository;

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
 * Arguments: the backend ({@code memory}, {@code socket}, {@code redis},
 * {@code postgresql} or {@code etcd}; the servers from the variables the tests use; or
 * {@code jetcd-lock}, jetcd's own {@code Lock} service on the etcd server, to compare),
 * instances, threads per instance, seconds to count (after 2 s of warm-up), and
 * {@code fair} to take the key as a fair lock ({@code LockSettings.withFair(true)}):
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

	private final List<AutoCloseable> closeables = new ArrayList<>();

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
			System.err.println("Usage: ManyWaiters memory|socket|redis|postgresql|etcd|jetcd-lock instances "
					+ "threads-per-instance [seconds] [fair]");
			System.exit(2);
		}
		Duration run = Duration.ofSeconds((args.length > 3) ? Long.parseLong(args[3]) : 10);
		boolean fair = args.length > 4 && "fair".equals(args[4]);
		new ManyWaiters(args[0], Integer.parseInt(args[1]), Integer.parseInt(args[2]), run, fair, System.out).measure();
		System.exit(0);
	}

	private void measure() throws Exception {
		try {
			Counter counter = new Counter();
			List<Locker> lockers = new ArrayList<>();
			for (int i = 0; i < this.instances; i++) {
				if ("jetcd-lock".equals(this.backend)) {
					lockers.add(jetcdLock(counter));
					continue;
				}
				LockRepository repository = repository(i, counter);
				LockTemplate template = new LockTemplate(repository,
						LockSettings.defaults().withOwner("instance-" + i).withWaitTime(WAIT_TIME).withFair(this.fair),
						null);
				this.closeables.add(template);
				lockers.add((work) -> template.exclusive(KEY).run(work));
			}
			report(contend(lockers, counter));
		}
		finally {
			for (int i = this.closeables.size() - 1; i >= 0; i--) {
				try {
					this.closeables.get(i).close();
				}
				catch (Exception ex) {
					this.out.println("close: " + ex);
				}
			}
		}
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
	 * An instance of jetcd's {@code Lock} service (etcd's server-side
	 * {@code concurrency.Mutex}): a client of its own, one etcd lease granted once, and
	 * lock and unlock for every grant.
	 */
	private Locker jetcdLock(Counter counter) throws Exception {
		Client client = etcdClient(counter);
		long lease = client.getLeaseClient().grant(this.run.toSeconds() + 120).get(10, TimeUnit.SECONDS).getID();
		if (this.etcdNamespace == null) {
			this.etcdNamespace = "many-waiters-" + UUID.randomUUID() + "/";
		}
		ByteSequence name = ByteSequence.from(this.etcdNamespace + KEY, StandardCharsets.UTF_8);
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

	private Figures contend(List<Locker> lockers, Counter counter) throws InterruptedException {
		int threads = this.instances * this.threadsPerInstance;
		long[] grants = new long[threads];
		Samples[] waits = new Samples[threads];
		AtomicBoolean running = new AtomicBoolean(true);
		AtomicBoolean counting = new AtomicBoolean(false);
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
									waits[index].add(waited);
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
		counting.set(true);
		long started = System.nanoTime();
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

	private void report(Figures figures) {
		if (figures.waits.length == 0) {
			this.out.printf(Locale.ROOT, "%s: no grant in %s%n", this.backend, this.run);
			return;
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
	}

	private LockRepository repository(int instance, Counter counter) throws Exception {
		return switch (this.backend) {
			case "memory" -> {
				if (instance > 0) {
					throw new IllegalArgumentException("The memory backend has one instance per JVM: use 1 instance");
				}
				yield new MemoryLockRepository();
			}
			case "socket" -> socket(instance);
			case "redis" -> redis(counter);
			case "postgresql" -> postgresql(instance, counter);
			case "etcd" -> etcd(counter);
			default -> throw new IllegalArgumentException(
					"Unknown backend '" + this.backend + "': use memory, socket, redis, postgresql or etcd");
		};
	}

	private @Nullable Path socketDirectory;

	private LockRepository socket(int instance) throws IOException {
		if (this.socketDirectory == null) {
			this.socketDirectory = Files.createTempDirectory("latchkey-many-waiters-");
		}
		SocketLockRepository repository = new SocketLockRepository(this.socketDirectory, "instance-" + instance,
				Duration.ofSeconds(5));
		this.closeables.add(repository);
		return repository;
	}

	private @Nullable String redisNamespace;

	private LockRepository redis(Counter counter) {
		RedisURI uri = RedisURI.create(env("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379"));
		LettuceConnectionFactory factory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(uri.getHost(), uri.getPort()));
		factory.afterPropertiesSet();
		factory.start();
		this.closeables.add(factory::destroy);
		AbstractRedisClient client = (AbstractRedisClient) factory.getRequiredNativeClient();
		client.addListener(new CommandListener() {
			@Override
			public void commandStarted(CommandStartedEvent event) {
				counter.add();
			}
		});
		counter.counted();
		if (this.redisNamespace == null) {
			this.redisNamespace = "many-waiters-" + UUID.randomUUID();
		}
		return new RedisLockRepository(factory, this.redisNamespace);
	}

	private @Nullable StatementCountingProxy proxy;

	private @Nullable String table;

	private LockRepository postgresql(int instance, Counter counter) throws Exception {
		String url = env("LATCHKEY_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
		if (this.proxy == null) {
			this.proxy = new StatementCountingProxy(url);
			this.closeables.add(this.proxy);
			this.table = "LKMW_" + UUID.randomUUID().toString().substring(0, 8).toUpperCase(Locale.ROOT);
			String schema = StreamUtils.copyToString(
					new ClassPathResource("dev/latchkey/jdbc/schema-postgresql.sql").getInputStream(),
					StandardCharsets.UTF_8);
			HikariDataSource admin = pool(url, "admin", 1);
			String script = schema.replace(JdbcLockRepository.DEFAULT_TABLE_NAME, this.table);
			new ResourceDatabasePopulator(new ByteArrayResource(script.getBytes(StandardCharsets.UTF_8)))
				.execute(admin);
			this.closeables.add(() -> {
				try (Connection connection = admin.getConnection();
						Statement statement = connection.createStatement()) {
					statement.execute("DROP TABLE IF EXISTS " + this.table);
					statement.execute("DROP SEQUENCE IF EXISTS " + this.table + "_FENCING");
				}
				admin.close();
			});
			counter.countedBy(this.proxy);
		}
		HikariDataSource pool = pool(this.proxy.url(), "instance-" + instance, 10);
		this.closeables.add(pool);
		JdbcLockRepository repository = new JdbcLockRepository(pool, this.table);
		this.closeables.add(repository);
		return repository;
	}

	private static HikariDataSource pool(String url, String name, int size) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(url);
		config.setMaximumPoolSize(size);
		config.setMinimumIdle(1);
		config.setConnectionTimeout(30_000);
		config.setPoolName("many-waiters-" + name);
		return new HikariDataSource(config);
	}

	private @Nullable String etcdNamespace;

	private LockRepository etcd(Counter counter) {
		Client client = etcdClient(counter);
		if (this.etcdNamespace == null) {
			this.etcdNamespace = "many-waiters-" + UUID.randomUUID() + "/";
		}
		EtcdLockRepository repository = new EtcdLockRepository(client, this.etcdNamespace, Duration.ofSeconds(5));
		this.closeables.add(repository);
		return repository;
	}

	/**
	 * A jetcd client of its own, whose calls the counter counts.
	 */
	private Client etcdClient(Counter counter) {
		String endpoints = env("LATCHKEY_TEST_ETCD_ENDPOINTS", "http://127.0.0.1:2379");
		Client client = Client.builder().endpoints(endpoints.split(",")).interceptor(new ClientInterceptor() {
			@Override
			public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options,
					Channel next) {
				counter.add();
				return next.newCall(method, options);
			}
		}).build();
		this.closeables.add(client);
		counter.counted();
		return client;
	}

	private static void spin(long nanos) {
		long until = System.nanoTime() + nanos;
		while (System.nanoTime() < until) {
			Thread.onSpinWait();
		}
	}

	private static String env(String name, String fallback) {
		String value = System.getenv(name);
		return (value != null && !value.isBlank()) ? value : fallback;
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
	 * Backend requests of every instance during the timed run, counted at the clients:
	 * each request as it goes ({@link #add()}), or by the protocol proxy, which counts
	 * from its reset to its reading.
	 */
	private static final class Counter {

		private final LongAdder requests = new LongAdder();

		private boolean counts;

		private @Nullable StatementCountingProxy proxy;

		private long begun;

		void add() {
			this.requests.increment();
		}

		void counted() {
			this.counts = true;
		}

		void countedBy(StatementCountingProxy proxy) {
			this.counts = true;
			this.proxy = proxy;
		}

		boolean counts() {
			return this.counts;
		}

		void begin() {
			if (this.proxy != null) {
				this.proxy.reset();
			}
			this.begun = this.requests.sum();
		}

		long end() {
			return (this.proxy != null) ? this.proxy.counts().roundTrips() : this.requests.sum() - this.begun;
		}

	}

	private record Figures(long[] grants, long[] waits, long elapsedNanos, long requests, boolean counts,
			long failures) {
	}

}
