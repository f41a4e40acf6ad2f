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

package dev.latchkey.socket;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What an arbiter leaves for its successor, in the file {@code state} of the lock
 * directory: enough for the successor to continue fencing above every token granted
 * before, and to know whom to wait for before it grants anything.
 * <ul>
 * <li>{@code fencing}: a high-water mark of fencing tokens, reserved in blocks before
 * tokens of a block are granted. Tokens may skip the rest of a block after an arbiter
 * change, but never go back.</li>
 * <li>{@code horizon}: a time on the host's monotonic clock by which every lease this
 * arbiter granted, renewed or accepted has expired; moved ahead before an expiry beyond
 * it is promised.</li>
 * <li>{@code client} lines: the clients (one per repository instance, with their process
 * id and start time) that may hold leases, written when a client connects or leaves. A
 * successor waits until each has re-asserted its leases or its process is gone, or until
 * the horizon passes, whichever comes first.</li>
 * </ul>
 * When an arbiter stops in order, it writes the exact picture instead: only the clients
 * that hold or wait for something, and the latest expiry it promised. Only the arbiter,
 * which holds the election lock, writes the file, and always whole (written aside, then
 * moved over the old one), so a crash leaves the old or the new version.
 */
final class ArbiterState {

	static final long FENCING_BLOCK = 4096;

	/**
	 * How far the stored horizon runs ahead of the latest promised expiry, so that it is
	 * rewritten rarely.
	 */
	static final long HORIZON_SLACK_NANOS = TimeUnit.SECONDS.toNanos(1);

	private final Path file;

	private long lastToken;

	private long reservedToken;

	private long horizon;

	private List<Client> clients;

	private ArbiterState(Path file, long lastToken, long horizon, List<Client> clients) {
		this.file = file;
		this.lastToken = lastToken;
		this.reservedToken = lastToken;
		this.horizon = horizon;
		this.clients = clients;
	}

	/**
	 * Reads what the previous arbiter left, or an empty state for a new directory.
	 * @param file the state file
	 * @param now the current time, the horizon of an empty state
	 * @return the state
	 */
	static ArbiterState read(Path file, long now) {
		long fencing = 0;
		long horizon = now;
		List<Client> clients = new ArrayList<>();
		try {
			for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
				String[] fields = line.trim().split(" ");
				switch (fields[0]) {
					case "fencing" -> fencing = Long.parseLong(fields[1]);
					case "horizon" -> horizon = Long.parseLong(fields[1]);
					case "client" -> clients
						.add(new Client(fields[1], Long.parseLong(fields[2]), Long.parseLong(fields[3]), fields[4]));
					case "" -> {
					}
					default -> throw new IllegalStateException("Unknown line '" + line + "'");
				}
			}
		}
		catch (NoSuchFileException ex) {
			// A new directory, or one whose arbiters kept only a fencing counter (file
			// 'fencing'): continue above it.
			fencing = readLegacyFencing(file.resolveSibling("fencing"));
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read the arbiter state " + file, ex);
		}
		catch (RuntimeException ex) {
			throw new IllegalStateException("The arbiter state " + file + " is corrupt (" + ex.getMessage()
					+ "); stop every process using this lock directory and remove the file", ex);
		}
		return new ArbiterState(file, fencing, horizon, clients);
	}

	private static long readLegacyFencing(Path file) {
		try {
			return Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
		}
		catch (NoSuchFileException ex) {
			return 0;
		}
		catch (IOException | NumberFormatException ex) {
			throw new IllegalStateException("The fencing counter " + file + " cannot be read (" + ex.getMessage()
					+ "); stop every process using this lock directory and remove the file", ex);
		}
	}

	/**
	 * The clients the previous arbiter had, which may hold leases.
	 * @return the clients
	 */
	List<Client> clients() {
		return this.clients;
	}

	/**
	 * The time by which every lease of the previous arbiter has expired.
	 * @return the horizon, on the {@link System#nanoTime()} clock
	 */
	long horizon() {
		return this.horizon;
	}

	/**
	 * Draws the next fencing token, reserving a new block first when the current one is
	 * used up.
	 * @return the token
	 */
	long nextToken() {
		if (this.lastToken == this.reservedToken) {
			this.reservedToken += FENCING_BLOCK;
			write();
		}
		return ++this.lastToken;
	}

	/**
	 * Makes sure the stored horizon covers an expiry, before it is promised to a client.
	 * @param expiresAtNanos the expiry about to be promised
	 */
	void cover(long expiresAtNanos) {
		if (expiresAtNanos - this.horizon > 0) {
			this.horizon = expiresAtNanos + HORIZON_SLACK_NANOS;
			write();
		}
	}

	/**
	 * Records who may hold leases.
	 * @param clients the clients
	 */
	void clients(Collection<Client> clients) {
		this.clients = List.copyOf(clients);
		write();
	}

	/**
	 * Records the exact picture when the arbiter stops in order.
	 * @param clients the clients that hold or wait for something
	 * @param horizon the latest expiry promised to them
	 */
	void handOver(Collection<Client> clients, long horizon) {
		this.clients = List.copyOf(clients);
		this.horizon = horizon;
		write();
	}

	private void write() {
		StringBuilder text = new StringBuilder();
		text.append("fencing ").append(this.reservedToken).append('\n');
		text.append("horizon ").append(this.horizon).append('\n');
		for (Client client : this.clients) {
			text.append("client ")
				.append(client.id())
				.append(' ')
				.append(client.pid())
				.append(' ')
				.append(client.started())
				.append(' ')
				.append(client.pidNamespace())
				.append('\n');
		}
		try {
			Path temporary = this.file.resolveSibling(this.file.getFileName() + ".tmp");
			Files.writeString(temporary, text, StandardCharsets.UTF_8);
			Files.move(temporary, this.file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot write the arbiter state " + this.file, ex);
		}
	}

	/**
	 * A client of an arbiter: one repository instance in one process.
	 *
	 * @param id the repository instance's identity
	 * @param pid its process id
	 * @param started when its process started (epoch milliseconds), or -1 if unknown
	 * @param pidNamespace the process-id namespace its pid belongs to
	 * ({@code pid:[4026531836]} on Linux), or {@code -} if the platform has none
	 */
	record Client(String id, long pid, long started, String pidNamespace) {

		private static final String PID_NAMESPACE = readPidNamespace();

		/**
		 * How far two readings of one process's start time may differ (they are derived
		 * from clock ticks since boot): taking a live process for a dead one would end a
		 * grace period too early, so the check errs towards alive.
		 */
		private static final long START_TOLERANCE_MILLIS = 1000;

		/**
		 * Whether the client's process still runs: the same pid, started at the same
		 * time.
		 * @return {@code false} if the process is gone
		 */
		boolean isAlive() {
			if (!this.pidNamespace.equals(PID_NAMESPACE)) {
				// Another container's pid means nothing here: wait for it to re-assert,
				// or for the horizon.
				return true;
			}
			if (isZombie(this.pid)) {
				return false;
			}
			return ProcessHandle.of(this.pid)
				.filter(ProcessHandle::isAlive)
				.filter((process) -> this.started < 0 || process.info()
					.startInstant()
					.map((instant) -> Math.abs(instant.toEpochMilli() - this.started) <= START_TOLERANCE_MILLIS)
					.orElse(true))
				.isPresent();
		}

		/**
		 * Whether a process has died but not been reaped by its parent yet: it counts as
		 * alive for {@link ProcessHandle#isAlive()}, yet will never re-assert anything.
		 * Known on Linux only.
		 */
		private static boolean isZombie(long pid) {
			try {
				String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
				int end = stat.lastIndexOf(')');
				return end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z';
			}
			catch (IOException | RuntimeException ex) {
				return false;
			}
		}

		/**
		 * This process as a client, with a fresh identity.
		 * @param id the repository instance's identity
		 * @return the client
		 */
		static Client current(String id) {
			return new Client(id, ProcessHandle.current().pid(), currentProcessStart(), PID_NAMESPACE);
		}

		private static String readPidNamespace() {
			try {
				return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString().replace(' ', '_');
			}
			catch (IOException | UnsupportedOperationException | SecurityException ex) {
				return "-";
			}
		}

		private static long currentProcessStart() {
			return ProcessHandle.current().info().startInstant().map((instant) -> instant.toEpochMilli()).orElse(-1L);
		}

	}

}
