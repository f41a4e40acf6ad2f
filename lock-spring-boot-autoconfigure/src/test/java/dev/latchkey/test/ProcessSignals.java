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

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pauses and resumes a test's processes (children, servers) with {@code SIGSTOP} and
 * {@code SIGCONT}, which the JDK cannot send, through the {@code kill} command. The
 * paused processes are remembered so that the test's clean-up resumes them with
 * {@link #close()}: a stopped process may not even die of {@code SIGKILL} until it is
 * continued.
 *
 * <pre class="code">
 * private final ProcessSignals signals = new ProcessSignals();
 *
 * &#64;AfterEach
 * void resumeAll() {
 *     this.signals.close();
 * }
 *
 * this.signals.stop(holder.pid()); // returns once the kernel shows the process stopped
 * this.signals.resume(holder.pid());
 * </pre>
 */
public final class ProcessSignals implements AutoCloseable {

	private final List<Long> stopped = new CopyOnWriteArrayList<>();

	/**
	 * Stops a process with {@code SIGSTOP} and waits until the kernel shows it stopped.
	 * @param pid the process
	 */
	public void stop(long pid) {
		send(pid, "STOP");
		this.stopped.add(pid);
		awaitStopped(pid);
	}

	/**
	 * Resumes a process stopped with {@link #stop(long)}.
	 * @param pid the process
	 */
	public void resume(long pid) {
		send(pid, "CONT");
		this.stopped.remove(Long.valueOf(pid));
	}

	/**
	 * Resumes every process still stopped; one that has gone meanwhile is passed over.
	 */
	@Override
	public void close() {
		for (Long pid : this.stopped) {
			kill(pid, "CONT");
		}
		this.stopped.clear();
	}

	/**
	 * Sends a signal to a process.
	 * @param pid the process
	 * @param signal the signal's name without {@code SIG}, for example {@code KILL}
	 * @throws AssertionError if {@code kill} failed (for example because the process has
	 * gone)
	 */
	public static void send(long pid, String signal) {
		assertThat(kill(pid, signal)).as("exit code of kill -%s %d", signal, pid).isZero();
	}

	private static int kill(long pid, String signal) {
		try {
			Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
				.start();
			assertThat(kill.waitFor(10, TimeUnit.SECONDS)).as("kill -%s %d finished", signal, pid).isTrue();
			return kill.exitValue();
		}
		catch (IOException ex) {
			throw new IllegalStateException("Cannot run kill", ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while signalling " + pid, ex);
		}
	}

	/**
	 * Waits until the kernel shows the process as stopped (state {@code T} in
	 * {@code /proc/<pid>/stat}).
	 */
	private static void awaitStopped(long pid) {
		Path stat = Path.of("/proc", Long.toString(pid), "stat");
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
			String text = Files.readString(stat, StandardCharsets.US_ASCII);
			return text.substring(text.lastIndexOf(')') + 2).startsWith("T");
		});
	}

}
