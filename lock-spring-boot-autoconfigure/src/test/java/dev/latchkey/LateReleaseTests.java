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

package dev.latchkey;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.event.LockReleasedEvent;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.test.ForwardingLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A lease released after its validity ran out was lost, whoever notices first: the work
 * (its {@code assertHeld} fails at the local deadline) may end and release it before the
 * lease keeper's watchdog gets to it. Listeners must then hear of a loss, not of a
 * release, and the backend still gets the lease back.
 */
@Timeout(30)
class LateReleaseTests {

	private final CountDownLatch unblock = new CountDownLatch(1);

	private final List<Object> events = new CopyOnWriteArrayList<>();

	private final AtomicInteger releases = new AtomicInteger();

	// A backend that still holds the lease when asked (its expiry lags the local
	// deadline by the safety margin): it answers every release with "released".
	private final LockRepository repository = new ForwardingLockRepository(new MemoryLockRepository()) {

		@Override
		public boolean release(LeaseSpec lease) {
			LateReleaseTests.this.releases.incrementAndGet();
			super.release(lease);
			return true;
		}

	};

	private final ThreadPoolTaskScheduler keeperThreads = new ThreadPoolTaskScheduler();

	private LockTemplate template;

	@AfterEach
	void close() {
		this.unblock.countDown();
		if (this.template != null) {
			this.template.close();
		}
		this.keeperThreads.shutdown();
	}

	@Test
	void aLeaseReleasedAfterItsValidityRanOutBeforeTheKeeperNoticedIsReportedLostAndGivenBack() throws Exception {
		// The lease keeper gets no CPU (its two threads kept busy): nothing renews the
		// lease and no watchdog runs, as when its process is starved.
		this.keeperThreads.setPoolSize(2);
		this.keeperThreads.initialize();
		LockSettings settings = LockSettings.defaults()
			.withOwner("late-release")
			.withTtl(Duration.ofSeconds(1))
			.withRenewInterval(Duration.ofMillis(300));
		this.template = new LockTemplate(this.repository, settings, new EventPublishingLockObserver(this.events::add),
				this.keeperThreads);
		LockHandle handle = this.template.exclusive("late").acquire();
		for (int i = 0; i < 2; i++) {
			this.keeperThreads.execute(() -> {
				try {
					this.unblock.await(30, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			});
		}
		Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(5)).until(() -> {
			try {
				handle.lease().assertValid();
				return false;
			}
			catch (LockLostException ex) {
				return ex.getReason() == LossReason.RENEWAL_FAILED;
			}
		});
		handle.close();
		assertThat(this.events).filteredOn(LockLostEvent.class::isInstance)
			.singleElement()
			.satisfies((event) -> assertThat(((LockLostEvent) event).getReason()).isEqualTo(LossReason.RENEWAL_FAILED));
		assertThat(this.events).noneMatch(LockReleasedEvent.class::isInstance);
		assertThat(this.template.lostLeaseCount()).isOne();
		// Given back all the same, best effort, off the caller's thread.
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> this.releases.get() == 1);
	}

}
