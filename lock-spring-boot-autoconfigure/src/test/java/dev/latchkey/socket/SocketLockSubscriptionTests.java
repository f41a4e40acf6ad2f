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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LeaseSpec;
import dev.latchkey.ReleaseSubscription;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Release subscriptions of the socket backend: the arbiter's watches follow the
 * subscriptions of a repository.
 */
class SocketLockSubscriptionTests {

	@TempDir
	Path temporary;

	private final ExecutorService executor = Executors.newFixedThreadPool(2);

	private Path directory;

	@AfterEach
	void stop() {
		this.executor.shutdownNow();
	}

	@Test
	void keyStaysWatchedWhenItsLastSubscriberLeavesAsANewOneComes() throws Exception {
		this.directory = this.temporary.resolve("locks");
		try (SocketLockRepository releaser = new SocketLockRepository(this.directory);
				SocketLockRepository waiter = new SocketLockRepository(this.directory)) {
			waiter.inspect("k");
			int missed = 0;
			for (int i = 0; i < 3000; i++) {
				String key = "k" + i;
				ReleaseSubscription leaving = waiter.subscribe(key, () -> {
				});
				CountDownLatch notified = new CountDownLatch(1);
				AtomicReference<ReleaseSubscription> coming = new AtomicReference<>();
				CyclicBarrier together = new CyclicBarrier(2);
				CompletableFuture<Void> leave = CompletableFuture.runAsync(() -> {
					await(together);
					leaving.close();
				}, this.executor);
				CompletableFuture<Void> come = CompletableFuture.runAsync(() -> {
					await(together);
					coming.set(waiter.subscribe(key, notified::countDown));
				}, this.executor);
				CompletableFuture.allOf(leave, come).get(10, TimeUnit.SECONDS);
				LeaseSpec lease = LeaseSpec.exclusive(key, "releaser", "token-" + i, Duration.ofSeconds(30));
				assertThat(releaser.tryAcquire(lease)).isPresent();
				assertThat(releaser.release(lease)).isTrue();
				if (!notified.await(2, TimeUnit.SECONDS)) {
					missed++;
				}
				coming.get().close();
			}
			assertThat(missed).as("releases not pushed to the remaining subscriber").isZero();
		}
	}

	private static void await(CyclicBarrier barrier) {
		try {
			barrier.await(10, TimeUnit.SECONDS);
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

}
