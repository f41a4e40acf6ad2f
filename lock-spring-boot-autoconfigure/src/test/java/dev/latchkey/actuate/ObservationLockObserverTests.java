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

package dev.latchkey.actuate;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.test.simple.SimpleSpan;
import io.micrometer.tracing.test.simple.SimpleTracer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.memory.MemoryLockRepository;

import static io.micrometer.observation.tck.TestObservationRegistryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link ObservationLockObserver}: given a template observed through an
 * observation registry, when locks are acquired, contended, failed, released and lost,
 * then the observations say so with the lock's name, never its key; given a meter
 * handler, then they are the {@code latchkey.acquire} and {@code latchkey.hold} timers;
 * and given a tracer, then they are spans of the current observation.
 */
class ObservationLockObserverTests {

	private final TestObservationRegistry observations = TestObservationRegistry.create();

	private final MemoryLockRepository repository = new MemoryLockRepository();

	private final LockTemplate template = new LockTemplate(this.repository, LockSettings.defaults(),
			new ObservationLockObserver(this.observations));

	@AfterEach
	void close() {
		this.template.close();
	}

	@Test
	void acquireAndHoldAreObservedWithTheNameBackendAndOutcome() {
		long fencingToken = this.template.exclusive("order:42").named("order:#id").call(() -> {
			assertThat(this.observations).hasObservationWithNameEqualTo("latchkey.hold")
				.that()
				.hasBeenStarted()
				.isNotStopped()
				.doesNotHaveLowCardinalityKeyValueWithKey("outcome");
			return 7L;
		});
		assertThat(fencingToken).isEqualTo(7);
		assertThat(this.observations).hasNumberOfObservationsEqualTo(2)
			.hasObservationWithNameEqualTo("latchkey.acquire")
			.that()
			.hasContextualNameEqualTo("acquire order:#id")
			.hasLowCardinalityKeyValue("name", "order:#id")
			.hasLowCardinalityKeyValue("backend", "memory")
			.hasLowCardinalityKeyValue("outcome", "acquired")
			.doesNotHaveError()
			.hasBeenStopped();
		assertThat(this.observations).hasObservationWithNameEqualTo("latchkey.hold")
			.that()
			.hasContextualNameEqualTo("hold order:#id")
			.hasLowCardinalityKeyValue("name", "order:#id")
			.hasLowCardinalityKeyValue("backend", "memory")
			.hasLowCardinalityKeyValue("outcome", "released")
			.hasHighCardinalityKeyValueWithKey("latchkey.fencing.token")
			.hasBeenStopped();
		assertThat(this.observations).hasHandledContextsThatSatisfy(
				(contexts) -> contexts.forEach((context) -> assertThat(context.getAllKeyValues())
					.noneMatch((keyValue) -> keyValue.getValue().contains("order:42"))));
	}

	@Test
	void contentionIsObservedAsContended() throws Exception {
		try (LockHandle held = this.template.exclusive("report:7").named("report").acquire()) {
			boolean ran = CompletableFuture.supplyAsync(() -> this.template.exclusive("report:7")
				.named("report")
				.waitTime(Duration.ofMillis(20))
				.tryRun(() -> {
				})).get();
			assertThat(ran).isFalse();
		}
		assertThat(this.observations).hasNumberOfObservationsWithNameEqualTo("latchkey.acquire", 2)
			.hasAnObservation((observation) -> observation.hasNameEqualTo("latchkey.acquire")
				.hasLowCardinalityKeyValue("outcome", "contended")
				.doesNotHaveError());
	}

	@Test
	void aFailingBackendIsObservedAsFailedWithTheError() {
		LockTemplate broken = new LockTemplate(new BrokenLockRepository(), LockSettings.defaults(),
				new ObservationLockObserver(this.observations));
		try {
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> broken.exclusive("order:42").named("order").acquire());
		}
		finally {
			broken.close();
		}
		assertThat(this.observations).hasSingleObservationThat()
			.hasNameEqualTo("latchkey.acquire")
			.hasLowCardinalityKeyValue("outcome", "failed")
			.hasLowCardinalityKeyValue("backend", "broken")
			.hasError();
	}

	@Test
	void aForceReleasedLeaseEndsItsHoldAsLost() {
		LockTemplate renewing = new LockTemplate(this.repository,
				LockSettings.defaults().withTtl(Duration.ofSeconds(3)).withRenewInterval(Duration.ofMillis(50)),
				new ObservationLockObserver(this.observations));
		try (LockHandle handle = renewing.exclusive("job").acquire()) {
			this.repository.forceRelease("job");
			org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !handle.lease().isValid());
		}
		finally {
			renewing.close();
		}
		assertThat(this.observations).hasObservationWithNameEqualTo("latchkey.hold")
			.that()
			.hasLowCardinalityKeyValue("outcome", "lost")
			.hasError()
			.hasBeenStopped();
	}

	@Test
	void withATracerAcquireAndHoldAreSpansOfTheCurrentObservation() {
		SimpleTracer tracer = new SimpleTracer();
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig().observationHandler(new DefaultTracingObservationHandler(tracer));
		LockTemplate traced = new LockTemplate(this.repository, LockSettings.defaults(),
				new ObservationLockObserver(registry));
		Observation request = Observation.start("http.server.requests", registry);
		try (Observation.Scope scope = request.openScope()) {
			traced.exclusive("order:42").named("order:#id").run(() -> {
			});
		}
		finally {
			request.stop();
			traced.close();
		}
		assertThat(tracer.getSpans()).extracting(SimpleSpan::getName)
			.containsExactlyInAnyOrder("acquire order:#id", "hold order:#id", "http.server.requests");
		SimpleSpan parent = tracer.getSpans()
			.stream()
			.filter((span) -> span.getName().equals("http.server.requests"))
			.findFirst()
			.orElseThrow();
		assertThat(tracer.getSpans()).filteredOn((span) -> span != parent).allSatisfy((span) -> {
			assertThat(span.getTraceId()).isEqualTo(parent.getTraceId());
			assertThat(span.getParentId()).isEqualTo(parent.getSpanId());
			assertThat(span.getTags()).containsEntry("name", "order:#id").containsEntry("backend", "memory");
			assertThat(span.getTags().values()).noneMatch((value) -> value.contains("order:42"));
		});
		assertThat(tracer.getSpans()).filteredOn((span) -> span.getName().equals("hold order:#id"))
			.singleElement()
			.satisfies((span) -> assertThat(span.getTags()).containsEntry("outcome", "released")
				.containsKey("latchkey.fencing.token"));
	}

	@Test
	void withATracerWhatSynchronousGuardedWorkObservesNestsUnderTheHold() {
		SimpleTracer tracer = new SimpleTracer();
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig().observationHandler(new DefaultTracingObservationHandler(tracer));
		LockTemplate traced = new LockTemplate(this.repository, LockSettings.defaults(),
				new ObservationLockObserver(registry));
		Observation request = Observation.start("http.server.requests", registry);
		try (Observation.Scope scope = request.openScope()) {
			traced.exclusive("order:42")
				.named("order:#id")
				.run(() -> Observation.createNotStarted("payment", registry).observe(() -> {
				}));
			// The hold's scope ended with the work: what comes after is the request's
			// again.
			Observation.createNotStarted("after", registry).observe(() -> {
			});
		}
		finally {
			request.stop();
			traced.close();
		}
		SimpleSpan hold = span(tracer, "hold order:#id");
		assertThat(span(tracer, "payment").getParentId()).isEqualTo(hold.getSpanId());
		assertThat(span(tracer, "after").getParentId()).isEqualTo(span(tracer, "http.server.requests").getSpanId());
		assertThat(hold.getParentId()).isEqualTo(span(tracer, "http.server.requests").getSpanId());
	}

	private static SimpleSpan span(SimpleTracer tracer, String name) {
		return tracer.getSpans().stream().filter((span) -> span.getName().equals(name)).findFirst().orElseThrow();
	}

	@Test
	void nothingIsCreatedWhenTheRegistryIsANoop() {
		LeaseSpec spec = LeaseSpec.exclusive("order:42", "me", "token", Duration.ofSeconds(30));
		assertThat(new ObservationLockObserver(ObservationRegistry.NOOP).acquiring("order", spec, "memory")).isNull();
		assertThat(new ObservationLockObserver(ObservationRegistry.create()).acquiring("order", spec, "memory"))
			.isNull();
	}

	@Test
	void withAMeterHandlerTheObservationsAreTheAcquireAndHoldTimers() {
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
		LockTemplate metered = new LockTemplate(this.repository, LockSettings.defaults(),
				new ObservationLockObserver(registry));
		try {
			metered.exclusive("order:42").named("order").run(() -> {
				LongTaskTimer active = meters.get("latchkey.hold.active")
					.tags("name", "order", "backend", "memory")
					.longTaskTimer();
				assertThat(active.activeTasks()).isEqualTo(1);
			});
		}
		finally {
			metered.close();
		}
		assertThat(meters.get("latchkey.acquire")
			.tags("name", "order", "backend", "memory", "outcome", "acquired", "error", "none")
			.timer()
			.count()).isEqualTo(1);
		assertThat(meters.get("latchkey.hold")
			.tags("name", "order", "backend", "memory", "outcome", "released", "error", "none")
			.timer()
			.count()).isEqualTo(1);
		for (Meter meter : meters.getMeters()) {
			assertThat(meter.getId().getTags()).extracting(Tag::getValue).doesNotContain("order:42");
		}
	}

}
