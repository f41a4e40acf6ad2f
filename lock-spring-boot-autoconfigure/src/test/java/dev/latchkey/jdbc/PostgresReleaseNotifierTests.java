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

package dev.latchkey.jdbc;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

import dev.latchkey.LeaseSpec;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.test.LiveThreads;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JDBC backend's release notifications on the database of
 * {@value TestServers#POSTGRES_URL} ({@code LISTEN}/{@code NOTIFY}): a release by another
 * instance is announced, and the listener runs on a thread of the application's thread
 * factory when given one, and is gone after close. The backend contract on PostgreSQL is
 * {@code PostgresLockRepositoryTests}, in lock-spring-boot-test.
 */
class PostgresReleaseNotifierTests {

	@RegisterExtension
	static final LockTable table = LockTable.postgres(20);

	@Test
	void releaseByAnotherInstanceIsAnnouncedByNotify() throws InterruptedException {
		// Two repositories stand for two application instances: only PostgreSQL's NOTIFY
		// can tell one of the other.
		try (JdbcLockRepository waiting = new JdbcLockRepository(table.dataSource(), table.name());
				JdbcLockRepository holding = new JdbcLockRepository(table.dataSource(), table.name())) {
			String key = "notify-across-instances-" + UUID.randomUUID();
			CountDownLatch released = new CountDownLatch(1);
			try (ReleaseSubscription subscription = waiting.subscribe(key, released::countDown)) {
				LeaseSpec lease = LeaseSpec.exclusive(key, "elsewhere", "token-" + System.nanoTime(),
						Duration.ofSeconds(30));
				assertThat(holding.tryAcquire(lease)).isPresent();
				assertThat(released.getCount()).isOne();
				assertThat(holding.release(lease)).isTrue();
				assertThat(released.await(5, TimeUnit.SECONDS)).isTrue();
			}
		}
	}

	@Test
	void listenerThreadOfTheApplicationsFactoryIsGoneAfterClose() throws InterruptedException {
		String prefix = "app-jdbc-" + UUID.randomUUID() + "-";
		ThreadFactory threads = new CustomizableThreadFactory(prefix);
		JdbcLockRepository waiting = new JdbcLockRepository(table.dataSource(), table.name(), threads);
		String key = "threads-" + UUID.randomUUID();
		CountDownLatch released = new CountDownLatch(1);
		try (JdbcLockRepository holding = new JdbcLockRepository(table.dataSource(), table.name());
				ReleaseSubscription subscription = waiting.subscribe(key, released::countDown)) {
			assertThat(LiveThreads.named(prefix)).hasSize(1);
			LeaseSpec lease = LeaseSpec.exclusive(key, "elsewhere", "token-" + UUID.randomUUID(),
					Duration.ofSeconds(30));
			assertThat(holding.tryAcquire(lease)).isPresent();
			assertThat(holding.release(lease)).isTrue();
			assertThat(released.await(5, TimeUnit.SECONDS)).as("notified on the application's thread").isTrue();
		}
		waiting.close();
		assertThat(LiveThreads.named(prefix)).isEmpty();
	}

	@Test
	void defaultListenerThreadIsNamedAndGoneAfterClose() {
		int before = LiveThreads.named(JdbcLockRepository.DEFAULT_THREAD_NAME_PREFIX).size();
		JdbcLockRepository repository = new JdbcLockRepository(table.dataSource(), table.name());
		try (ReleaseSubscription subscription = repository.subscribe("threads-" + UUID.randomUUID(), () -> {
		})) {
			assertThat(LiveThreads.named(JdbcLockRepository.DEFAULT_THREAD_NAME_PREFIX)).hasSize(before + 1);
		}
		repository.close();
		assertThat(LiveThreads.named(JdbcLockRepository.DEFAULT_THREAD_NAME_PREFIX)).hasSize(before);
	}

	@Test
	void subscribingAfterCloseStartsNoThread() {
		String prefix = "app-jdbc-" + UUID.randomUUID() + "-";
		JdbcLockRepository repository = new JdbcLockRepository(table.dataSource(), table.name(),
				new CustomizableThreadFactory(prefix));
		repository.close();
		try (ReleaseSubscription subscription = repository.subscribe("threads-" + UUID.randomUUID(), () -> {
		})) {
			assertThat(LiveThreads.named(prefix)).isEmpty();
		}
	}

}
