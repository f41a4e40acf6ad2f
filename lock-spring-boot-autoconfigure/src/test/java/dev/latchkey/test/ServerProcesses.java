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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;

/**
 * Starts, waits for and kills the servers that tests own (a redis-server, a PostgreSQL or
 * MariaDB server, etcd members), the same way for each: output appended to a log file of
 * the test's, a clear message when the program is missing, the log shown when the server
 * exits before it answers.
 *
 * <pre class="code">
 * Process server = ServerProcesses.start(List.of("redis-server", "--port", port), log, "redis-server");
 * ServerProcesses.awaitAnswering(server, "redis-server on port " + port, log, Duration.ofSeconds(20), this::answersPing);
 * ServerProcesses.kill(server);
 * </pre>
 */
public final class ServerProcesses {

	private ServerProcesses() {
	}

	/**
	 * Runs a server program, its output (both streams) appended to a log.
	 * @param command the program and its arguments
	 * @param log the log file
	 * @param program the program's name, for the message when it cannot be run
	 * @return the started process
	 */
	public static Process start(List<String> command, Path log, String program) {
		try {
			return new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
				.start();
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not run " + program + ", which these tests start on a port of"
					+ " their own: install it (scripts/services.sh does) and put it on the PATH", ex);
		}
	}

	/**
	 * Waits until a started server answers, failing at once with its log when it exits
	 * first.
	 * @param process the server
	 * @param description what is awaited, for the timeout's message
	 * @param log the server's log
	 * @param atMost how long to wait
	 * @param answers whether it answers now
	 */
	public static void awaitAnswering(Process process, String description, Path log, Duration atMost,
			Callable<Boolean> answers) {
		Awaitility.await(description).atMost(atMost).pollInterval(Duration.ofMillis(20)).until(() -> {
			if (!process.isAlive()) {
				throw new IllegalStateException(description + ": the server exited: " + Files.readString(log));
			}
			return answers.call();
		});
	}

	/**
	 * Kills a server and every process it started ({@code SIGKILL}: a crash), and waits
	 * until they are gone.
	 * @param process the server
	 */
	public static void kill(Process process) {
		List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
		all.add(process.toHandle());
		all.forEach(ProcessHandle::destroyForcibly);
		for (ProcessHandle handle : all) {
			try {
				handle.onExit().get(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (Exception ex) {
				throw new IllegalStateException("Process " + handle.pid() + " did not exit after SIGKILL", ex);
			}
		}
	}

}
