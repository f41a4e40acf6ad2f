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

package dev.latchkey.integration;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.integration.support.locks.LockRegistry;

import dev.latchkey.Lease;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.ApplicationNodeTests;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application that uses Spring Integration's {@code LockRegistry} and declares none,
 * started twice on one backend that properties pick: the registry is Latchkey's, a lock
 * held on one node keeps the other waiting until it is unlocked, and the lock shows
 * through Latchkey on both nodes.
 */
class LockRegistryApplicationTests extends ApplicationNodeTests {

	@ParameterizedTest(name = "{0}")
	@MethodSource(BACKENDS)
	void aLockHeldOnOneNodeKeepsTheOtherWaitingUntilItIsUnlocked(String backend, String[] properties) throws Exception {
		ConfigurableApplicationContext nodeA = startNode(InvoiceApplication.class, properties);
		ConfigurableApplicationContext nodeB = startNode(InvoiceApplication.class, properties);
		LockRegistry<?> registryA = nodeA.getBean(LockRegistry.class);
		LockRegistry<?> registryB = nodeB.getBean(LockRegistry.class);
		assertThat(registryA).isInstanceOf(LatchkeyLockRegistry.class);
		assertThat(nodeA.getBean(LockTemplate.class).repository().backend()).isEqualTo(backend);
		String key = "invoice-" + UUID.randomUUID();

		Lock lock = registryA.obtain(key);
		lock.lock();
		CompletableFuture<String> waiting;
		try {
			Lease held = nodeA.getBean(LockTemplate.class).heldLeases().get(0);
			assertThat(held.key()).endsWith(key);
			assertThat(nodeB.getBean(LockTemplate.class).repository().inspect(held.key())).isPresent();
			waiting = CompletableFuture.supplyAsync(() -> {
				try {
					return registryB.executeLocked(key, Duration.ofSeconds(20), () -> "sent");
				}
				catch (Exception ex) {
					throw new CompletionException(ex);
				}
			});
			Thread.sleep(500);
			assertThat(waiting).isNotDone();
		}
		finally {
			lock.unlock();
		}
		assertThat(waiting.get(20, TimeUnit.SECONDS)).isEqualTo("sent");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class InvoiceApplication {

	}

}
