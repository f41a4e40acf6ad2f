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
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.util.Assert;
import org.springframework.util.StreamUtils;

import dev.latchkey.LockRepository;
import dev.latchkey.etcd.EtcdLockRepository;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.socket.SocketLockRepository;

/**
 * Repositories of one backend as separate instances would have them, each with its own
 * client (its own Redis connection factory, connection pool, etcd client or arbiter
 * connection), in one namespace (a Redis prefix, a table, an etcd prefix or a lock
 * directory) made for the run and dropped after it, and the backend requests of all of
 * them counted at the clients: Lettuce's command listener, a gRPC interceptor, or, for
 * PostgreSQL, the protocol proxy that counts round trips. The servers come from the
 * variables the tests use.
 *
 * <pre class="code">
 * try (Instances instances = new Instances("redis", "held-leases")) {
 *     LockRepository first = instances.repository(0);
 *     instances.requests().begin();
 *     // ...
 *     long requests = instances.requests().end();
 * }
 * </pre>
 */
final class Instances implements AutoCloseable {

	private final String backend;

	private final String name;

	private final Requests requests = new Requests();

	private final List<AutoCloseable> closeables = new ArrayList<>();

	/**
	 * Instances of a backend.
	 * @param backend {@code memory}, {@code socket}, {@code socket-remote} (the arbiter
	 * in a child JVM), {@code redis}, {@code redis-cluster} (three primaries these
	 * instances start), {@code postgresql}, {@code postgresql-unlogged} (the lock table
	 * made unlogged), {@code mariadb} (statements counted as the repository prepares
	 * them), {@code etcd} or {@code etcd-cluster} (the three members
	 * {@code scripts/services.sh} starts)
	 * @param name the harness's name, which the namespace starts with
	 */
	Instances(String backend, String name) {
		this.backend = backend;
		this.name = name;
	}

	Requests requests() {
		return this.requests;
	}

	/**
	 * Something to close, after the repositories' clients, when these instances close (in
	 * the reverse order of registration).
	 * @param closeable what to close
	 */
	void closeLater(AutoCloseable closeable) {
		this.closeables.add(closeable);
	}

	@Override
	public void close() {
		for (int i = this.closeables.size() - 1; i >= 0; i--) {
			try {
				this.closeables.get(i).close();
			}
			catch (Exception ex) {
				System.out.println("close: " + ex);
			}
		}
		this.closeables.clear();
	}

	/**
	 * A repository of its own client.
	 * @param instance the instance's number, from 0
	 * @return the repository
	 * @throws Exception if the backend cannot be reached
	 */
	LockRepository repository(int instance) throws Exception {
		return switch (this.backend) {
			case "memory" -> {
				if (instance > 0) {
					throw new IllegalArgumentException("The memory backend has one instance per JVM: use 1 instance");
				}
				yield new MemoryLockRepository();
			}
			case "socket" -> socket(instance);
			case "socket-remote" -> socketWithRemoteArbiter(instance);
			case "redis" -> redis();
			case "redis-cluster" -> redisCluster();
			case "postgresql", "postgresql-unlogged" -> postgresql(instance);
			case "mariadb" -> mariadb(instance);
			case "etcd" -> etcd(env("LATCHKEY_TEST_ETCD_ENDPOINTS", "http://127.0.0.1:2379"));
			case "etcd-cluster" -> etcd(required("LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS"));
			default -> throw new IllegalArgumentException("Unknown backend '" + this.backend
					+ "': use memory, socket, socket-remote, redis, redis-cluster, postgresql, postgresql-unlogged, mariadb,"
					+ " etcd or etcd-cluster");
		};
	}

	private @Nullable Path socketDirectory;

	private LockRepository socket(int instance) throws IOException {
		if (this.socketDirectory == null) {
			this.socketDirectory = Files.createTempDirectory("latchkey-" + this.name + "-");
		}
		SocketLockRepository repository = new SocketLockRepository(this.socketDirectory, "instance-" + instance,
				Duration.ofSeconds(5));
		this.closeables.add(repository);
		countAtArbiter(repository);
		return repository;
	}

	/**
	 * Counts the requests of every instance at the arbiter, which answers them all: asked
	 * through the first repository.
	 */
	private void countAtArbiter(SocketLockRepository repository) {
		if (!this.requests.counts()) {
			this.requests.countedAt(() -> repository.stats().requests());
		}
	}

	/**
	 * A socket repository whose arbiter is a child JVM (SocketBenchmark's child), started
	 * first, so that this process holds the clients' state only, as an application whose
	 * host's arbiter is another process does.
	 */
	private LockRepository socketWithRemoteArbiter(int instance) throws IOException {
		if (this.socketDirectory == null) {
			this.socketDirectory = Files.createTempDirectory("latchkey-" + this.name + "-");
			Process arbiter = SocketBenchmark.startChild(this.socketDirectory);
			this.closeables.add(arbiter::destroyForcibly);
			BufferedReader fromChild = new BufferedReader(
					new InputStreamReader(arbiter.getInputStream(), StandardCharsets.UTF_8));
			SocketBenchmark.expect(fromChild, "ARBITER true");
		}
		SocketLockRepository repository = new SocketLockRepository(this.socketDirectory, "instance-" + instance,
				Duration.ofSeconds(5));
		this.closeables.add(repository);
		if (repository.isArbiter()) {
			throw new IllegalStateException("This process became the arbiter of " + this.socketDirectory);
		}
		countAtArbiter(repository);
		return repository;
	}

	private @Nullable String redisNamespace;

	private LockRepository redis() {
		return redis(redisConnectionFactory());
	}

	/**
	 * A connection factory of its own, started and counted, to the Redis server: for a
	 * peer that uses Redis through its own client, as Spring Integration's
	 * {@code RedisLockRegistry} does.
	 * @return the connection factory, destroyed when these instances close
	 */
	LettuceConnectionFactory redisConnectionFactory() {
		RedisURI uri = RedisURI.create(env("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379"));
		return counted(new LettuceConnectionFactory(new RedisStandaloneConfiguration(uri.getHost(), uri.getPort())));
	}

	private @Nullable List<String> clusterNodes;

	/**
	 * A repository on a Redis Cluster of three primaries that these instances start
	 * ({@code redis-server --cluster-enabled yes}, joined by
	 * {@code redis-cli --cluster create}) and stop when they close.
	 */
	private LockRepository redisCluster() throws Exception {
		if (this.clusterNodes == null) {
			this.clusterNodes = startRedisCluster();
		}
		return redis(counted(new LettuceConnectionFactory(new RedisClusterConfiguration(this.clusterNodes))));
	}

	private List<String> startRedisCluster() throws Exception {
		Path directory = Files.createTempDirectory("latchkey-" + this.name + "-cluster-");
		List<String> nodes = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			int port = freeClusterPort();
			Process server = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
					"--save", "", "--appendonly", "no", "--cluster-enabled", "yes", "--cluster-config-file",
					directory.resolve("nodes-" + port + ".conf").toString(), "--dir", directory.toString())
				.redirectErrorStream(true)
				.redirectOutput(directory.resolve("redis-" + port + ".log").toFile())
				.start();
			this.closeables.add(() -> {
				server.destroy();
				server.waitFor(10, TimeUnit.SECONDS);
			});
			nodes.add("127.0.0.1:" + port);
			awaitCommand(10, "redis-cli", "-p", Integer.toString(port), "PING");
		}
		List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
		create.addAll(nodes);
		create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
		awaitCommand(1, create.toArray(new String[0]));
		for (String node : nodes) {
			String port = node.substring(node.indexOf(':') + 1);
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
			while (!run("redis-cli", "-p", port, "CLUSTER", "INFO").contains("cluster_state:ok")) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException("The Redis Cluster did not reach cluster_state:ok in 20 s");
				}
				Thread.sleep(50);
			}
		}
		return nodes;
	}

	private static int freeClusterPort() throws IOException {
		// Redis listens for the cluster bus 10,000 above the port.
		for (int attempt = 0; attempt < 100; attempt++) {
			int port;
			try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
				port = socket.getLocalPort();
			}
			if (port <= 55_535) {
				try (ServerSocket bus = new ServerSocket(port + 10_000, 1, InetAddress.getLoopbackAddress())) {
					return port;
				}
				catch (IOException ex) {
					// Taken: try another.
				}
			}
		}
		throw new IllegalStateException("Found no free pair of ports for a Redis Cluster node and its bus");
	}

	private static void awaitCommand(int attempts, String... command) throws Exception {
		for (int attempt = 1;; attempt++) {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0) {
				return;
			}
			if (attempt >= attempts) {
				throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
			}
			Thread.sleep(200);
		}
	}

	private static String run(String... command) throws Exception {
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		process.waitFor(30, TimeUnit.SECONDS);
		return output;
	}

	/**
	 * A repository on a connection factory made by {@link #counted}.
	 */
	private LockRepository redis(LettuceConnectionFactory factory) {
		if (this.redisNamespace == null) {
			this.redisNamespace = this.name + "-" + UUID.randomUUID();
		}
		return new RedisLockRepository(factory, this.redisNamespace);
	}

	private LettuceConnectionFactory counted(LettuceConnectionFactory factory) {
		factory.afterPropertiesSet();
		factory.start();
		this.closeables.add(factory::destroy);
		AbstractRedisClient client = (AbstractRedisClient) factory.getRequiredNativeClient();
		client.addListener(new CommandListener() {
			@Override
			public void commandStarted(CommandStartedEvent event) {
				Instances.this.requests.add();
			}
		});
		this.requests.counted();
		return factory;
	}

	private @Nullable StatementCountingProxy proxy;

	private @Nullable String table;

	private LockRepository postgresql(int instance) throws Exception {
		HikariDataSource pool = postgresDataSource(instance, 10);
		JdbcLockRepository repository = new JdbcLockRepository(pool, this.table);
		this.closeables.add(repository);
		return repository;
	}

	/**
	 * A connection pool of its own to the PostgreSQL server, through the proxy that
	 * counts the statements of every instance: for an instance's repository, or for a
	 * peer that uses PostgreSQL itself, as {@code pg_advisory_lock} does. The first call
	 * makes the lock table the repositories use.
	 * @param instance the instance's number, from 0
	 * @param size the pool's size
	 * @return the pool, closed when these instances close
	 * @throws Exception if the server cannot be reached
	 */
	HikariDataSource postgresDataSource(int instance, int size) throws Exception {
		String url = env("LATCHKEY_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
		if (this.proxy == null) {
			this.proxy = new StatementCountingProxy(url);
			this.closeables.add(this.proxy);
			this.table = "LKMW_" + UUID.randomUUID().toString().substring(0, 8).toUpperCase(Locale.ROOT);
			String schema = StreamUtils.copyToString(new ClassPathResource("postgresql-unlogged".equals(this.backend)
					? "dev/latchkey/jdbc/schema-postgresql-unlogged.sql" : "dev/latchkey/jdbc/schema-postgresql.sql")
				.getInputStream(), StandardCharsets.UTF_8);
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
			this.requests.countedBy(this.proxy);
		}
		HikariDataSource pool = pool(this.proxy.url(), "instance-" + instance, size);
		this.closeables.add(pool);
		return pool;
	}

	/**
	 * A repository on MariaDB (MySQL's statements), its pool's statements counted as the
	 * repository prepares them (each is then sent once: a round trip). The first call
	 * makes the lock table and its owners table from {@code schema-mysql.sql}.
	 */
	private LockRepository mariadb(int instance) throws Exception {
		String url = env("LATCHKEY_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/test?user=root");
		if (this.table == null) {
			String table = "LKMW_" + UUID.randomUUID().toString().substring(0, 8).toUpperCase(Locale.ROOT);
			String schema = StreamUtils.copyToString(
					new ClassPathResource("dev/latchkey/jdbc/schema-mysql.sql").getInputStream(),
					StandardCharsets.UTF_8);
			HikariDataSource admin = pool(url, "admin", 1);
			new ResourceDatabasePopulator(new ByteArrayResource(
					schema.replace(JdbcLockRepository.DEFAULT_TABLE_NAME, table).getBytes(StandardCharsets.UTF_8)))
				.execute(admin);
			this.closeables.add(() -> {
				try (Connection connection = admin.getConnection();
						Statement statement = connection.createStatement()) {
					statement.execute("DROP TABLE IF EXISTS " + table);
					statement.execute("DROP TABLE IF EXISTS " + table + "_OWNERS");
				}
				admin.close();
			});
			this.table = table;
			this.requests.counted();
		}
		HikariDataSource pool = pool(url, "instance-" + instance, 10);
		this.closeables.add(pool);
		Requests requests = this.requests;
		DataSource counting = new DelegatingDataSource(pool) {

			@Override
			public Connection getConnection() throws SQLException {
				Connection connection = super.getConnection();
				return (Connection) Proxy.newProxyInstance(Instances.class.getClassLoader(),
						new Class<?>[] { Connection.class }, (proxy, method, arguments) -> {
							if (method.getName().equals("prepareStatement")
									|| method.getName().equals("createStatement")) {
								requests.add();
							}
							try {
								return method.invoke(connection, arguments);
							}
							catch (InvocationTargetException ex) {
								throw ex.getCause();
							}
						});
			}

		};
		JdbcLockRepository repository = new JdbcLockRepository(counting, this.table);
		// -Dlatchkey.jdbc.owner-records=false renews each lease by itself, as before
		// owner records.
		repository.setOwnerRecords(Boolean.parseBoolean(System.getProperty("latchkey.jdbc.owner-records", "true")));
		this.closeables.add(repository);
		return repository;
	}

	/**
	 * The lock table of these instances on PostgreSQL, made by the first
	 * {@link #postgresDataSource}.
	 * @return the table's name
	 */
	String postgresTable() {
		Assert.state(this.table != null, "No PostgreSQL instance was made yet");
		return this.table;
	}

	private HikariDataSource pool(String url, String name, int size) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(url);
		config.setMaximumPoolSize(size);
		config.setMinimumIdle(1);
		config.setConnectionTimeout(30_000);
		config.setPoolName(this.name + "-" + name);
		return new HikariDataSource(config);
	}

	private @Nullable String etcdNamespace;

	private LockRepository etcd(String endpoints) {
		EtcdLockRepository repository = new EtcdLockRepository(etcdClient(endpoints), etcdNamespace(),
				Duration.ofSeconds(5));
		this.closeables.add(repository);
		return repository;
	}

	/**
	 * A client of its own, counted, to the etcd server of {@code etcd} instances: for a
	 * harness that compares with another etcd client library.
	 * @return the client, closed when these instances close
	 */
	Client etcdClient() {
		return etcdClient(env("LATCHKEY_TEST_ETCD_ENDPOINTS", "http://127.0.0.1:2379"));
	}

	private Client etcdClient(String endpoints) {
		Client client = Client.builder().endpoints(endpoints.split(",")).interceptor(new ClientInterceptor() {
			@Override
			public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options,
					Channel next) {
				Instances.this.requests.add();
				return next.newCall(method, options);
			}
		}).build();
		this.closeables.add(client);
		this.requests.counted();
		return client;
	}

	/**
	 * The etcd namespace of these instances, made for the run.
	 * @return the namespace, ending with a slash
	 */
	String etcdNamespace() {
		if (this.etcdNamespace == null) {
			this.etcdNamespace = this.name + "-" + UUID.randomUUID() + "/";
		}
		return this.etcdNamespace;
	}

	private static String required(String name) {
		String value = System.getenv(name);
		if (value == null || value.isBlank()) {
			throw new IllegalStateException(name + " is not set: run 'eval \"$(scripts/services.sh)\"' first, which"
					+ " starts the servers and sets it");
		}
		return value;
	}

	private static String env(String name, String fallback) {
		String value = System.getenv(name);
		return (value != null && !value.isBlank()) ? value : fallback;
	}

	/**
	 * Backend requests of every instance during a timed run, counted at the clients: each
	 * request as it goes ({@link #add()}), or by the protocol proxy, which counts from
	 * its reset to its reading; or at the server, from its counter (the socket backend's
	 * arbiter, whose readings are requests too, and taken off).
	 */
	static final class Requests {

		private final LongAdder requests = new LongAdder();

		private boolean counts;

		private @Nullable StatementCountingProxy proxy;

		private @Nullable LongSupplier server;

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

		void countedAt(LongSupplier server) {
			this.counts = true;
			this.server = server;
		}

		boolean counts() {
			return this.counts;
		}

		void begin() {
			if (this.proxy != null) {
				this.proxy.reset();
			}
			this.begun = (this.server != null) ? this.server.getAsLong() : this.requests.sum();
		}

		long end() {
			if (this.server != null) {
				// Less the reading that ends the count (the one that began it counted
				// itself before it answered).
				return this.server.getAsLong() - this.begun - 1;
			}
			return (this.proxy != null) ? this.proxy.counts().roundTrips() : this.requests.sum() - this.begun;
		}

	}

}
