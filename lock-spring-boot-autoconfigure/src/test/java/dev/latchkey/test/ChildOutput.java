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

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Every output line of a {@link ChildProcess}, kept as it comes, so that a test can count
 * lines of one kind (such as {@code LOST}) while it waits for lines of another
 * ({@link ChildProcess#awaitLine} drops the lines it skips). Positions are indexes into
 * the kept lines: take {@link #mark()} before an action, then wait for a line after it.
 *
 * <pre class="code">
 * int before = worker.mark();
 * worker.send("arbiter " + directory);
 * String answer = worker.awaitLine("ARBITER ", before, Duration.ofSeconds(30));
 * long lost = worker.count("LOST ");
 * </pre>
 */
public final class ChildOutput implements AutoCloseable {

	private final ChildProcess child;

	private final List<String> lines = new CopyOnWriteArrayList<>();

	private final Thread collector;

	private volatile boolean closed;

	public ChildOutput(ChildProcess child) {
		this.child = child;
		this.collector = new Thread(this::collect, "child-" + child.pid() + "-lines");
		this.collector.setDaemon(true);
		this.collector.start();
	}

	private void collect() {
		while (!this.closed) {
			String line = this.child.pollLine("", Duration.ofMillis(100));
			if (line != null) {
				this.lines.add(line);
			}
			else if (!this.child.process().isAlive()) {
				// Exited, and nothing came for a while after: every line it printed is
				// kept.
				return;
			}
		}
	}

	public ChildProcess child() {
		return this.child;
	}

	public long pid() {
		return this.child.pid();
	}

	public boolean isAlive() {
		return this.child.process().isAlive();
	}

	public void send(String command) {
		this.child.send(command);
	}

	/**
	 * The position after the lines kept so far.
	 * @return the number of lines kept
	 */
	public int mark() {
		return this.lines.size();
	}

	/**
	 * The kept lines that start with a prefix.
	 * @param prefix the prefix
	 * @param from the position to start at
	 * @return the lines, in order
	 */
	public List<String> lines(String prefix, int from) {
		return lines(prefix, from, Integer.MAX_VALUE);
	}

	/**
	 * The kept lines between two positions that start with a prefix.
	 * @param prefix the prefix
	 * @param from the position to start at
	 * @param to the position to end before
	 * @return the lines, in order
	 */
	public List<String> lines(String prefix, int from, int to) {
		List<String> all = List.copyOf(this.lines);
		int end = Math.min(to, all.size());
		return all.subList(Math.min(from, end), end).stream().filter((line) -> line.startsWith(prefix)).toList();
	}

	/**
	 * The number of kept lines that start with a prefix.
	 * @param prefix the prefix
	 * @return the count
	 */
	public long count(String prefix) {
		return lines(prefix, 0).size();
	}

	/**
	 * Waits for a line that starts with a prefix, after a position.
	 * @param prefix the prefix
	 * @param from the position to search from
	 * @param timeout how long to wait
	 * @return the first such line
	 * @throws AssertionError if none came in time
	 */
	public String awaitLine(String prefix, int from, Duration timeout) {
		return awaitLine((line) -> line.startsWith(prefix), "starting with '" + prefix + "'", from, timeout);
	}

	/**
	 * Waits for a line that matches a regular expression, after a position.
	 * @param regex the regular expression, for example {@code "(RAN|NOT_ACQUIRED)\\b.*"}
	 * @param from the position to search from
	 * @param timeout how long to wait
	 * @return the first such line
	 * @throws AssertionError if none came in time
	 */
	public String awaitMatch(String regex, int from, Duration timeout) {
		return awaitLine((line) -> line.matches(regex), "matching '" + regex + "'", from, timeout);
	}

	private String awaitLine(Predicate<String> wanted, String description, int from, Duration timeout) {
		AtomicReference<@Nullable String> found = new AtomicReference<>();
		try {
			Awaitility.await().atMost(timeout).pollInterval(Duration.ofMillis(10)).until(() -> {
				List<String> all = List.copyOf(this.lines);
				for (String line : all.subList(Math.min(from, all.size()), all.size())) {
					if (wanted.test(line)) {
						found.set(line);
						return true;
					}
				}
				// An exited child whose every line is kept prints nothing more.
				return !this.collector.isAlive();
			});
		}
		catch (ConditionTimeoutException ex) {
			// Reported below.
		}
		String line = found.get();
		if (line == null) {
			throw new AssertionError("Child " + pid() + " printed no line " + description + " within " + timeout
					+ " (alive: " + isAlive() + ", last lines: " + tail() + ")\n" + this.child.logTail());
		}
		return line;
	}

	/**
	 * Waits until every line of the exited child is kept.
	 * @param timeout how long to wait
	 */
	public void awaitDrained(Duration timeout) {
		try {
			this.collector.join(timeout.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while collecting the output of child " + pid(), ex);
		}
		if (this.collector.isAlive()) {
			throw new AssertionError(
					"Child " + pid() + " still prints after " + timeout + " (alive: " + isAlive() + ")");
		}
	}

	/**
	 * The last lines, for failure messages.
	 * @return up to 20 of the last lines
	 */
	public List<String> tail() {
		List<String> all = List.copyOf(this.lines);
		return all.subList(Math.max(0, all.size() - 20), all.size());
	}

	public String logTail() {
		return this.child.logTail();
	}

	@Override
	public void close() {
		this.closed = true;
		this.child.close();
	}

	@Override
	public String toString() {
		return "child " + pid();
	}

}
