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

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import io.micrometer.context.ContextExecutorService;
import io.micrometer.context.ContextSnapshotFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.Lease;
import dev.latchkey.LockContext;
import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.ReactiveLockContext;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tests that the lock follows the work: reentrancy and {@link LockContext} in the
 * dependent stages of a {@code CompletableFuture}, across a Reactor pipeline and on
 * virtual threads, where the work carries the context, and not where it does not.
 * <p>
 * The wait time is zero (the default): a call that tried to acquire a key its caller
 * holds, instead of re-entering it, would fail at once.
 */
class LockContextPropagationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory")
		.withUserConfiguration(ServicesConfiguration.class);

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@AfterEach
	void shutdown() {
		this.executor.shutdownNow();
		Hooks.disableAutomaticContextPropagation();
	}

	@Test
	void dependentFutureStagesOnAWrappedExecutorReenterTheLock() {
		this.contextRunner.run((context) -> {
			Orders orders = context.getBean(Orders.class);
			LockRepository repository = context.getBean(LockRepository.class);
			List<Long> tokens = orders.settle("1", this.executor).get(5, TimeUnit.SECONDS);
			// outer, first stage, dependent stage: one lease, re-entered twice.
			assertThat(tokens).hasSize(3).containsOnly(tokens.get(0));
			assertThat(repository.inspect("order:1")).isEmpty();
		});
	}

	@Test
	void futureStagesOnAPlainExecutorRunWithoutTheContext() {
		this.contextRunner.run((context) -> {
			Orders orders = context.getBean(Orders.class);
			assertThatExceptionOfType(java.util.concurrent.ExecutionException.class)
				.isThrownBy(() -> orders.settleUnwrapped("2", this.executor).get(5, TimeUnit.SECONDS))
				.withCauseInstanceOf(LockNotAcquiredException.class);
		});
	}

	@Test
	void micrometerContextSnapshotCarriesTheLeases() {
		this.contextRunner.run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			Ledger ledger = context.getBean(Ledger.class);
			ExecutorService propagating = ContextExecutorService.wrap(this.executor,
					() -> ContextSnapshotFactory.builder().build().captureAll());
			long[] tokens = locks.exclusive("order:3").call(unchecked(() -> {
				Future<Long> inner = propagating.submit(() -> ledger.book("3"));
				return new long[] { LockContext.fencingToken(), inner.get(5, TimeUnit.SECONDS) };
			}));
			assertThat(tokens[1]).isEqualTo(tokens[0]);
			// The pool thread is left as it was found.
			assertThat(this.executor.submit(LockContext::current).get(5, TimeUnit.SECONDS)).isEmpty();
		});
	}

	@Test
	void fencingTokenIsVisibleInAPipelineOnAnotherScheduler() {
		this.contextRunner.run((context) -> {
			Orders orders = context.getBean(Orders.class);
			LockRepository repository = context.getBean(LockRepository.class);
			List<Object> seen = orders.reactive("4").block(java.time.Duration.ofSeconds(5));
			assertThat(seen).hasSize(3);
			assertThat((String) seen.get(2)).startsWith("parallel-");
			assertThat(seen.get(1)).isEqualTo(seen.get(0));
			assertThat(repository.inspect("order:4")).isEmpty();
		});
	}

	@Test
	void lockContextAnswersOnEveryThreadOfThePipelineWithAutomaticPropagation() {
		this.contextRunner.run((context) -> {
			Orders orders = context.getBean(Orders.class);
			Hooks.enableAutomaticContextPropagation();
			List<Object> seen = orders.reactiveThreadLocal("5").block(java.time.Duration.ofSeconds(5));
			assertThat(seen).hasSize(3);
			assertThat(seen.get(1)).isEqualTo(seen.get(0));
			assertThat((String) seen.get(2)).startsWith("parallel-");
		});
	}

	@Test
	void lockContextIsEmptyOnAnotherSchedulerWithoutPropagation() {
		this.contextRunner.run((context) -> {
			Orders orders = context.getBean(Orders.class);
			assertThatExceptionOfType(IllegalStateException.class)
				.isThrownBy(() -> orders.reactiveThreadLocal("6").block(java.time.Duration.ofSeconds(5)))
				.withMessageContaining("No lock is held");
		});
	}

	@Test
	void nestedLockedMonoOnTheSameKeyReentersInsteadOfContending() {
		this.contextRunner.run((context) -> {
			Orders orders = context.getBean(Orders.class);
			LockRepository repository = context.getBean(LockRepository.class);
			List<Long> tokens = orders.nested("7").block(java.time.Duration.ofSeconds(5));
			assertThat(tokens).hasSize(2);
			assertThat(tokens.get(1)).isEqualTo(tokens.get(0));
			assertThat(repository.inspect("order:7")).isEmpty();
			// Outside the pipeline, the same Mono acquires for itself.
			assertThat(context.getBean(Ledger.class).bookReactive("7").block(java.time.Duration.ofSeconds(5)))
				.isNotEqualTo(tokens.get(0));
		});
	}

	@Test
	void virtualThreadStartedInsideTheCallReentersWithTheWrapper() throws Exception {
		assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21");
		this.contextRunner.run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			Ledger ledger = context.getBean(Ledger.class);
			long[] tokens = locks.exclusive("order:8").call(unchecked(() -> {
				AtomicReference<Optional<Lease>> bare = new AtomicReference<>();
				AtomicLong inner = new AtomicLong();
				join(startVirtualThread(() -> bare.set(LockContext.current())));
				join(startVirtualThread(LockContext.wrap(() -> inner.set(ledger.book("8")))));
				assertThat(bare.get()).isEmpty();
				return new long[] { LockContext.fencingToken(), inner.get() };
			}));
			assertThat(tokens[1]).isEqualTo(tokens[0]);
		});
	}

	private static <T> Supplier<T> unchecked(Callable<T> task) {
		return () -> {
			try {
				return task.call();
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		};
	}

	/**
	 * {@code Thread.startVirtualThread}, called reflectively: the tests compile for Java
	 * 17.
	 */
	private static Thread startVirtualThread(Runnable task) throws Exception {
		return (Thread) Thread.class.getMethod("startVirtualThread", Runnable.class).invoke(null, task);
	}

	private static void join(Thread thread) throws InterruptedException {
		thread.join(5000);
		assertThat(thread.isAlive()).isFalse();
	}

	@Configuration(proxyBeanMethods = false)
	static class ServicesConfiguration {

		@Bean
		Ledger ledger() {
			return new Ledger();
		}

		@Bean
		Orders orders(Ledger ledger) {
			return new Orders(ledger);
		}

	}

	static class Ledger {

		@Exclusive("order:#id")
		public long book(String id) {
			return LockContext.fencingToken();
		}

		@Exclusive("order:#id")
		public Mono<Long> bookReactive(String id) {
			return ReactiveLockContext.lease().map(Lease::fencingToken);
		}

	}

	static class Orders {

		private final Ledger ledger;

		Orders(Ledger ledger) {
			this.ledger = ledger;
		}

		@Exclusive("order:#id")
		public CompletableFuture<List<Long>> settle(String id, ExecutorService executor) {
			java.util.concurrent.Executor locked = LockContext.wrap(executor);
			long outer = LockContext.fencingToken();
			return CompletableFuture.supplyAsync(() -> this.ledger.book(id), locked)
				.thenApplyAsync((first) -> List.of(outer, first, this.ledger.book(id)), locked);
		}

		@Exclusive("order:#id")
		public CompletableFuture<Long> settleUnwrapped(String id, ExecutorService executor) {
			return CompletableFuture.supplyAsync(() -> this.ledger.book(id), executor);
		}

		@Exclusive("order:#id")
		public Mono<List<Object>> reactive(String id) {
			long onCall = LockContext.fencingToken();
			return Mono.just(id)
				.publishOn(Schedulers.parallel())
				.flatMap((ignored) -> ReactiveLockContext.lease())
				.map((lease) -> List.of(onCall, lease.fencingToken(), Thread.currentThread().getName()));
		}

		@Exclusive("order:#id")
		public Mono<List<Object>> reactiveThreadLocal(String id) {
			long onCall = LockContext.fencingToken();
			return Mono.just(id)
				.publishOn(Schedulers.parallel())
				.map((ignored) -> List.of(onCall, LockContext.fencingToken(), Thread.currentThread().getName()));
		}

		@Exclusive("order:#id")
		public Mono<List<Long>> nested(String id) {
			return ReactiveLockContext.lease()
				.publishOn(Schedulers.parallel())
				.flatMap((outer) -> this.ledger.bookReactive(id).map((inner) -> List.of(outer.fencingToken(), inner)));
		}

	}

}
