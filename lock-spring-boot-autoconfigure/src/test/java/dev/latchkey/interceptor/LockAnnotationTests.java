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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Lazy;

import dev.latchkey.LeaseMode;
import dev.latchkey.LockContext;
import dev.latchkey.LockHandle;
import dev.latchkey.LockKeyException;
import dev.latchkey.LockPermitsConflictException;
import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.annotation.ContentionPolicy;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.Semaphore;
import dev.latchkey.annotation.Shared;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@code @Exclusive} and {@code @Semaphore} on Spring beans, through the
 * auto-configuration and the memory backend.
 */
class LockAnnotationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
		// These tests are about the annotations: the in-JVM backend keeps them apart from
		// other runs on this host.
		.withPropertyValues("latchkey.backend=memory")
		.withUserConfiguration(ServicesConfiguration.class)
		.withPropertyValues("guarded.permits=2");

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@AfterEach
	void shutdown() {
		this.executor.shutdownNow();
	}

	@Test
	void secondCallOnTheSameKeyFailsWhileTheFirstHoldsIt() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			Future<String> first = this.executor.submit(() -> guarded.pay(42, state.gate));
			assertThat(state.entered.await(5, TimeUnit.SECONDS)).isTrue();
			assertThatExceptionOfType(LockNotAcquiredException.class).isThrownBy(() -> guarded.pay(42, null))
				.satisfies((ex) -> {
					assertThat(ex.getKey()).isEqualTo("order:42");
					assertThat(ex.getName()).isEqualTo("order:#id");
				});
			assertThat(guarded.pay(43, null)).isEqualTo("paid 43");
			state.gate.countDown();
			assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo("paid 42");
			assertThat(guarded.pay(42, null)).isEqualTo("paid 42");
		});
	}

	@Test
	void semaphoreWithAnotherLimitThanTheHoldersThrowsTheConflictUnchanged() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			LockTemplate locks = context.getBean(LockTemplate.class);
			try (LockHandle held = locks.semaphore("limited", 3).acquire()) {
				assertThatExceptionOfType(LockPermitsConflictException.class).isThrownBy(guarded::limited)
					.satisfies((ex) -> {
						assertThat(ex.getRequestedPermits()).isOne();
						assertThat(ex.getHeldPermits()).isEqualTo(3);
					});
			}
			assertThat(guarded.limited()).isEqualTo("ran");
		});
	}

	@Test
	void waitingCallRunsOnceTheHolderReturns() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			Future<String> first = this.executor.submit(() -> guarded.pay(7, state.gate));
			assertThat(state.entered.await(5, TimeUnit.SECONDS)).isTrue();
			Future<String> waiting = this.executor.submit(() -> guarded.payWaiting(7));
			Thread.sleep(100);
			assertThat(waiting).isNotDone();
			state.gate.countDown();
			assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo("paid after waiting 7");
			assertThat(first.get()).isEqualTo("paid 7");
		});
	}

	@Test
	void skippedCallsReturnNothingWithoutRunning() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			LockRepository repository = context.getBean(LockRepository.class);
			Future<String> holder = this.executor.submit(() -> guarded.pay(1, state.gate));
			assertThat(state.entered.await(5, TimeUnit.SECONDS)).isTrue();
			// Same keys as pay(1): the skipping methods find them held.
			guarded.skipVoid(1);
			assertThat(guarded.skipOptional(1)).isEmpty();
			assertThat(state.skipped.get()).isZero();
			state.gate.countDown();
			holder.get(5, TimeUnit.SECONDS);
			guarded.skipVoid(1);
			assertThat(guarded.skipOptional(1)).contains("ran");
			assertThat(state.skipped.get()).isEqualTo(2);
			assertThat(repository.list()).isEmpty();
		});
	}

	@Test
	void semaphoreAllowsItsPermitsAtOnceAndNoMore() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			state.permitsGate = new CountDownLatch(1);
			state.permitsEntered = new CountDownLatch(2);
			Future<?> one = this.executor.submit(() -> guarded.report("jan"));
			Future<?> two = this.executor.submit(() -> guarded.report("feb"));
			assertThat(state.permitsEntered.await(5, TimeUnit.SECONDS)).isTrue();
			assertThatExceptionOfType(LockNotAcquiredException.class).isThrownBy(() -> guarded.report("mar"));
			state.permitsGate.countDown();
			one.get(5, TimeUnit.SECONDS);
			two.get(5, TimeUnit.SECONDS);
			assertThat(guarded.report("mar")).isEqualTo("report mar");
		});
	}

	@Test
	void sharedCallsOfAKeyRunTogetherAndExclusiveCallsOfItAlone() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			LockRepository repository = context.getBean(LockRepository.class);
			state.readersGate = new CountDownLatch(1);
			state.readersEntered = new CountDownLatch(2);
			Future<String> one = this.executor.submit(() -> guarded.read(7));
			Future<String> two = this.executor.submit(() -> guarded.read(7));
			assertThat(state.readersEntered.await(5, TimeUnit.SECONDS)).isTrue();
			assertThat(repository.inspect("doc:7")).hasValueSatisfying((info) -> {
				assertThat(info.mode()).isEqualTo(LeaseMode.SHARED);
				assertThat(info.holders()).hasSize(2);
			});
			assertThatExceptionOfType(LockNotAcquiredException.class).isThrownBy(() -> guarded.write(7, "text"))
				.satisfies((ex) -> assertThat(ex.getName()).isEqualTo("doc:#id"));
			state.readersGate.countDown();
			assertThat(one.get(5, TimeUnit.SECONDS)).isEqualTo("doc 7");
			assertThat(two.get(5, TimeUnit.SECONDS)).isEqualTo("doc 7");
			assertThat(guarded.write(7, "text")).isEqualTo("wrote 7, read inside: doc 7");
			assertThat(repository.inspect("doc:7")).isEmpty();
		});
	}

	@Test
	void nestedCallOnTheSameKeyReentersTheLease() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			assertThat(guarded.outer(5)).isEqualTo("outer:inner");
			assertThat(context.getBean(LockRepository.class).list()).isEmpty();
		});
	}

	@Test
	void guardedCodeSeesItsLeaseThroughLockContext() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			long first = guarded.fencingToken(3);
			long second = guarded.fencingToken(3);
			assertThat(second).isGreaterThan(first);
			assertThat(LockContext.current()).isEmpty();
		});
	}

	@Test
	void nullKeySegmentFailsTheCallWithoutRunningIt() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			assertThatExceptionOfType(LockKeyException.class).isThrownBy(() -> guarded.named(null))
				.withMessageContaining("'#name' evaluated to null");
			assertThat(state.namedCalls.get()).isZero();
		});
	}

	@Test
	void descriptionTemplateIsEvaluatedForEachCallAndStoredWithTheLease() {
		this.contextRunner.withUserConfiguration(DescribedConfiguration.class).run((context) -> {
			Described described = context.getBean(Described.class);
			LockRepository repository = context.getBean(LockRepository.class);
			List<@org.jspecify.annotations.Nullable String> seen = new ArrayList<>();
			described.importDay("2026-12-05", List.of("orders", "invoices"), () -> seen
				.add(repository.inspect("import:2026-12-05").orElseThrow().holders().get(0).description()));
			described.report("2026-11",
					() -> seen.add(repository.inspect("reports").orElseThrow().holders().get(0).description()));
			described.read("rates of the day",
					() -> seen.add(repository.inspect("rates").orElseThrow().holders().get(0).description()));
			assertThat(seen).containsExactly("nightly import 2026-12-05 (2 parts)", "report 2026-11",
					"rates of the day");
		});
	}

	@Test
	void descriptionThatEvaluatesToNullOrIsNotAllowedFailsTheCallWithoutRunningIt() {
		this.contextRunner.withUserConfiguration(DescribedConfiguration.class).run((context) -> {
			Described described = context.getBean(Described.class);
			AtomicInteger ran = new AtomicInteger();
			assertThatExceptionOfType(LockKeyException.class)
				.isThrownBy(() -> described.report(null, ran::incrementAndGet))
				.withMessage("Description template 'report #month' of @Semaphore on Described.report(String, Runnable):"
						+ " '#month' evaluated to null");
			assertThatExceptionOfType(LockKeyException.class)
				.isThrownBy(() -> described.read("x".repeat(201), ran::incrementAndGet))
				.withMessageStartingWith(
						"Description template '#{#note}' of @Shared on Described.read(String, Runnable):"
								+ " Lock description of 201 characters is longer than the maximum of 200");
			assertThatExceptionOfType(LockKeyException.class)
				.isThrownBy(() -> described.read("two\nlines", ran::incrementAndGet))
				.withMessageContaining("contains the control character U+000A");
			assertThat(ran.get()).isZero();
			assertThat(context.getBean(LockRepository.class).list()).isEmpty();
		});
	}

	@Test
	void oversizedKeyFailsTheCall() {
		this.contextRunner.withPropertyValues("latchkey.max-key-length=16").run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			assertThatExceptionOfType(LockKeyException.class).isThrownBy(() -> guarded.named("a-very-long-name"))
				.withMessageContaining("latchkey.max-key-length");
			assertThat(state.namedCalls.get()).isZero();
		});
	}

	@Test
	void checkedExceptionsOfTheMethodPassThroughUnchanged() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			assertThatExceptionOfType(java.io.IOException.class).isThrownBy(guarded::failing).withMessage("disk full");
			assertThat(context.getBean(LockRepository.class).list()).isEmpty();
		});
	}

	@Test
	void completableFutureHoldsTheLeaseUntilItCompletes() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			LockRepository repository = context.getBean(LockRepository.class);
			CompletableFuture<String> pending = new CompletableFuture<>();
			CompletableFuture<String> result = guarded.async(pending);
			assertThat(repository.inspect("async")).isPresent();
			assertThat(guarded.async(new CompletableFuture<>())).failsWithin(Duration.ofSeconds(1))
				.withThrowableOfType(java.util.concurrent.ExecutionException.class)
				.withCauseInstanceOf(LockNotAcquiredException.class);
			pending.complete("done");
			assertThat(result).succeedsWithin(Duration.ofSeconds(1)).isEqualTo("done");
			assertThat(repository.inspect("async")).isEmpty();
		});
	}

	@Test
	void completableFutureOfSeveralKeysHoldsThemAllUntilItCompletes() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			LockRepository repository = context.getBean(LockRepository.class);
			CompletableFuture<Long> pending = new CompletableFuture<>();
			CompletableFuture<Long> result = guarded.asyncTransfer("x", "y", pending);
			assertThat(repository.inspect("account:x")).isPresent();
			assertThat(repository.inspect("account:y")).isPresent();
			pending.complete(1L);
			assertThat(result).succeedsWithin(Duration.ofSeconds(1)).isEqualTo(1L);
			assertThat(repository.inspect("account:x")).isEmpty();
			assertThat(repository.inspect("account:y")).isEmpty();
		});
	}

	@Test
	void monoAcquiresOnSubscriptionAndReleasesWhenItCompletes() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			State state = context.getBean(State.class);
			LockRepository repository = context.getBean(LockRepository.class);
			Mono<String> mono = guarded.mono("m");
			assertThat(repository.inspect("mono:m")).isEmpty();
			StepVerifier.create(mono).expectNext("mono m held true").verifyComplete();
			assertThat(repository.inspect("mono:m")).isEmpty();
		});
	}

	@Test
	void fluxSkipsWhenHeldAndReleasesWhenCancelled() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			LockRepository repository = context.getBean(LockRepository.class);
			// Checked from this thread: a verification inside the first flux's signal
			// would
			// block the interval's own thread.
			Disposable running = guarded.flux().subscribe();
			org.awaitility.Awaitility.await().until(() -> repository.inspect("flux").isPresent());
			StepVerifier.create(guarded.flux()).verifyComplete();
			running.dispose();
			org.awaitility.Awaitility.await().until(() -> repository.inspect("flux").isEmpty());
		});
	}

	@Test
	void severalKeyTemplatesLockEveryKeyWithItsOwnFencingTokenAndOppositeOrdersNeverDeadlock() {
		this.contextRunner.run((context) -> {
			Guarded guarded = context.getBean(Guarded.class);
			LockTemplate locks = context.getBean(LockTemplate.class);
			LockRepository repository = context.getBean(LockRepository.class);
			long[] tokens = guarded.transfer("a", "b");
			assertThat(tokens[0]).isPositive();
			assertThat(tokens[1]).isPositive().isNotEqualTo(tokens[0]);
			try (LockHandle held = locks.exclusive("account:b").acquire()) {
				assertThatExceptionOfType(LockNotAcquiredException.class).isThrownBy(() -> guarded.transfer("a", "b"))
					.satisfies((ex) -> {
						assertThat(ex.getKey()).isEqualTo("account:b");
						assertThat(ex.getName()).isEqualTo("account:#from,account:#to");
					});
				assertThat(repository.inspect("account:a")).isEmpty();
			}
			AtomicInteger inside = new AtomicInteger();
			AtomicInteger overlaps = new AtomicInteger();
			List<Future<?>> callers = new ArrayList<>();
			for (String[] accounts : new String[][] { { "a", "b" }, { "b", "a" }, { "a", "b" }, { "b", "a" } }) {
				callers.add(this.executor.submit(() -> {
					for (int i = 0; i < 500; i++) {
						guarded.transferWaiting(accounts[0], accounts[1], () -> {
							if (inside.incrementAndGet() > 1) {
								overlaps.incrementAndGet();
							}
							inside.decrementAndGet();
						});
					}
					return null;
				}));
			}
			for (Future<?> caller : callers) {
				caller.get(20, TimeUnit.SECONDS);
			}
			assertThat(overlaps).hasValue(0);
			assertThat(repository.list()).isEmpty();
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class ServicesConfiguration {

		@Bean
		State state() {
			return new State();
		}

		@Bean
		Guarded guarded(State state, LockRepository repository) {
			return new Guarded(state, repository);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class DescribedConfiguration {

		@Bean
		Described described() {
			return new Described();
		}

	}

	static class Described {

		@Exclusive(value = "import:#day", description = "nightly import #day (#{#parts.size()} parts)")
		public void importDay(String day, List<String> parts, Runnable work) {
			work.run();
		}

		@Semaphore(value = "reports", permits = 2, description = "report #month")
		public void report(String month, Runnable work) {
			work.run();
		}

		@Shared(value = "rates", description = "#{#note}")
		public void read(String note, Runnable work) {
			work.run();
		}

	}

	/**
	 * What the guarded methods saw: a plain bean, since fields of a proxied bean are not
	 * visible through its proxy.
	 */
	static class State {

		final CountDownLatch entered = new CountDownLatch(1);

		final CountDownLatch gate = new CountDownLatch(1);

		final AtomicInteger skipped = new AtomicInteger();

		final AtomicInteger namedCalls = new AtomicInteger();

		volatile CountDownLatch permitsGate = new CountDownLatch(0);

		volatile CountDownLatch permitsEntered = new CountDownLatch(0);

		volatile CountDownLatch readersGate = new CountDownLatch(0);

		volatile CountDownLatch readersEntered = new CountDownLatch(0);

	}

	static class Guarded {

		private final State state;

		private final LockRepository repository;

		@Autowired
		@Lazy
		Guarded self;

		Guarded(State state, LockRepository repository) {
			this.state = state;
			this.repository = repository;
		}

		@Exclusive("order:#id")
		public String pay(long id, CountDownLatch gate) throws InterruptedException {
			if (gate != null) {
				this.state.entered.countDown();
				gate.await(10, TimeUnit.SECONDS);
			}
			return "paid " + id;
		}

		@Exclusive(value = "order:#id", waitTimeString = "5s")
		public String payWaiting(long id) {
			return "paid after waiting " + id;
		}

		@Exclusive(value = "order:#p0", onContention = ContentionPolicy.SKIP)
		public void skipVoid(long id) {
			this.state.skipped.incrementAndGet();
		}

		@Exclusive(value = "order:#id", onContention = ContentionPolicy.SKIP)
		public Optional<String> skipOptional(long id) {
			this.state.skipped.incrementAndGet();
			return Optional.of("ran");
		}

		@Semaphore(value = "reports", permitsString = "${guarded.permits}")
		public String report(String month) throws InterruptedException {
			this.state.permitsEntered.countDown();
			this.state.permitsGate.await(10, TimeUnit.SECONDS);
			return "report " + month;
		}

		@Shared("doc:#id")
		public String read(long id) throws InterruptedException {
			this.state.readersEntered.countDown();
			this.state.readersGate.await(10, TimeUnit.SECONDS);
			return "doc " + id;
		}

		@Exclusive(value = "doc:#id", waitTime = 0)
		public String write(long id, String text) throws InterruptedException {
			// A writer may read: the shared call re-enters the exclusive lease.
			return "wrote " + id + ", read inside: " + this.self.read(id);
		}

		@Semaphore(value = "limited", permits = 1)
		public String limited() {
			return "ran";
		}

		@Exclusive("nested:#id")
		public String outer(long id) {
			return "outer:" + this.self.inner(id);
		}

		@Exclusive("nested:#id")
		public String inner(long id) {
			return "inner";
		}

		@Exclusive({ "account:#from", "account:#to" })
		public long[] transfer(String from, String to) {
			return new long[] { LockContext.fencingToken("account:" + from),
					LockContext.fencingToken("account:" + to) };
		}

		@Exclusive(key = { "account:#from", "account:#to" }, waitTime = 10_000)
		public void transferWaiting(String from, String to, Runnable work) {
			work.run();
		}

		@Exclusive("fenced:#id")
		public long fencingToken(long id) {
			assertThat(LockContext.lease().key()).isEqualTo("fenced:" + id);
			return LockContext.fencingToken();
		}

		@Exclusive("user:#name")
		public void named(String name) {
			this.state.namedCalls.incrementAndGet();
		}

		@Exclusive("failing")
		public void failing() throws java.io.IOException {
			throw new java.io.IOException("disk full");
		}

		@Exclusive({ "account:#to", "account:#from" })
		public CompletableFuture<Long> asyncTransfer(String from, String to, CompletableFuture<Long> result) {
			// Bound while the method assembles its result.
			assertThat(LockContext.fencingToken("account:" + from)).isPositive();
			assertThat(LockContext.fencingToken("account:" + to)).isPositive();
			return result;
		}

		@Exclusive("async")
		public CompletableFuture<String> async(CompletableFuture<String> result) {
			return result;
		}

		@Exclusive("mono:#id")
		public Mono<String> mono(String id) {
			return Mono.fromSupplier(() -> "mono " + id + " held " + this.repository.inspect("mono:" + id).isPresent());
		}

		@Exclusive(value = "flux", onContention = ContentionPolicy.SKIP)
		public Flux<Long> flux() {
			return Flux.interval(Duration.ofMillis(10)).map((tick) -> tick + 1);
		}

	}

}
