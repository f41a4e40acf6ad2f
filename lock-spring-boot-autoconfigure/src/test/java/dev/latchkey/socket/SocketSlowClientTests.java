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
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LeaseSpec;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that stops reading costs itself its connection, and nobody else anything: the
 * arbiter never blocks on it.
 */
class SocketSlowClientTests {

	@TempDir
	Path temporary;

	@Test
	void aClientThatWatchesAKeyAndStopsReadingIsDisconnectedWithoutDelayingOthers() throws Exception {
		Path directory = this.temporary.resolve("locks");
		String key = "k".repeat(10_000);
		try (SocketLockRepository arbiter = new SocketLockRepository(directory);
				SocketLockRepository worker = new SocketLockRepository(directory);
				SocketChannel slow = SocketChannel.open(StandardProtocolFamily.UNIX)) {
			LeaseSpec other = LeaseSpec.exclusive("other", "worker", "token-other", Duration.ofSeconds(30));
			assertThat(arbiter.tryAcquire(other)).isPresent();
			assertThat(arbiter.isArbiter()).isTrue();
			slow.connect(UnixDomainSocketAddress.of(directory.resolve(SocketLockRepository.SOCKET)));
			long pid = ProcessHandle.current().pid();
			write(slow, new Protocol.Hello(1, "slow", "slow", pid, -1, "-", System.nanoTime()).write());
			write(slow, Protocol.KeyOnly.write(Protocol.WATCH, 2, key));
			// Each release pushes about 10 kB to the slow client, which never reads: 8
			// MiB pile up within ~850.
			long slowest = 0;
			for (int i = 0; i < 2_000; i++) {
				LeaseSpec lease = LeaseSpec.exclusive(key, "worker", UUID.randomUUID().toString(),
						Duration.ofSeconds(30));
				long start = System.nanoTime();
				assertThat(worker.tryAcquire(lease)).as("acquire %d", i).isPresent();
				assertThat(worker.release(lease)).as("release %d", i).isTrue();
				slowest = Math.max(slowest, System.nanoTime() - start);
			}
			// The old arbiter blocked for its 5 s write time-out here, then dropped the
			// releasing client.
			assertThat(Duration.ofNanos(slowest)).isLessThan(Duration.ofSeconds(2));
			assertThat(arbiter.stats().clients()).as("clients left after the slow one was dropped").isEqualTo(2L);
			assertThat(arbiter.inspect("other")).isPresent();
			assertThat(arbiter.release(other)).isTrue();
		}
	}

	private static void write(SocketChannel channel, ByteBuffer frame) throws IOException {
		while (frame.hasRemaining()) {
			channel.write(frame);
		}
	}

}
