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

package dev.latchkey.etcd;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.springframework.test.util.TestSocketUtils;
import org.springframework.util.Assert;

import dev.latchkey.test.ServerProcesses;

/**
 * A private etcd cluster of one or more members on free loopback ports, with its data in
 * a temporary directory, for the tests that kill, stop or reconfigure servers, which they
 * must never do to the shared ones. Needs the {@code etcd} binary on the {@code PATH}
 * ({@code scripts/services.sh} installs it). Members use short heartbeats and elections
 * (50 ms, 500 ms), so leases may be as short as one second and a lost leader is replaced
 * quickly.
 */
final class EtcdCluster implements AutoCloseable {

	private final Path directory;

	private final List<Member> members = new ArrayList<>();

	private final String initialCluster;

	private EtcdCluster(Path directory, int size) {
		this.directory = directory;
		for (int i = 0; i < size; i++) {
			this.members.add(new Member("member-" + i, TestSocketUtils.findAvailableTcpPort(),
					TestSocketUtils.findAvailableTcpPort()));
		}
		this.initialCluster = String.join(",",
				this.members.stream().map((member) -> member.name + "=http://127.0.0.1:" + member.peerPort).toList());
	}

	/**
	 * Starts a cluster and waits until every member is healthy.
	 * @param directory where to keep the members' data and logs
	 * @param size the number of members
	 * @return the running cluster
	 */
	static EtcdCluster start(Path directory, int size) {
		try {
			Files.createDirectories(directory);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		EtcdCluster cluster = new EtcdCluster(directory, size);
		cluster.members.forEach(cluster::launch);
		for (int i = 0; i < size; i++) {
			cluster.awaitHealthy(i);
		}
		return cluster;
	}

	/**
	 * The client endpoints of every member.
	 * @return the endpoints
	 */
	List<URI> endpoints() {
		return this.members.stream().map(Member::endpoint).toList();
	}

	/**
	 * The client endpoint of one member.
	 * @param index the member
	 * @return its endpoint
	 */
	URI endpoint(int index) {
		return this.members.get(index).endpoint();
	}

	/**
	 * The process id of a running member, for signals such as {@code SIGSTOP}.
	 * @param index the member
	 * @return its process id
	 */
	long pid(int index) {
		Process process = this.members.get(index).process;
		if (process == null) {
			throw new IllegalStateException("etcd member " + index + " is not running");
		}
		return process.pid();
	}

	int size() {
		return this.members.size();
	}

	/**
	 * Kills a member with SIGKILL; its data stays, so {@link #restart(int)} brings it
	 * back as the same member.
	 * @param index the member
	 */
	void kill(int index) {
		Member member = this.members.get(index);
		if (member.process != null) {
			ServerProcesses.kill(member.process);
			member.process = null;
		}
	}

	/**
	 * Starts a killed member again, with its data.
	 * @param index the member
	 */
	void restart(int index) {
		launch(this.members.get(index));
	}

	/**
	 * Waits until a member answers its health check with {@code true} (it has a leader
	 * and serves requests).
	 * @param index the member
	 */
	void awaitHealthy(int index) {
		Member member = this.members.get(index);
		Process process = member.process;
		Assert.state(process != null, () -> "etcd " + member.name + " is not running");
		ServerProcesses.awaitAnswering(process, "etcd " + member.name + " on port " + member.clientPort + " healthy",
				member.log(this.directory), Duration.ofSeconds(30), () -> isHealthy(index));
	}

	/**
	 * Answers whether a member reports itself healthy.
	 * @param index the member
	 * @return whether {@code /health} answered {@code "health":"true"}
	 */
	boolean isHealthy(int index) {
		Member member = this.members.get(index);
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), member.clientPort), 500);
			socket.setSoTimeout(2000);
			OutputStream out = socket.getOutputStream();
			out.write("GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			return new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("\"health\":\"true\"");
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * The member that is the cluster's leader now, asked through the members' JSON
	 * gateway.
	 * @return the leader's index
	 * @throws IllegalStateException if no member answers with a leader it is itself
	 */
	int leader() {
		for (int i = 0; i < this.members.size(); i++) {
			String status = post(i, "/v3/maintenance/status", "{}");
			if (status != null) {
				String self = field(status, "member_id");
				String leader = field(status, "leader");
				if (self != null && self.equals(leader)) {
					return i;
				}
			}
		}
		throw new IllegalStateException("No etcd member is the leader");
	}

	private static String field(String json, String name) {
		int at = json.indexOf("\"" + name + "\":\"");
		if (at < 0) {
			return null;
		}
		int start = at + name.length() + 4;
		int end = json.indexOf('"', start);
		return (end > start) ? json.substring(start, end) : null;
	}

	private String post(int index, String path, String body) {
		Member member = this.members.get(index);
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), member.clientPort), 500);
			socket.setSoTimeout(2000);
			OutputStream out = socket.getOutputStream();
			byte[] content = body.getBytes(StandardCharsets.UTF_8);
			out.write(("POST " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
					+ "Content-Length: " + content.length + "\r\n\r\n")
				.getBytes(StandardCharsets.US_ASCII));
			out.write(content);
			out.flush();
			return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			return null;
		}
	}

	private void launch(Member member) {
		List<String> command = List.of("etcd", "--name", member.name, "--data-dir",
				this.directory.resolve(member.name).toString(), "--listen-client-urls", member.endpoint().toString(),
				"--advertise-client-urls", member.endpoint().toString(), "--listen-peer-urls",
				"http://127.0.0.1:" + member.peerPort, "--initial-advertise-peer-urls",
				"http://127.0.0.1:" + member.peerPort, "--initial-cluster", this.initialCluster,
				"--initial-cluster-state", "new", "--initial-cluster-token", "latchkey-fault-test",
				"--heartbeat-interval", "50", "--election-timeout", "500", "--logger", "zap", "--log-outputs",
				"stderr");
		member.process = ServerProcesses.start(command, member.log(this.directory), "etcd");
	}

	@Override
	public void close() {
		for (int i = 0; i < this.members.size(); i++) {
			kill(i);
		}
	}

	private static final class Member {

		final String name;

		final int clientPort;

		final int peerPort;

		Process process;

		Member(String name, int clientPort, int peerPort) {
			this.name = name;
			this.clientPort = clientPort;
			this.peerPort = peerPort;
		}

		URI endpoint() {
			return URI.create("http://127.0.0.1:" + this.clientPort);
		}

		Path log(Path directory) {
			return directory.resolve(this.name + ".log");
		}

	}

}
