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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.core.log.LogAccessor;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.test.util.TestSocketUtils;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.test.FaultyLink;
import dev.latchkey.test.ProcessSignals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The Redis backend under faults that only it has, on a redis-server of the test's own:
 * the server restarted without persistence under a holder (its data gone), an acquire
 * whose answer was lost to a paused server, the server unreachable, a release
 * subscription that can never be made. A holder killed, a holder or the server paused
 * past the TTL, and a restart with persistence are {@link FaultMatrixRedisTests}'s.
 */
@Timeout(60)
class RedisLockFaultTests {

	private static final LogAccessor logger = new LogAccessor(RedisLockFaultTests.class);

	@TempDir
	Path temporary;

	private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

	private final ProcessSignals signals = new ProcessSignals();

	@AfterEach
	void closeResources() throws Exception {
		this.signals.close();
		for (AutoCloseable resource : reversed(this.resources)) {
			resource.close();
		}
	}

	@Test
	void holderReportsItsLeaseLostWhenRedisRestartsAndNeverHoldsItAgain() {
		RedisServerProcess server = server();
		RedisLockRepository repository = repository(server.url());
		List<LockLostEvent> lost = new CopyOnWriteArrayList<>();
		ApplicationEventPublisher events = (event) -> {
			if (event instanceof LockLostEvent lockLost) {
				lost.add(lockLost);
			}
		};
		LockTemplate template = template(repository,
				LockSettings.defaults()
					.withOwner("holder")
					.withTtl(Duration.ofSeconds(3))
					.withRenewInterval(Duration.ofMillis(200)),
				events);
		LockHandle handle = template.exclusive("restarted").acquire();
		assertThat(repository.inspect("restarted")).isPresent();
		server.restart();
		Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> !lost.isEmpty());
		assertThat(lost).singleElement().satisfies((event) -> {
			assertThat(event.getKey()).isEqualTo("restarted");
			assertThat(event.getReason()).isIn(LossReason.NOT_OWNER, LossReason.RENEWAL_FAILED);
		});
		assertThat(handle.lease().isValid()).isFalse();
		// The keeper stopped renewing the lost lease: it did not make it again on the new
		// server.
		Awaitility.await()
			.during(Duration.ofMillis(600))
			.atMost(Duration.ofSeconds(5))
			.until(() -> repository.inspect("restarted").isEmpty());
		assertThat(repository.tryAcquire(LeaseSpec.exclusive("restarted", "next", token(), Duration.ofSeconds(30))))
			.isPresent();
	}

	@Test
	void acquireWhoseAnswerWasLostToAPauseLeavesTheKeyFreeSoonAfterTheServerResumes() throws Exception {
		RedisServerProcess server = server();
		// The command timeout is far below the pause: the acquire is sent, the client
		// gives up on it, and the paused server runs it when it resumes.
		RedisLockRepository repository = repository(server.url(), Duration.ofMillis(300));
		RedisLockRepository next = repository(server.url());
		// Connect both before the pause, and load the scripts: a server that does not
		// know a script answers EVALSHA with NOSCRIPT when it resumes, and the EVAL that
		// would follow is never sent.
		Duration ttl = Duration.ofSeconds(60);
		warmUp(repository, ttl);
		warmUp(next, ttl);
		LockTemplate template = template(repository, LockSettings.defaults().withOwner("lost-answer").withTtl(ttl),
				null);
		this.signals.stop(server.pid());
		long resumedAt;
		try {
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> template.exclusive("answer-lost").acquire())
				.withMessageStartingWith("Lock 'answer-lost': Acquiring the lock at the Redis backend failed: ");
			Thread.sleep(1500);
		}
		finally {
			this.signals.resume(server.pid());
			resumedAt = System.nanoTime();
		}
		// The acquire did run when the server resumed (its 60 s lease would keep the key
		// idle); the template, which knows the token it sent, gives it back as soon as
		// the server answers again.
		LeaseSpec spec = LeaseSpec.exclusive("answer-lost", "next", token(), Duration.ofSeconds(30));
		OptionalLong[] granted = { OptionalLong.empty() };
		Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
			granted[0] = next.tryAcquire(spec);
			return granted[0].isPresent();
		});
		logger.info(() -> "Key of an acquire whose answer was lost was granted to the next holder "
				+ TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumedAt) + " ms after the server resumed");
		// The lost acquire was granted on the server: the next holder's token is the
		// second of the key.
		assertThat(granted[0].getAsLong()).isEqualTo(2);
		assertThat(next.release(spec)).isTrue();
	}

	@Test
	void repositoryAloneKeepsTheKeyOfAnAcquireWhoseAnswerWasLostForItsTtl() throws Exception {
		RedisServerProcess server = server();
		RedisLockRepository repository = repository(server.url(), Duration.ofMillis(300));
		RedisLockRepository next = repository(server.url());
		Duration ttl = Duration.ofSeconds(60);
		warmUp(repository, ttl);
		warmUp(next, ttl);
		LeaseSpec lost = LeaseSpec.exclusive("answer-lost", "lost-answer", token(), ttl);
		this.signals.stop(server.pid());
		try {
			// The SPI makes single attempts and never retries or schedules: LockTemplate
			// gives such a lease back.
			assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.tryAcquire(lost));
		}
		finally {
			this.signals.resume(server.pid());
		}
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> next.inspect("answer-lost").isPresent());
		assertThat(next.inspect("answer-lost"))
			.hasValueSatisfying((info) -> assertThat(info.holders()).singleElement().satisfies((holder) -> {
				assertThat(holder.owner()).isEqualTo("lost-answer");
				assertThat(holder.remainingTtl()).isGreaterThan(Duration.ofSeconds(50));
			}));
		assertThat(repository.release(lost)).isTrue();
	}

	@Test
	void unreachableServerFailsTheCallWithABackendException() throws IOException {
		URI nobody = URI.create("redis://127.0.0.1:" + TestSocketUtils.findAvailableTcpPort());
		RedisLockRepository repository = repository(nobody);
		LeaseSpec lease = LeaseSpec.exclusive("unreachable", "owner", token(), Duration.ofSeconds(30));
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.tryAcquire(lease))
			.withMessageStartingWith("Acquiring the lock at the Redis backend failed: ")
			.withMessageContaining(Integer.toString(nobody.getPort()))
			.satisfies((ex) -> {
				assertThat(ex.getBackend()).isEqualTo("redis");
				// The key may be personal data: it stays out of the message.
				assertThat(ex.getKey()).isEqualTo("unreachable");
				assertThat(ex.getMessage()).doesNotContain("unreachable");
			});
		LockTemplate template = template(repository, LockSettings.defaults(), null);
		assertThatExceptionOfType(LockBackendException.class)
			.isThrownBy(() -> template.exclusive("unreachable").run(() -> {
				throw new AssertionError("Ran without the lock");
			}));
	}

	@Test
	void waiterKeepsItsWaitTimeAndStillGetsTheKeyWhenEverySubscriptionIsCut() throws Exception {
		// Every new connection is cut at its handshake (Lettuce's HELLO), while the
		// command connection, open already, carries on: the release subscription can
		// never be made. Before the listener container was told not to recover, the
		// waiting thread retried it every 5 s for ever and never returned.
		RedisServerProcess server = server();
		FaultyLink link = FaultyLink.start(new InetSocketAddress(server.url().getHost(), server.url().getPort()), 0);
		this.resources.add(link);
		RedisLockRepository holderRepository = repository(server.url());
		RedisLockRepository waiterRepository = repository(URI.create("redis://127.0.0.1:" + link.port()));
		warmUp(waiterRepository, LockSettings.defaults().ttl());
		link.cutEveryRequestContaining("HELLO");
		String key = "cut-subscription-" + token();
		LockTemplate holder = template(holderRepository, LockSettings.defaults().withOwner("holder"), null);
		LockTemplate waiter = template(waiterRepository, LockSettings.defaults().withOwner("waiter"), null);
		LockHandle held = holder.exclusive(key).acquire();
		long start = System.nanoTime();
		assertThatExceptionOfType(LockNotAcquiredException.class)
			.isThrownBy(() -> waiter.exclusive(key).waitTime(Duration.ofSeconds(1)).acquire());
		assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the wait time is kept")
			.isLessThan(Duration.ofSeconds(4));
		assertThat(link.cuts()).as("the subscription was cut").isPositive();
		CompletableFuture<Long> next = CompletableFuture.supplyAsync(() -> {
			try (LockHandle handle = waiter.exclusive(key).waitTime(Duration.ofSeconds(20)).acquire()) {
				return handle.fencingToken();
			}
		});
		Thread.sleep(300);
		long heldToken = held.fencingToken();
		held.close();
		assertThat(next.get(10, TimeUnit.SECONDS)).as("granted by polling, without a subscription")
			.isGreaterThan(heldToken);
	}

	/**
	 * Connects the repository, loads the scripts, and makes its owner record of the TTL
	 * class: all that an acquisition sends first when it is the first of its kind.
	 */
	private static void warmUp(RedisLockRepository repository, Duration ttl) {
		LeaseSpec lease = LeaseSpec.exclusive("warm-up", "warm-up", token(), ttl);
		assertThat(repository.tryAcquire(lease)).isPresent();
		assertThat(repository.inspect("warm-up")).isPresent();
		assertThat(repository.release(lease)).isTrue();
	}

	private RedisServerProcess server() {
		RedisServerProcess server = RedisServerProcess.start(this.temporary);
		this.resources.add(server);
		return server;
	}

	private RedisLockRepository repository(URI url) {
		return repository(url, Duration.ofSeconds(2));
	}

	private RedisLockRepository repository(URI url, Duration commandTimeout) {
		LettuceConnectionFactory connectionFactory = RedisTestSupport.connectionFactory(url, commandTimeout);
		this.resources.add(connectionFactory::destroy);
		RedisLockRepository repository = new RedisLockRepository(connectionFactory, "fault-test");
		this.resources.add(repository);
		return repository;
	}

	private LockTemplate template(RedisLockRepository repository, LockSettings settings,
			@Nullable ApplicationEventPublisher events) {
		LockTemplate template = new LockTemplate(repository, settings,
				(events != null) ? new EventPublishingLockObserver(events) : null);
		this.resources.add(template);
		return template;
	}

	private static <T> List<T> reversed(List<T> list) {
		List<T> reversed = new java.util.ArrayList<>(list);
		java.util.Collections.reverse(reversed);
		return reversed;
	}

	private static String token() {
		return UUID.randomUUID().toString();
	}

}
