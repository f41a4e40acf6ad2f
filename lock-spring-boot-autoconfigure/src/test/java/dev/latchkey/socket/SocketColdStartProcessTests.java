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

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.test.ChildOutput;
import dev.latchkey.test.ChildProcess;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fresh process's first attempt (wait time 0) on a free key is granted, with nobody
 * else around: whether the lock directory is new or the previous arbiter has just exited
 * normally. Each attempt is a {@link SocketLockChild} {@code try}, which exits normally
 * after it.
 */
@Timeout(180)
class SocketColdStartProcessTests {

	private static final int ATTEMPTS = 20;

	/** Fresh-directory attempts run this many at a time: each has its own directory. */
	private static final int AT_ONCE = 4;

	private static final Duration START = Duration.ofSeconds(60);

	@TempDir
	Path temporary;

	private final List<ChildOutput> children = new ArrayList<>();

	@AfterEach
	void stopChildren() {
		this.children.forEach(ChildOutput::close);
	}

	@Test
	void theFirstAttemptInAFreshDirectoryIsGranted() {
		List<String> outcomes = new ArrayList<>();
		for (int batch = 0; batch < ATTEMPTS / AT_ONCE; batch++) {
			List<ChildOutput> attempts = new ArrayList<>();
			for (int i = 0; i < AT_ONCE; i++) {
				Path directory = this.temporary.resolve("fresh-" + batch + "-" + i);
				attempts.add(tryOnce(directory));
			}
			for (ChildOutput attempt : attempts) {
				outcomes.add(outcome(attempt));
			}
		}
		assertThat(granted(outcomes))
			.as("first attempts granted, of %d fresh processes each in a fresh directory: %s", ATTEMPTS, outcomes)
			.isEqualTo(ATTEMPTS);
	}

	@Test
	void theFirstAttemptRightAfterThePreviousArbiterExitedNormallyIsGranted() {
		Path directory = this.temporary.resolve("locks");
		// The first process finds a fresh directory; each of the others the directory its
		// predecessor, the arbiter, left when it exited normally.
		String first = outcome(tryOnce(directory));
		List<String> outcomes = new ArrayList<>();
		for (int i = 0; i < ATTEMPTS; i++) {
			outcomes.add(outcome(tryOnce(directory)));
		}
		assertThat(first).as("first attempt in the fresh directory").startsWith("GRANTED ");
		assertThat(granted(outcomes))
			.as("first attempts granted, of %d fresh processes each right after the previous arbiter exited "
					+ "normally: %s", ATTEMPTS, outcomes)
			.isEqualTo(ATTEMPTS);
	}

	private static long granted(List<String> outcomes) {
		return outcomes.stream().filter((outcome) -> outcome.startsWith("GRANTED ")).count();
	}

	private ChildOutput tryOnce(Path directory) {
		ChildOutput child = new ChildOutput(
				ChildProcess.start(this.temporary, List.of(), SocketLockChild.class, "try", directory.toString(), "k"));
		this.children.add(child);
		return child;
	}

	/**
	 * Waits for the attempt's outcome and for the process to exit normally.
	 */
	private static String outcome(ChildOutput attempt) {
		String outcome = attempt.awaitMatch("(GRANTED|NOT_GRANTED)\\b.*", 0, START);
		assertThat(attempt.child().awaitExit(START)).as("exit code of %s", attempt).isZero();
		return outcome;
	}

}
