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

package dev.latchkey.test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.etcd.jetcd.Client;

import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisConfiguration;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LockContext;
import dev.latchkey.LockObserver;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.etcd.EtcdLockRepository;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.socket.SocketLockRepository;

/**
 * The one child process of the {@link FaultMatrix}: it locks through whichever backend
 * its first arguments name, so that every backend is driven by the same code under the
 * same faults. Started by {@link ChildProcess} with the test's class path; standard
 * output is its interface with the test (one line per event), logging goes to standard
 * error, and it exits when its standard input closes, so it never outlives the test JVM
 * for long.
 * <p>
 * Arguments: {@code <command> <backend> <command's own>}, where {@code <backend>} is one
 * word, its parts separated by {@code |}: {@code socket|<directory>},
 * {@code redis|<url>}, {@code redis-cluster|<host:port>,<host:port>...},
 * {@code jdbc|<jdbcUrl>|<tableName>} or {@code etcd|<endpoint>}. Each prints
 * {@code CLOCK <epochMillis>} (its wall clock, to show an injected offset) first.
 * Commands:
 * <ul>
 * <li>{@code serve <backend>}: connects (for the socket backend: elects itself arbiter if
 * nobody serves the directory) and prints {@code READY}; then only serves standard
 * input.</li>
 * <li>{@code guard <backend> <key> <ttlMillis> <store>}: acquires the key (wait 60 s) and
 * runs a critical section that, every 50 ms, checks the lease
 * ({@code LockContext.assertHeld()}) and writes its fencing token to the
 * {@link FencedStore} {@code store}. Prints {@code HELD <token>} when granted,
 * {@code WROTE <token> <accepted>} after its first write,
 * {@code LOST <key> <reason> <token> <epochMillis>} when the lease is lost
 * ({@code LockLostEvent}), {@code ASSERT_FAILED <reason> <epochMillis>} when the check
 * fails, and {@code ENDED <how>} when the critical section is over.</li>
 * <li>{@code waitfor <backend> <key> <ttlMillis> <waitMillis> <store> [fair]}: prints
 * {@code WAITING}, then acquires the key once, waiting up to {@code waitMillis} (in the
 * key's fair queue with {@code fair}). Granted, it writes its token to the store and
 * prints {@code RAN <token> <accepted>}; otherwise {@code NOT_ACQUIRED};
 * {@code ABORTED <reason>} if the lease turned out lost.</li>
 * <li>{@code count <backend> <key> <threads> <iterations> <ttlMillis> <counter> <store>}:
 * prints {@code READY} and waits for the line {@code go}; then that many threads each
 * take the key that many times (wait 120 s) and, holding it, write the token to the store
 * and increment the integer in {@code counter} with no other guard (read, sleep 1 ms,
 * write by an atomic rename): two holders at once lose an update. Prints
 * {@code DONE <grants>}, or {@code ERROR <exception>} for each failed round.</li>
 * </ul>
 */
final class FaultChild {

	private static final PrintStream protocol = System.out;

	private static final String NAMESPACE = FaultMatrix.NAMESPACE;

	private FaultChild() {
	}

	public static void main(String[] args) throws Exception {
		System.setOut(System.err);
		print("CLOCK " + Instant.now().toEpochMilli());
		LockRepository repository = repository(args[1]);
		connect(repository);
		switch (args[0]) {
			case "serve" -> print("READY");
			case "guard" -> guard(repository, args[2], millis(args[3]), Path.of(args[4]));
			case "waitfor" -> waitFor(repository, args[2], millis(args[3]), millis(args[4]), Path.of(args[5]),
					args.length > 6 && args[6].equals("fair"));
			case "count" -> count(repository, args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]),
					millis(args[5]), Path.of(args[6]), Path.of(args[7]));
			default -> throw new IllegalArgumentException("Unknown command " + args[0]);
		}
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		while (in.readLine() != null) {
			// Nothing more to do: wait until the test is gone, then go too, whatever this
			// process holds.
		}
		Runtime.getRuntime().halt(0);
	}

	/**
	 * Makes a first call, again until it succeeds: a cold JVM on a loaded machine may
	 * take longer to open its first connection than the short timeouts that the faults
	 * need.
	 */
	private static void connect(LockRepository repository) throws InterruptedException {
		long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
		while (true) {
			try {
				repository.inspect("probe");
				return;
			}
			catch (RuntimeException ex) {
				if (System.nanoTime() > deadline) {
					throw ex;
				}
				ex.printStackTrace();
				Thread.sleep(200);
			}
		}
	}

	/**
	 * The repository a backend argument names, made the way an application would make it,
	 * with short timeouts so that a stopped server fails calls well within the matrix's
	 * short TTLs.
	 */
	static LockRepository repository(String backend) {
		String[] parts = backend.split("\\|");
		return switch (parts[0]) {
			case "socket" -> new SocketLockRepository(Path.of(parts[1]), "pid-" + ProcessHandle.current().pid(),
					Duration.ofSeconds(5));
			case "redis" -> {
				URI url = URI.create(parts[1]);
				yield redis(new RedisStandaloneConfiguration(url.getHost(), url.getPort()));
			}
			case "redis-cluster" -> redis(new RedisClusterConfiguration(List.of(parts[1].split(","))));
			case "jdbc" -> {
				HikariConfig config = new HikariConfig();
				config.setJdbcUrl(parts[1]);
				config.setMaximumPoolSize(8);
				config.setConnectionTimeout(5000);
				yield new JdbcLockRepository(new HikariDataSource(config), parts[2]);
			}
			case "etcd" -> new EtcdLockRepository(
					Client.builder().endpoints(URI.create(parts[1])).connectTimeout(Duration.ofSeconds(2)).build(),
					NAMESPACE + "/", Duration.ofSeconds(1));
			default -> throw new IllegalArgumentException("Unknown backend " + backend);
		};
	}

	private static RedisLockRepository redis(RedisConfiguration configuration) {
		LettuceConnectionFactory factory = new LettuceConnectionFactory(configuration,
				LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(1)).build());
		factory.afterPropertiesSet();
		factory.start();
		return new RedisLockRepository(factory, NAMESPACE);
	}

	private static void guard(LockRepository repository, String key, Duration ttl, Path store) {
		LockTemplate template = new LockTemplate(repository, settings().withTtl(ttl), lossPrinter());
		Thread thread = new Thread(
				() -> print("ENDED "
						+ ChildSections.guard(template, key, Duration.ofSeconds(60), store, FaultChild::print)),
				"fault-child-guard");
		thread.start();
	}

	private static void waitFor(LockRepository repository, String key, Duration ttl, Duration waitTime, Path store,
			boolean fair) {
		LockTemplate template = new LockTemplate(repository, settings().withFair(fair), lossPrinter());
		Thread thread = new Thread(() -> {
			print("WAITING");
			ChildSections.waitFor(template, key, ttl, waitTime, store, FaultChild::print);
		}, "fault-child-waiter");
		thread.start();
	}

	private static void count(LockRepository repository, String key, int threads, int iterations, Duration ttl,
			Path counter, Path store) throws IOException {
		LockTemplate template = new LockTemplate(repository, settings().withTtl(ttl), lossPrinter());
		// Connected before the start signal, so that every thread of every process
		// contends from the first moment.
		print("READY");
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		String line;
		while ((line = in.readLine()) != null && !"go".equals(line)) {
			// Wait for the start signal.
		}
		CountDownLatch done = new CountDownLatch(threads);
		AtomicInteger grants = new AtomicInteger();
		String writer = "counter-" + ProcessHandle.current().pid();
		List<Thread> workers = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			Thread worker = new Thread(() -> {
				try {
					for (int i = 0; i < iterations; i++) {
						try {
							template.exclusive(key).waitTime(Duration.ofSeconds(120)).run(() -> {
								FencedStore.write(store, LockContext.fencingToken(), writer);
								ChildSections.increment(counter, 1);
								grants.incrementAndGet();
							});
						}
						catch (RuntimeException ex) {
							ex.printStackTrace();
							print("ERROR " + ChildSections.oneLine(ex));
						}
					}
				}
				finally {
					done.countDown();
				}
			}, "fault-child-counter-" + t);
			workers.add(worker);
		}
		workers.forEach(Thread::start);
		try {
			done.await();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		print("DONE " + grants.get());
	}

	private static LockObserver lossPrinter() {
		return new EventPublishingLockObserver((event) -> {
			if (event instanceof LockLostEvent lost) {
				print("LOST " + lost.getKey() + " " + lost.getReason() + " " + lost.getFencingToken() + " "
						+ System.currentTimeMillis());
			}
		});
	}

	private static LockSettings settings() {
		return LockSettings.defaults().withOwner("child-" + ProcessHandle.current().pid());
	}

	private static Duration millis(String value) {
		return Duration.ofMillis(Long.parseLong(value));
	}

	private static void print(String line) {
		synchronized (protocol) {
			protocol.println(line);
			protocol.flush();
		}
	}

}
