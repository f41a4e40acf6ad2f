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

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

import dev.latchkey.Lease;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockLostException;
import dev.latchkey.LockObserver;

/**
 * Observes acquisitions and holds as Micrometer {@link Observation}s:
 * {@code latchkey.acquire} and {@code latchkey.hold}
 * ({@link LockObservationDocumentation}). With Spring Boot's metrics they show in
 * {@code /actuator/metrics} as timers tagged {@code name}, {@code backend},
 * {@code outcome} and {@code error}; with a tracer they are spans, children of the
 * observation current on the calling thread (an HTTP request, say).
 * <p>
 * When the registry is a no-op (no handler registered), nothing is created per call.
 * Spring Boot makes one for the application's {@link ObservationRegistry}; by hand:
 *
 * <pre class="code">
 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults(),
 *         new ObservationLockObserver(observationRegistry));
 * </pre>
 *
 * @since 0.1.0
 */
public class ObservationLockObserver implements LockObserver {

	private static final LockAcquireObservationConvention DEFAULT_ACQUIRE = new DefaultLockAcquireObservationConvention();

	private static final LockHoldObservationConvention DEFAULT_HOLD = new DefaultLockHoldObservationConvention();

	private final ObservationRegistry registry;

	private final @Nullable LockAcquireObservationConvention acquireConvention;

	private final @Nullable LockHoldObservationConvention holdConvention;

	/**
	 * Creates an observer with the default conventions.
	 * @param registry where to report the observations
	 */
	public ObservationLockObserver(ObservationRegistry registry) {
		this(registry, null, null);
	}

	/**
	 * Creates an observer with conventions of your own.
	 * @param registry where to report the observations
	 * @param acquireConvention the convention of {@code latchkey.acquire}, or
	 * {@code null} for the default
	 * @param holdConvention the convention of {@code latchkey.hold}, or {@code null} for
	 * the default
	 */
	public ObservationLockObserver(ObservationRegistry registry,
			@Nullable LockAcquireObservationConvention acquireConvention,
			@Nullable LockHoldObservationConvention holdConvention) {
		Assert.notNull(registry, "ObservationRegistry must not be null");
		this.registry = registry;
		this.acquireConvention = acquireConvention;
		this.holdConvention = holdConvention;
	}

	@Override
	public @Nullable Acquisition acquiring(String name, LeaseSpec spec, String backend) {
		if (this.registry.isNoop()) {
			return null;
		}
		LockAcquireContext context = new LockAcquireContext(name, spec.key(), backend, spec.mode(), spec.permits());
		Observation observation = LockObservationDocumentation.ACQUIRE.start(this.acquireConvention, DEFAULT_ACQUIRE,
				() -> context, this.registry);
		return new ObservedAcquisition(observation, context);
	}

	private final class ObservedAcquisition implements Acquisition {

		private final Observation observation;

		private final LockAcquireContext context;

		ObservedAcquisition(Observation observation, LockAcquireContext context) {
			this.observation = observation;
			this.context = context;
		}

		@Override
		public @Nullable Hold acquired(Lease lease) {
			this.context.setOutcome("acquired");
			this.observation.stop();
			LockHoldContext hold = new LockHoldContext(lease.name(), lease.key(), this.context.getBackend(),
					lease.mode(), this.context.getPermits(), lease.fencingToken());
			ObservationRegistry registry = ObservationLockObserver.this.registry;
			return new ObservedHold(LockObservationDocumentation.HOLD.start(ObservationLockObserver.this.holdConvention,
					DEFAULT_HOLD, () -> hold, registry), hold);
		}

		@Override
		public void notAcquired() {
			this.context.setOutcome("contended");
			this.observation.stop();
		}

		@Override
		public void failed(Throwable failure) {
			this.context.setOutcome("failed");
			this.observation.error(failure);
			this.observation.stop();
		}

	}

	private static final class ObservedHold implements Hold {

		private final Observation observation;

		private final LockHoldContext context;

		ObservedHold(Observation observation, LockHoldContext context) {
			this.observation = observation;
			this.context = context;
		}

		@Override
		public void released(@Nullable Throwable failure) {
			this.context.setOutcome("released");
			if (failure != null) {
				this.observation.error(failure);
			}
			this.observation.stop();
		}

		@Override
		public void lost(LockLostException exception) {
			this.context.setOutcome("lost");
			this.observation.error(exception);
			this.observation.stop();
		}

		@Override
		public Scope openScope() {
			Observation.Scope scope = this.observation.openScope();
			return scope::close;
		}

	}

}
