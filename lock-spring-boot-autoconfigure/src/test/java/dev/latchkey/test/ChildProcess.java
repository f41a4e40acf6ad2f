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
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;

/**
 * A test's helper process: a class's {@code main} started with the current JVM and class
 * path. Its output lines are queued for the test, its log is kept in a file (shown when
 * an expected line does not come), and it is killed with {@link #kill()} (SIGKILL) or
 * {@link #close()}.
 *
 * <pre class="code">
 * try (ChildProcess child = ChildProcess.start(logs, List.of(), HolderMain.class, "order:42")) {
 *     child.awaitLine("HELD ", Duration.ofSeconds(30));
 *     child.kill();
 * }
 * </pre>
 */
public final class ChildProcess implements AutoCloseable {

	private static final AtomicInteger counter = new AtomicInteger();

	private final Process process;

	private final Path log;

	private final Writer input;

	private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

	private final List<String> seen = new ArrayList<>();

	private ChildProcess(Process process, Path log) {
		this.process = process;
		this.log = log;
		this.input = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
		Thread reader = new Thread(this::read, "child-" + process.pid() + "-output");
		reader.setDaemon(true);
		reader.start();
	}

	/**
	 * Starts a child.
	 * @param logs where to keep the child's log
	 * @param launcher words put before the {@code java} command (for example
	 * {@code faketime} and its offset), or none
	 * @param mainClass the class whose {@code main} the child runs
	 * @param arguments the arguments of {@code main}; the first names the log file
	 * @return the running child
	 */
	public static ChildProcess start(Path logs, List<String> launcher, Class<?> mainClass, String... arguments) {
		List<String> command = new ArrayList<>(launcher);
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		// Start fast and small: several of these run at once on a loaded machine.
		command.addAll(List.of("-XX:+UseSerialGC", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-Xmx64m"));
		command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
		command.addAll(List.of(arguments));
		String name = (arguments.length > 0) ? arguments[0].replaceAll("[^A-Za-z0-9._-]", "_") : "";
		Path log = logs.resolve("child-" + counter.incrementAndGet() + "-" + mainClass.getSimpleName() + "-"
				+ name.substring(0, Math.min(name.length(), 40)) + ".log");
		try {
			Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
			return new ChildProcess(process, log);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private void read() {
		try (BufferedReader reader = new BufferedReader(
				new InputStreamReader(this.process.getInputStream(), StandardCharsets.UTF_8))) {
			String line;
			while ((line = reader.readLine()) != null) {
				this.lines.add(line);
			}
		}
		catch (IOException ex) {
			// The child is gone.
		}
	}

	public Process process() {
		return this.process;
	}

	public long pid() {
		return this.process.pid();
	}

	/**
	 * Waits for the next output line that starts with a prefix, skipping others.
	 * @param prefix the prefix, for example {@code "HELD "}
	 * @param timeout how long to wait
	 * @return the line
	 * @throws AssertionError if no such line came in time
	 */
	public String awaitLine(String prefix, Duration timeout) {
		String line = pollLine(prefix, timeout);
		if (line == null) {
			throw new AssertionError("Child " + pid() + " printed no line starting with '" + prefix + "' within "
					+ timeout + " (alive: " + this.process.isAlive() + ", output: " + this.seen + ")\n" + logTail());
		}
		return line;
	}

	/**
	 * Waits for the next output line that starts with a prefix, skipping others.
	 * @param prefix the prefix
	 * @param timeout how long to wait
	 * @return the line, or {@code null} if none came in time
	 */
	public @Nullable String pollLine(String prefix, Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		try {
			while (true) {
				long left = deadline - System.nanoTime();
				String line = (left > 0) ? this.lines.poll(left, TimeUnit.NANOSECONDS) : this.lines.poll();
				if (line == null) {
					return null;
				}
				this.seen.add(line);
				if (line.startsWith(prefix)) {
					return line;
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while waiting for child " + pid(), ex);
		}
	}

	/**
	 * Sends a command line to the child's standard input.
	 * @param line the command
	 */
	public void send(String line) {
		try {
			this.input.write(line + "\n");
			this.input.flush();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Child " + pid() + " does not take input\n" + logTail(), ex);
		}
	}

	/**
	 * Waits for the child to exit.
	 * @param timeout how long to wait
	 * @return the exit code
	 * @throws AssertionError if it did not exit in time
	 */
	public int awaitExit(Duration timeout) {
		try {
			if (!this.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
				throw new AssertionError("Child " + pid() + " did not exit within " + timeout + "\n" + logTail());
			}
			return this.process.exitValue();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while waiting for child " + pid(), ex);
		}
	}

	/**
	 * Kills the child with SIGKILL, as a crash would, and waits until it is gone.
	 */
	public void kill() {
		this.process.destroyForcibly();
		try {
			this.process.waitFor(30, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/**
	 * The end of the child's log, for failure messages.
	 * @return the last lines of the log
	 */
	public String logTail() {
		try {
			List<String> all = Files.readAllLines(this.log, StandardCharsets.UTF_8);
			List<String> tail = all.subList(Math.max(0, all.size() - 40), all.size());
			return "Log of child " + pid() + ":\n" + String.join("\n", tail);
		}
		catch (IOException ex) {
			return "No log of child " + pid() + ": " + ex;
		}
	}

	@Override
	public void close() {
		if (this.process.isAlive()) {
			kill();
		}
	}

}
