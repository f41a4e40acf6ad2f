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
import java.util.UUID;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

import dev.latchkey.LeaseSpec;
import dev.latchkey.test.LiveThreads;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The socket repository runs its threads (the arbiter's selector thread, the reader of
 * its connection, reconnections, the sweep of its leases) on the application's thread
 * factory when given one, and its close stops every one of them.
 */
class SocketLockRepositoryThreadTests {

	@TempDir
	Path temporary;

	@Test
	void threadsOfTheApplicationsFactoryAreGoneAfterClose() {
		Path directory = this.temporary.resolve("locks");
		String arbiterThreads = "app-socket-arbiter-" + UUID.randomUUID() + "-";
		String clientThreads = "app-socket-client-" + UUID.randomUUID() + "-";
		SocketLockRepository arbiter = repository(directory, arbiterThreads);
		assertThat(arbiter.inspect("k")).isEmpty();
		assertThat(arbiter.isArbiter()).isTrue();
		SocketLockRepository client = repository(directory, clientThreads);
		LeaseSpec lease = LeaseSpec.exclusive("k", "client", "token-" + UUID.randomUUID(), Duration.ofSeconds(30));
		assertThat(client.tryAcquire(lease)).isPresent();
		assertThat(LiveThreads.named(arbiterThreads)).as("the arbiter's selector thread").hasSize(1);
		assertThat(LiveThreads.named(clientThreads))
			.as("the reader of the client's connection, and the sweep of the leases its owner records keep")
			.hasSize(2);
		// The client reconnects, elects itself and runs the arbiter: on its own factory's
		// threads.
		arbiter.close();
		assertThat(LiveThreads.named(arbiterThreads)).isEmpty();
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(client::isArbiter);
		assertThat(client.inspect("k")).isPresent();
		assertThat(LiveThreads.named(clientThreads)).isNotEmpty();
		client.close();
		assertThat(LiveThreads.named(clientThreads)).isEmpty();
	}

	@Test
	void defaultThreadsAreNamedAndGoneAfterClose() {
		Path directory = this.temporary.resolve("locks");
		int before = LiveThreads.named(SocketLockRepository.DEFAULT_THREAD_NAME_PREFIX).size();
		SocketLockRepository arbiter = new SocketLockRepository(directory);
		SocketLockRepository client = new SocketLockRepository(directory);
		assertThat(arbiter.inspect("k")).isEmpty();
		assertThat(client.inspect("k")).isEmpty();
		assertThat(LiveThreads.named(SocketLockRepository.DEFAULT_THREAD_NAME_PREFIX)).hasSize(before + 2);
		client.close();
		arbiter.close();
		assertThat(LiveThreads.named(SocketLockRepository.DEFAULT_THREAD_NAME_PREFIX)).hasSize(before);
	}

	private static SocketLockRepository repository(Path directory, String threadNamePrefix) {
		CustomizableThreadFactory threads = new CustomizableThreadFactory(threadNamePrefix);
		threads.setDaemon(true);
		return new SocketLockRepository(directory, "test", Duration.ofSeconds(5), threads);
	}

}
