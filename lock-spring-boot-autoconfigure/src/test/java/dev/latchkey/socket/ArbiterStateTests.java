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

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.test.ProcessSignals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * What an arbiter leaves its successor: fencing above every token granted, the horizon,
 * and whom to wait for.
 */
class ArbiterStateTests {

	@TempDir
	Path directory;

	@Test
	void aSuccessorContinuesAboveEveryTokenAndSeesTheHorizonAndClients() {
		Path file = this.directory.resolve("state");
		ArbiterState first = ArbiterState.read(file, 100);
		long token = 0;
		for (int i = 0; i < 5000; i++) {
			token = first.nextToken();
		}
		first.cover(1_000);
		ArbiterState.Client client = new ArbiterState.Client("c1", 4711, 12345, "pid:[1]");
		first.clients(List.of(client));
		ArbiterState second = ArbiterState.read(file, 200);
		assertThat(second.nextToken()).isGreaterThan(token);
		assertThat(second.horizon()).isGreaterThanOrEqualTo(1_000);
		assertThat(second.clients()).containsExactly(client);
	}

	@Test
	void aHandOverRecordsTheExactPicture() {
		Path file = this.directory.resolve("state");
		ArbiterState first = ArbiterState.read(file, 0);
		first.cover(50_000);
		first.handOver(List.of(), 700);
		ArbiterState second = ArbiterState.read(file, 800);
		assertThat(second.horizon()).isEqualTo(700);
		assertThat(second.clients()).isEmpty();
	}

	@Test
	void aDirectoryOfEarlierArbitersThatKeptOnlyAFencingCounterContinuesAboveIt() throws Exception {
		Files.writeString(this.directory.resolve("fencing"), "8192", StandardCharsets.US_ASCII);
		ArbiterState state = ArbiterState.read(this.directory.resolve("state"), 0);
		assertThat(state.nextToken()).isGreaterThan(8192);
	}

	@Test
	@EnabledOnOs(OS.LINUX)
	void aClientWhoseProcessDiedButWasNotReapedCountsAsGone() throws Exception {
		// A parent that never reaps: bash starts a child, then becomes 'sleep', which
		// never waits for it.
		Process parent = new ProcessBuilder("bash", "-c", "sleep 60 & echo $!; exec sleep 60").start();
		try {
			long child = Long
				.parseLong(new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.US_ASCII))
					.readLine()
					.trim());
			ArbiterState.Client client = ArbiterState.Client.current("probe");
			ArbiterState.Client zombie = new ArbiterState.Client("zombie", child, -1, client.pidNamespace());
			assertThat(zombie.isAlive()).as("the child before it is killed").isTrue();
			ProcessSignals.send(child, "KILL");
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !zombie.isAlive());
			assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive)).as("what the JDK alone would say")
				.contains(true);
		}
		finally {
			parent.destroyForcibly();
		}
	}

	@Test
	void aCorruptStateFileSaysWhatToDo() throws Exception {
		Path file = this.directory.resolve("state");
		Files.writeString(file, "fencing twelve\n", StandardCharsets.UTF_8);
		assertThatIllegalStateException().isThrownBy(() -> ArbiterState.read(file, 0))
			.withMessageContaining("is corrupt")
			.withMessageContaining("remove the file");
	}

}
