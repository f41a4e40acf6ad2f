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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockInfo;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.test.ChildProcess;
import dev.latchkey.test.ProcessSignals;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A new arbiter's grace period, seen from real processes: it waits for the clients that
 * may hold leases, however they fare, and never grants a key that a live client may still
 * hold.
 */
class SocketGraceProcessTests {

	private static final Duration START = Duration.ofSeconds(60);

	@TempDir
	Path temporary;

	private final List<ChildProcess> children = new ArrayList<>();

	private final List<SocketLockRepository> repositories = new ArrayList<>();

	private final ProcessSignals signals = new ProcessSignals();

	@AfterEach
	void stop() {
		this.signals.close();
		this.children.forEach(ChildProcess::close);
		this.repositories.forEach(SocketLockRepository::close);
	}

	@Test
	void aHolderPausedWhileTheArbiterDiesKeepsItsKeyUntilItsLeaseRunsOutThenLearnsItIsLost() throws Exception {
		Path directory = this.temporary.resolve("locks");
		ChildProcess arbiter = start("arbiter", directory.toString());
		assertThat(arbiter.awaitLine("ARBITER ", START)).isEqualTo("ARBITER true");
		ChildProcess holder = start("hold", directory.toString(), "k");
		long heldToken = Long.parseLong(holder.awaitLine("HELD ", START).substring(5));
		this.signals.stop(holder.pid());
		arbiter.kill();
		SocketLockRepository repository = repository(directory);
		// The paused holder cannot re-assert, and its key is unknown to the new arbiter:
		// nothing new is granted while its lease may run. An attempt that does not queue
		// waits a moment for the grace period, then hears "held".
		assertThat(repository.tryAcquire(lease("free"))).as("a single attempt during the grace period").isEmpty();
		assertThat(repository.isArbiter()).isTrue();
		CompletableFuture<QueueingLockRepository.QueuedGrant> grant = repository.acquireQueued(lease("k"));
		assertThat(grant).as("granted while the paused holder's lease may still run").isNotDone();
		// The holder's 3 s lease was last renewed before the pause: the grace period ends
		// with its horizon.
		QueueingLockRepository.QueuedGrant granted = grant.get(15, TimeUnit.SECONDS);
		assertThat(granted.fencingToken()).isGreaterThan(heldToken);
		assertThat(repository.tryAcquire(lease("free"))).as("a free key once the grace period is over").isPresent();
		// Resumed, the holder finds its lease gone (refused at the new arbiter, or run
		// out) and says so.
		this.signals.resume(holder.pid());
		assertThat(holder.awaitLine("LOST ", Duration.ofSeconds(15))).startsWith("LOST k ");
		assertThat(repository.inspect("k"))
			.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::fencingToken)
				.containsExactly(granted.fencingToken()));
	}

	@Test
	void aRunningHolderReassertsAtOnceSoTheGracePeriodEndsAndFreeKeysAreGranted() throws Exception {
		Path directory = this.temporary.resolve("locks");
		ChildProcess arbiter = start("arbiter", directory.toString());
		assertThat(arbiter.awaitLine("ARBITER ", START)).isEqualTo("ARBITER true");
		ChildProcess holder = start("hold", directory.toString(), "k");
		long heldToken = Long.parseLong(holder.awaitLine("HELD ", START).substring(5));
		arbiter.kill();
		SocketLockRepository repository = repository(directory);
		assertThat(repository.tryAcquire(lease("free"))).as("a free key right after the arbiter died").isPresent();
		assertThat(repository.tryAcquire(lease("k"))).as("the holder's key").isEmpty();
		assertThat(repository.inspect("k"))
			.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::fencingToken)
				.containsExactly(heldToken));
		assertThat(holder.pollLine("LOST ", Duration.ofSeconds(1))).isNull();
	}

	private static LeaseSpec lease(String key) {
		return LeaseSpec.exclusive(key, "test", UUID.randomUUID().toString(), Duration.ofSeconds(30));
	}

	private SocketLockRepository repository(Path directory) {
		SocketLockRepository repository = new SocketLockRepository(directory);
		this.repositories.add(repository);
		return repository;
	}

	private ChildProcess start(String... arguments) {
		ChildProcess child = ChildProcess.start(this.temporary, List.of(), SocketLockChild.class, arguments);
		this.children.add(child);
		return child;
	}

}
