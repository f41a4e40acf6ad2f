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

package dev.latchkey.benchmarks;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.aop.framework.Advised;
import org.springframework.aop.support.AopUtils;
import org.springframework.context.ConfigurableApplicationContext;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockOperation;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.ObservationLockObserver;

/**
 * What {@code @Exclusive} and {@code @Semaphore} cost per call when the lock is free, on
 * the memory backend, one thread: the time of a guarded call minus the time of the same
 * call unguarded ({@link #plainCall()}) is Latchkey's overhead. The goal is under 2 µs
 * for an uncontended {@code @Exclusive} call.
 *
 * <pre class="code">
 * java -jar benchmarks/target/benchmarks.jar AspectOverhead -f 1 -wi 3 -w 2s -i 5 -r 2s
 * </pre>
 * <p>
 * The last benchmarks break the cost down: the proxy alone, the template without the
 * annotation, the template without events, the template observed by Micrometer (timers of
 * the acquire and hold observations in a simple meter registry), and the backend alone.
 * The application above has no meter or observation registry, so its calls observe
 * nothing.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AspectOverheadBenchmark {

	private static final Runnable NOTHING = () -> {
	};

	private ConfigurableApplicationContext context;

	private Orders target;

	private Orders proxy;

	private LockTemplate locks;

	private LockOperation operation;

	private LockTemplate locksWithoutEvents;

	private LockTemplate observedLocks;

	private LockRepository repository;

	private LeaseSpec lease;

	private long nextId;

	@Setup
	public void start() throws Exception {
		this.context = BenchmarkApplication.start();
		this.proxy = this.context.getBean(Orders.class);
		if (!AopUtils.isAopProxy(this.proxy)) {
			throw new IllegalStateException("Orders should be proxied by LockAnnotationBeanPostProcessor");
		}
		this.target = (Orders) ((Advised) this.proxy).getTargetSource().getTarget();
		this.locks = this.context.getBean(LockTemplate.class);
		this.operation = this.locks.exclusive("order:42");
		this.repository = this.locks.repository();
		this.locksWithoutEvents = new LockTemplate(this.repository, this.locks.settings(), null);
		ObservationRegistry observations = ObservationRegistry.create();
		observations.observationConfig()
			.observationHandler(new DefaultMeterObservationHandler(new SimpleMeterRegistry()));
		this.observedLocks = new LockTemplate(this.repository, this.locks.settings(),
				new ObservationLockObserver(observations));
		this.lease = LeaseSpec.exclusive("order:42", this.locks.settings().owner(), "benchmark",
				Duration.ofSeconds(30));
	}

	@TearDown
	public void stop() {
		if (this.locks.heldLeaseCount() != 0 || !this.repository.list().isEmpty()) {
			throw new IllegalStateException("Leases left held: " + this.repository.list());
		}
		this.locksWithoutEvents.close();
		this.observedLocks.close();
		this.context.close();
	}

	/**
	 * (a) The baseline: the bean's method called on the bean itself, no proxy, no lock.
	 */
	@Benchmark
	public long plainCall() {
		return this.target.look(42);
	}

	/**
	 * (b) {@code @Exclusive("order:#id")} through the Spring proxy, the same key at every
	 * call.
	 */
	@Benchmark
	public long exclusiveSameKey() {
		return this.proxy.pay(42);
	}

	/**
	 * (b) {@code @Exclusive("order:#id")} through the Spring proxy, a new key at every
	 * call.
	 */
	@Benchmark
	public long exclusiveNewKeyEachCall() {
		return this.proxy.pay(++this.nextId);
	}

	/**
	 * (c) {@code LockTemplate.exclusive(key).run(...)}, the programmatic API.
	 */
	@Benchmark
	public void templateRun() {
		this.locks.exclusive("order:42").run(NOTHING);
	}

	/**
	 * (c) {@code LockTemplate.exclusive(key, moreKeys...).run(...)}: two keys, taken and
	 * released together; compare with {@link #templateRun()}.
	 */
	@Benchmark
	public void templateRunTwoKeys() {
		this.locks.exclusive("account:1", "account:2").run(NOTHING);
	}

	/**
	 * (b) {@code @Exclusive({ "account:#from", "account:#to" })} through the Spring
	 * proxy: two keys, taken and released together; compare with
	 * {@link #exclusiveSameKey()}.
	 */
	@Benchmark
	public long exclusiveTwoKeys() {
		return this.proxy.transfer(1, 2);
	}

	/**
	 * (d) {@code @Semaphore(value = "reports", permits = 4)} through the Spring proxy.
	 */
	@Benchmark
	public long semaphore() {
		return this.proxy.report(42);
	}

	/**
	 * Breakdown: an unannotated method called through the same proxy.
	 */
	@Benchmark
	public long breakdownProxyOnly() {
		return this.proxy.look(42);
	}

	/**
	 * Breakdown: the template with an operation built once and reused.
	 */
	@Benchmark
	public void breakdownTemplateReusedOperation() {
		this.operation.run(NOTHING);
	}

	/**
	 * Breakdown: the template with no event publisher.
	 */
	@Benchmark
	public void breakdownTemplateWithoutEvents() {
		this.locksWithoutEvents.exclusive("order:42").run(NOTHING);
	}

	/**
	 * Breakdown: the template with no event publisher, observed by Micrometer: compare
	 * with {@link #breakdownTemplateWithoutEvents()} for the cost of the
	 * {@code latchkey.acquire} and {@code latchkey.hold} observations and their timers.
	 */
	@Benchmark
	public void breakdownTemplateObserved() {
		this.observedLocks.exclusive("order:42").named("order").run(NOTHING);
	}

	/**
	 * Breakdown: the memory backend alone, one acquire and one release.
	 */
	@Benchmark
	public boolean breakdownBackendOnly() {
		this.repository.tryAcquire(this.lease);
		return this.repository.release(this.lease);
	}

}
