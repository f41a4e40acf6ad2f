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

package dev.latchkey.interceptor;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockContext;
import dev.latchkey.LockLostException;
import dev.latchkey.LossReason;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.LostPolicy;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * When a lease is lost while an annotated method runs, the work is told according to its
 * lost policy.
 */
class LockLostPolicyTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
		.withUserConfiguration(LosingConfiguration.class)
		// Renew every 100 ms, so that a stolen lease is noticed quickly.
		.withPropertyValues("latchkey.ttl=3s", "latchkey.renew-interval=100ms");

	@Test
	void synchronousWorkIsInterruptedAndTheCallEndsWithLockLostException() {
		this.contextRunner.run((context) -> {
			Worker worker = context.getBean(Worker.class);
			StealingLockRepository repository = context.getBean(StealingLockRepository.class);
			Probe probe = context.getBean(Probe.class);
			repository.stealAll = true;
			assertThatExceptionOfType(LockLostException.class).isThrownBy(() -> worker.interruptible(probe))
				.satisfies((ex) -> {
					assertThat(ex.getReason()).isEqualTo(LossReason.NOT_OWNER);
					assertThat(ex.getName()).isEqualTo("interruptible");
				});
			assertThat(probe.interrupted).isTrue();
			assertThat(probe.assertHeldFailure).isInstanceOf(LockLostException.class);
			assertThat(Thread.currentThread().isInterrupted()).as("interrupt flag cleared").isFalse();
			assertThat(context.getBean(Events.class).lost).singleElement()
				.satisfies((event) -> assertThat(event.getKey()).isEqualTo("interruptible"));
		});
	}

	@Test
	void workThatOverrunsItsMaxHoldIsInterruptedAndItsLockGivenBack() {
		this.contextRunner.run((context) -> {
			Worker worker = context.getBean(Worker.class);
			Probe probe = context.getBean(Probe.class);
			long start = System.nanoTime();
			assertThatExceptionOfType(LockLostException.class).isThrownBy(() -> worker.bounded(probe))
				.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo(LossReason.MAX_HOLD_EXCEEDED));
			assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
			assertThat(probe.interrupted).isTrue();
			assertThat(probe.assertHeldFailure).isInstanceOf(LockLostException.class);
			assertThat(context.getBean(Events.class).lost).singleElement()
				.satisfies((event) -> assertThat(event.getReason()).isEqualTo(LossReason.MAX_HOLD_EXCEEDED));
			assertThat(context.getBean(StealingLockRepository.class).inspect("bounded")).isEmpty();
		});
	}

	@Test
	void aFutureThatOverrunsItsMaxHoldFailsWithLockLostException() {
		this.contextRunner.run((context) -> {
			Worker worker = context.getBean(Worker.class);
			CompletableFuture<String> result = worker.boundedAsync(new CompletableFuture<>());
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> result.get(5, TimeUnit.SECONDS))
				.havingCause()
				.isInstanceOfSatisfying(LockLostException.class,
						(ex) -> assertThat(ex.getReason()).isEqualTo(LossReason.MAX_HOLD_EXCEEDED));
			// Given back right after the future is told, on the keeper's thread.
			StealingLockRepository repository = context.getBean(StealingLockRepository.class);
			Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> repository.inspect("boundedAsync").isEmpty());
		});
	}

	@Test
	void latchkeyMaxHoldBoundsAnnotatedMethodsThatSetNoneOfTheirOwn() {
		this.contextRunner.withPropertyValues("latchkey.max-hold=300ms").run((context) -> {
			Worker worker = context.getBean(Worker.class);
			Probe probe = context.getBean(Probe.class);
			assertThatExceptionOfType(LockLostException.class).isThrownBy(() -> worker.interruptible(probe))
				.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo(LossReason.MAX_HOLD_EXCEEDED));
			assertThat(probe.interrupted).isTrue();
		});
	}

	@Test
	void notifyPolicyLetsTheWorkFinishButStillPublishesTheEvent() {
		this.contextRunner.run((context) -> {
			Worker worker = context.getBean(Worker.class);
			StealingLockRepository repository = context.getBean(StealingLockRepository.class);
			Probe probe = context.getBean(Probe.class);
			repository.stealAll = true;
			assertThat(worker.notifying(probe)).isEqualTo("finished");
			assertThat(probe.interrupted).isFalse();
			assertThat(probe.assertHeldFailure).isInstanceOf(LockLostException.class);
			// The lease turns invalid when the keeper marks it lost, and the event
			// follows
			// on the keeper's thread, so the work may return before it is published.
			Events events = context.getBean(Events.class);
			Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> !events.lost.isEmpty());
			assertThat(events.lost).hasSize(1);
		});
	}

	@Test
	void completableFutureFailsWithLockLostException() {
		this.contextRunner.run((context) -> {
			Worker worker = context.getBean(Worker.class);
			StealingLockRepository repository = context.getBean(StealingLockRepository.class);
			CompletableFuture<String> never = new CompletableFuture<>();
			CompletableFuture<String> result = worker.async(never);
			repository.stealAll = true;
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> result.get(5, TimeUnit.SECONDS))
				.withCauseInstanceOf(LockLostException.class);
		});
	}

	@Test
	void monoIsCancelledAndSignalsLockLostException() {
		this.contextRunner.run((context) -> {
			Worker worker = context.getBean(Worker.class);
			StealingLockRepository repository = context.getBean(StealingLockRepository.class);
			repository.stealAll = true;
			StepVerifier.create(worker.reactive())
				.expectError(LockLostException.class)
				.verify(java.time.Duration.ofSeconds(5));
		});
	}

	/**
	 * A memory backend whose renewals can be made to answer that every lease was taken by
	 * someone else.
	 */
	static class StealingLockRepository extends MemoryLockRepository {

		volatile boolean stealAll;

		@Override
		public Set<String> renew(Collection<LeaseSpec> leases) {
			if (this.stealAll) {
				return leases.stream().map(LeaseSpec::token).collect(Collectors.toSet());
			}
			return super.renew(leases);
		}

	}

	static class Probe {

		volatile boolean interrupted;

		volatile Throwable assertHeldFailure;

	}

	static class Events implements ApplicationListener<LockLostEvent> {

		final List<LockLostEvent> lost = new CopyOnWriteArrayList<>();

		@Override
		public void onApplicationEvent(LockLostEvent event) {
			this.lost.add(event);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class LosingConfiguration {

		@Bean
		StealingLockRepository lockRepository() {
			return new StealingLockRepository();
		}

		@Bean
		Worker worker() {
			return new Worker();
		}

		@Bean
		Probe probe() {
			return new Probe();
		}

		@Bean
		Events events() {
			return new Events();
		}

	}

	static class Worker {

		@Exclusive("interruptible")
		public String interruptible(Probe probe) {
			try {
				new CountDownLatch(1).await(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				probe.interrupted = true;
			}
			recordAssertHeld(probe);
			return "finished";
		}

		@Exclusive(value = "bounded", maxHold = 300)
		public String bounded(Probe probe) {
			return interruptible(probe);
		}

		@Exclusive(value = "boundedAsync", maxHoldString = "300ms")
		public CompletableFuture<String> boundedAsync(CompletableFuture<String> result) {
			return result;
		}

		@Exclusive(value = "notifying", onLost = LostPolicy.NOTIFY)
		public String notifying(Probe probe) {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
			while (LockContext.lease().isValid() && System.nanoTime() < deadline) {
				if (Thread.currentThread().isInterrupted()) {
					probe.interrupted = true;
				}
				Thread.onSpinWait();
			}
			recordAssertHeld(probe);
			return "finished";
		}

		@Exclusive("async")
		public CompletableFuture<String> async(CompletableFuture<String> result) {
			return result;
		}

		@Exclusive("reactive")
		public Mono<String> reactive() {
			return Mono.never();
		}

		private static void recordAssertHeld(Probe probe) {
			try {
				LockContext.assertHeld();
			}
			catch (LockLostException ex) {
				probe.assertHeldFailure = ex;
			}
		}

	}

}
