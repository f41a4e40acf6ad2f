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

package dev.latchkey.shedlock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import net.javacrumbs.shedlock.core.LockAssert;
import net.javacrumbs.shedlock.core.LockProvider;
import net.javacrumbs.shedlock.spring.annotation.EnableSchedulerLock;
import net.javacrumbs.shedlock.spring.annotation.SchedulerLock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;

import dev.latchkey.Lease;
import dev.latchkey.LockContext;
import dev.latchkey.LockInfo;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.ApplicationNodeTests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A ShedLock user's application, unchanged ({@code @EnableSchedulerLock}, a
 * {@code @SchedulerLock} job, no {@code LockProvider} bean), started twice on one backend
 * that properties pick: the job runs on one node at a time, the other node skips it,
 * {@code lockAtLeastFor} keeps the lock after a short run, and the lock shows through
 * Latchkey on both nodes.
 */
class ShedLockSchedulerLockTests extends ApplicationNodeTests {

	@ParameterizedTest(name = "{0}")
	@MethodSource(BACKENDS)
	void aSchedulerLockJobRunsOnOneNodeAtATimeAndKeepsItsLockForLockAtLeastFor(String backend, String[] properties)
			throws Exception {
		String job = "report-" + UUID.randomUUID();
		ConfigurableApplicationContext nodeA = startNode(ShedLockApplication.class, properties,
				"report.job-name=" + job);
		ConfigurableApplicationContext nodeB = startNode(ShedLockApplication.class, properties,
				"report.job-name=" + job);
		assertThat(nodeA.getBean(LockProvider.class)).isInstanceOf(LatchkeyLockProvider.class);
		assertThat(nodeA.getBean(LockTemplate.class).repository().backend()).isEqualTo(backend);
		ReportJob jobA = nodeA.getBean(ReportJob.class);
		ReportJob jobB = nodeB.getBean(ReportJob.class);

		// Node A runs the job and stays in it.
		CountDownLatch running = new CountDownLatch(1);
		CountDownLatch finish = new CountDownLatch(1);
		List<Long> fencingTokens = new ArrayList<>();
		CompletableFuture<Void> runA = CompletableFuture.runAsync(() -> jobA.run(() -> {
			fencingTokens.add(LockContext.fencingToken());
			running.countDown();
			awaitLatch(finish);
		}));
		assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

		// The lock shows through Latchkey, on both nodes.
		Lease held = nodeA.getBean(LockTemplate.class).heldLeases().get(0);
		assertThat(held.key()).endsWith(job);
		assertThat(nodeB.getBean(LockTemplate.class).repository().inspect(held.key())).get()
			.extracting(LockInfo::holders)
			.satisfies((holders) -> assertThat(holders).hasSize(1));

		// Node B skips the job while A runs it.
		jobB.run(() -> fencingTokens.add(LockContext.fencingToken()));
		assertThat(jobB.runs()).isZero();

		finish.countDown();
		runA.get(10, TimeUnit.SECONDS);
		assertThat(jobA.runs()).isOne();

		// A short run on A; lockAtLeastFor (2s) keeps the lock after it, then B runs,
		// with a higher fencing token. lockAtLeastFor counts from the call that took the
		// lock, as ShedLock counts it from before lock().
		AtomicLong shortRunCalledAt = new AtomicLong();
		await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
			long calledAt = System.nanoTime();
			jobA.run(() -> shortRunCalledAt.set(calledAt));
			assertThat(jobA.runs()).isEqualTo(2);
		});
		jobB.run(() -> fencingTokens.add(LockContext.fencingToken()));
		assertThat(jobB.runs()).as("within lockAtLeastFor").isZero();
		await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
			jobB.run(() -> fencingTokens.add(LockContext.fencingToken()));
			assertThat(jobB.runs()).isOne();
		});
		assertThat(System.nanoTime() - shortRunCalledAt.get()).isGreaterThan(Duration.ofMillis(1900).toNanos());
		assertThat(fencingTokens).hasSize(2);
		assertThat(fencingTokens.get(1)).isGreaterThan(fencingTokens.get(0));
	}

	private static void awaitLatch(CountDownLatch latch) {
		try {
			assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@EnableSchedulerLock(defaultLockAtMostFor = "1m")
	@Import(ReportJob.class)
	static class ShedLockApplication {

	}

	static class ReportJob {

		private final AtomicInteger runs = new AtomicInteger();

		// Read through a method: the bean is a proxy, whose own fields are not the job's.
		public int runs() {
			return this.runs.get();
		}

		@SchedulerLock(name = "${report.job-name}", lockAtMostFor = "30s", lockAtLeastFor = "2s")
		public void run(Runnable work) {
			LockAssert.assertLocked();
			this.runs.incrementAndGet();
			work.run();
		}

	}

}
