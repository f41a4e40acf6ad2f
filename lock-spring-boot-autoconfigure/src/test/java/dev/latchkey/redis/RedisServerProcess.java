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

package dev.latchkey.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;

import org.springframework.test.util.TestSocketUtils;

import dev.latchkey.test.ServerProcesses;

/**
 * A redis-server of a test's own, on a free loopback port, with nothing kept on disk: for
 * tests that stop, restart or reconfigure a server, which they must never do to the
 * shared one. Needs the {@code redis-server} binary on the {@code PATH}
 * ({@code scripts/services.sh} installs it).
 */
final class RedisServerProcess implements AutoCloseable {

	private final int port;

	private final Path log;

	private final List<String> options;

	private Process process;

	private RedisServerProcess(int port, Path log, List<String> options) {
		this.port = port;
		this.log = log;
		this.options = options;
		this.process = launch();
	}

	/**
	 * Starts a server on a free loopback port and waits until it answers.
	 * @param directory where to keep the server's log
	 * @return the running server
	 */
	static RedisServerProcess start(Path directory) {
		return new RedisServerProcess(TestSocketUtils.findAvailableTcpPort(), directory.resolve("redis-server.log"),
				List.of());
	}

	/**
	 * Starts a server that keeps its data in an append-only file, synced on every write,
	 * so that a restart ({@link #restart()}, a SIGKILL) keeps every lease and fencing
	 * counter, and waits until it answers.
	 * @param directory where to keep the server's log and data
	 * @return the running server
	 */
	static RedisServerProcess startPersistent(Path directory) {
		return new RedisServerProcess(TestSocketUtils.findAvailableTcpPort(), directory.resolve("redis-server.log"),
				persistence(directory.resolve("redis-data")));
	}

	/**
	 * The options that keep a server's data in an append-only file in {@code data},
	 * synced on every write; the directory is made.
	 */
	private static List<String> persistence(Path data) {
		try {
			Files.createDirectories(data);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return List.of("--appendonly", "yes", "--appendfsync", "always", "--dir", data.toString());
	}

	/**
	 * Starts a server with Cluster mode enabled on a free loopback port and waits until
	 * it answers; it serves no slot until a cluster is made of it
	 * ({@code redis-cli --cluster create}).
	 * @param directory where to keep the server's log and Cluster configuration file
	 * @return the running server
	 */
	static RedisServerProcess startClusterNode(Path directory) {
		return startClusterNode(directory, false);
	}

	/**
	 * Starts a server with Cluster mode enabled, as {@link #startClusterNode(Path)} does,
	 * keeping its data, when asked, in an append-only file synced on every write, as
	 * {@link #startPersistent(Path)} does: a {@link #restart()} then keeps its slots,
	 * leases and fencing counters.
	 * @param directory where to keep the server's log, data and Cluster configuration
	 * file
	 * @param persistent whether to keep the data on disk
	 * @return the running server
	 */
	static RedisServerProcess startClusterNode(Path directory, boolean persistent) {
		int port = clusterNodePort();
		List<String> options = new ArrayList<>(List.of("--cluster-enabled", "yes", "--cluster-config-file",
				directory.resolve("nodes-" + port + ".conf").toString()));
		if (persistent) {
			options.addAll(persistence(directory.resolve("redis-data-" + port)));
		}
		return new RedisServerProcess(port, directory.resolve("redis-server-" + port + ".log"), options);
	}

	/**
	 * Starts a Cluster of primaries (no replicas) on free loopback ports, joined with
	 * {@code redis-cli --cluster create}, and waits until every node reports
	 * {@code cluster_state:ok}. <pre class="code">
	 * List&lt;RedisServerProcess&gt; nodes = RedisServerProcess.startCluster(directory, 3, false);
	 * </pre>
	 * @param directory where to keep the nodes' logs, data and Cluster configuration
	 * files
	 * @param primaries how many primaries
	 * @param persistent whether each node keeps its data on disk
	 * @return the running nodes, to close after use
	 */
	static List<RedisServerProcess> startCluster(Path directory, int primaries, boolean persistent) {
		List<RedisServerProcess> nodes = new ArrayList<>();
		try {
			for (int i = 0; i < primaries; i++) {
				nodes.add(startClusterNode(directory, persistent));
			}
			List<String> command = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
			nodes.forEach((node) -> command.add("127.0.0.1:" + node.port()));
			command.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
			Process create;
			try {
				create = new ProcessBuilder(command).redirectErrorStream(true).start();
			}
			catch (IOException ex) {
				throw new IllegalStateException("Could not run redis-cli, which this test uses to make a cluster of the"
						+ " redis-server processes it starts: install it (scripts/services.sh does) and put it on the"
						+ " PATH", ex);
			}
			String output = new String(create.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!create.waitFor(30, TimeUnit.SECONDS) || create.exitValue() != 0) {
				throw new IllegalStateException("redis-cli --cluster create failed: " + output);
			}
			awaitClusterOk(nodes);
			return nodes;
		}
		catch (IOException | InterruptedException | RuntimeException ex) {
			nodes.forEach(RedisServerProcess::close);
			if (ex instanceof InterruptedException) {
				Thread.currentThread().interrupt();
			}
			throw (ex instanceof RuntimeException runtime) ? runtime
					: new IllegalStateException("Could not start a Redis Cluster", ex);
		}
	}

	/**
	 * Waits until every node of a Cluster reports {@code cluster_state:ok}.
	 * @param nodes the Cluster's nodes
	 */
	static void awaitClusterOk(List<RedisServerProcess> nodes) {
		Awaitility.await("cluster_state:ok on every node")
			.atMost(Duration.ofSeconds(30))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> nodes.stream().allMatch((node) -> {
				String info = node.reply("CLUSTER INFO");
				return info != null && info.contains("cluster_state:ok");
			}));
	}

	/**
	 * A free port for a Cluster node: Redis listens for the cluster bus 10,000 above it,
	 * so the port must be 55,535 or less, and that one free too.
	 */
	private static int clusterNodePort() {
		for (int attempt = 0; attempt < 100; attempt++) {
			int port = TestSocketUtils.findAvailableTcpPort();
			if (port <= 55_535 && isFree(port + 10_000)) {
				return port;
			}
		}
		throw new IllegalStateException("Found no free pair of ports for a Redis Cluster node and its bus");
	}

	private static boolean isFree(int port) {
		try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	private Process launch() {
		List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(this.port), "--bind",
				"127.0.0.1", "--save", "", "--appendonly", "no"));
		command.addAll(this.options);
		Process started = ServerProcesses.start(command, this.log, "redis-server");
		ServerProcesses.awaitAnswering(started, "redis-server on port " + this.port + " answering PING", this.log,
				Duration.ofSeconds(20), () -> "+PONG".equals(command("PING")));
		return started;
	}

	/**
	 * The server's URL.
	 * @return {@code redis://127.0.0.1:<port>}
	 */
	URI url() {
		return URI.create("redis://127.0.0.1:" + this.port);
	}

	/**
	 * The server's port.
	 * @return the port
	 */
	int port() {
		return this.port;
	}

	/**
	 * The process id of the server, for signals such as {@code SIGSTOP}.
	 * @return the process id
	 */
	long pid() {
		return this.process.pid();
	}

	/**
	 * Stops the server (SIGKILL: whatever it held is gone, as nothing is kept on disk)
	 * and starts a new one on the same port.
	 */
	void restart() {
		stop();
		this.process = launch();
	}

	/**
	 * Sends one inline command and answers the first line of the reply, or {@code null}
	 * if the server does not answer.
	 * @param command the command, for example {@code "INFO commandstats"}
	 * @return the first line of the reply
	 */
	String command(String command) {
		String reply = reply(command);
		return (reply != null) ? reply.lines().findFirst().orElse("") : null;
	}

	/**
	 * Sends one inline command and answers the whole reply, for commands with a bulk
	 * reply such as {@code INFO}.
	 * @param command the command
	 * @return the reply, or {@code null} if the server does not answer
	 */
	String reply(String command) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.port), 1000);
			socket.setSoTimeout(2000);
			OutputStream out = socket.getOutputStream();
			// QUIT: the server closes the connection once it has written the reply.
			out.write((command + "\r\nQUIT\r\n").getBytes(StandardCharsets.UTF_8));
			out.flush();
			InputStream in = socket.getInputStream();
			String reply = new String(in.readAllBytes(), StandardCharsets.UTF_8);
			return reply.endsWith("+OK\r\n") ? reply.substring(0, reply.length() - 5) : reply;
		}
		catch (IOException ex) {
			return null;
		}
	}

	private void stop() {
		ServerProcesses.kill(this.process);
	}

	@Override
	public void close() {
		stop();
	}

}
