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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The arbiter's queue of waiters: a key that frees goes to the first waiter, however it
 * frees.
 */
class SocketLockQueueTests {

	@TempDir
	Path temporary;

	private final ExecutorService executor = Executors.newCachedThreadPool();

	private Path directory;

	@AfterEach
	void stop() {
		this.executor.shutdownNow();
	}

	@Test
	void expiredLeaseGoesToTheQueuedWaiterWhileTheKeyIsInspected() throws Exception {
		this.directory = this.temporary.resolve("locks");
		try (SocketLockRepository holder = new SocketLockRepository(this.directory);
				SocketLockRepository waiter = new SocketLockRepository(this.directory);
				SocketLockRepository monitor = new SocketLockRepository(this.directory);
				LockTemplate template = new LockTemplate(waiter, LockSettings.defaults(), null)) {
			// Nothing renews a lease taken through the repository itself: it expires
			// after its TTL.
			LeaseSpec stuck = LeaseSpec.exclusive("k", "stuck", "token-1", Duration.ofSeconds(1));
			long stuckToken = holder.tryAcquire(stuck).getAsLong();
			long start = System.nanoTime();
			CompletableFuture<Long> granted = CompletableFuture.supplyAsync(() -> {
				try (LockHandle handle = template.exclusive("k").waitTime(Duration.ofSeconds(60)).acquire()) {
					return handle.fencingToken();
				}
			}, this.executor);
			// An actuator endpoint or a dashboard looking at the locks meanwhile.
			AtomicBoolean looking = new AtomicBoolean(true);
			CompletableFuture<Void> monitoring = CompletableFuture.runAsync(() -> {
				while (looking.get()) {
					monitor.inspect("k");
					monitor.list();
				}
			}, this.executor);
			try {
				// Granted once the lease expires (1 s), not when the wait runs out (60
				// s).
				assertThat(granted.get(20, TimeUnit.SECONDS)).isGreaterThan(stuckToken);
				assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(500));
			}
			finally {
				looking.set(false);
				monitoring.get(10, TimeUnit.SECONDS);
			}
		}
	}

}
