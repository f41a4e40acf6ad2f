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

package dev.latchkey.redis;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

import dev.latchkey.LeaseSpec;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.test.LiveThreads;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Redis backend's threads, against the Redis of {@link TestServers#redisUrl()}: the
 * one that delivers release messages (from the first message) and the expiry sweep of
 * leases on owner records (from the first such lease) come from the application's thread
 * factory when given one, and are gone after close. The backend contract on Redis is
 * {@code RedisLockRepositoryTests}, in lock-spring-boot-test.
 */
class RedisLockRepositoryThreadTests {

	private final LettuceConnectionFactory connections = RedisTestSupport.connectionFactory(TestServers.redisUrl());

	@AfterEach
	void close() {
		this.connections.destroy();
	}

	@Test
	void threadsOfTheApplicationsFactoryAreStartedOnFirstUseAndGoneAfterClose() {
		String prefix = "app-redis-" + UUID.randomUUID() + "-";
		String namespace = "latchkey-threads-" + UUID.randomUUID();
		RedisLockRepository repository = new RedisLockRepository(this.connections, namespace,
				new CustomizableThreadFactory(prefix));
		assertThat(LiveThreads.named(prefix)).as("none before first use").isEmpty();
		LeaseSpec lease = LeaseSpec.exclusive("threads", "test", "token-" + UUID.randomUUID(), Duration.ofSeconds(5));
		assertThat(repository.tryAcquire(lease)).isPresent();
		assertThat(LiveThreads.named(prefix)).as("the expiry sweep").hasSize(1);
		assertThat(repository.release(lease)).isTrue();
		CompletableFuture<String> deliveredOn = new CompletableFuture<>();
		RedisLockRepository peer = new RedisLockRepository(this.connections, namespace);
		try (ReleaseSubscription subscription = repository.subscribe("threads",
				() -> deliveredOn.complete(Thread.currentThread().getName()))) {
			// Released by another instance: this one hears of it by a message (its own
			// releases wake its waiters on the releasing thread).
			LeaseSpec peers = LeaseSpec.exclusive("threads", "peer", "token-" + UUID.randomUUID(),
					Duration.ofSeconds(5));
			assertThat(peer.tryAcquire(peers)).isPresent();
			assertThat(peer.release(peers)).isTrue();
			assertThat(deliveredOn).succeedsWithin(Duration.ofSeconds(5))
				.as("the release message, delivered on a thread of the factory")
				.asString()
				.startsWith(prefix);
		}
		finally {
			peer.close();
		}
		assertThat(LiveThreads.named(prefix)).as("the expiry sweep and the release messages' thread").hasSize(2);
		repository.close();
		Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> LiveThreads.named(prefix).isEmpty());
	}

	@Test
	void defaultThreadsAreNamedForTheBackend() {
		RedisLockRepository repository = new RedisLockRepository(this.connections,
				"latchkey-threads-" + UUID.randomUUID());
		try {
			LeaseSpec lease = LeaseSpec.exclusive("threads", "test", "token-" + UUID.randomUUID(),
					Duration.ofSeconds(5));
			assertThat(repository.tryAcquire(lease)).isPresent();
			assertThat(Thread.getAllStackTraces().keySet())
				.filteredOn((thread) -> thread.getName().startsWith(RedisLockRepository.DEFAULT_THREAD_NAME_PREFIX))
				.as("the expiry sweep, a daemon thread")
				.isNotEmpty()
				.allSatisfy((thread) -> assertThat(thread.isDaemon()).isTrue());
			repository.release(lease);
		}
		finally {
			repository.close();
		}
	}

}
