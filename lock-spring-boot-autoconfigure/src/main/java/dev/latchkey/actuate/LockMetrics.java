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

import java.util.Locale;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.context.ApplicationListener;
import org.springframework.util.Assert;

import dev.latchkey.LockTemplate;
import dev.latchkey.event.LockEvent;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.event.LockRenewedEvent;

/**
 * Records Latchkey's {@link LockEvent}s as Micrometer meters:
 * <ul>
 * <li>{@code latchkey.lost} (counter): lost leases, tagged {@code name}, {@code backend}
 * and {@code reason} ({@code not_owner}, {@code renewal_failed} or
 * {@code expired_before_release});</li>
 * <li>{@code latchkey.renewals} (counter): successful lease renewals, tagged {@code name}
 * and {@code backend};</li>
 * <li>{@code latchkey.leases.held} (gauge): the leases the template holds now, tagged
 * {@code backend}.</li>
 * </ul>
 * Both counters are registered at zero when this is made, tagged {@code name=none} (and
 * {@code reason=none}), so that they are listed before the first loss or renewal. The
 * {@code name} tag is the lock's name (an annotation's key template, or the name given to
 * {@link dev.latchkey.LockOperation#named(String)}), never the evaluated key, so the
 * number of meters stays bounded. The timers {@code latchkey.acquire} and
 * {@code latchkey.hold} are not made here: they come from the observations of
 * {@link ObservationLockObserver}, which measure the time themselves and are spans too.
 * Spring Boot registers one when Micrometer and a {@link MeterRegistry} are present; by
 * hand:
 *
 * <pre class="code">
 * &#64;Bean
 * LockMetrics lockMetrics(MeterRegistry registry, LockTemplate locks) {
 *     return new LockMetrics(registry, locks);
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockMetrics implements ApplicationListener<LockEvent> {

	/**
	 * The name of the timer of waits for a lock, made by the {@code latchkey.acquire}
	 * observation.
	 */
	public static final String ACQUIRE = "latchkey.acquire";

	/**
	 * The name of the timer of hold times, made by the {@code latchkey.hold} observation.
	 */
	public static final String HOLD = "latchkey.hold";

	/**
	 * The name of the counter of lost leases.
	 */
	public static final String LOST = "latchkey.lost";

	/**
	 * The name of the counter of renewals.
	 */
	public static final String RENEWALS = "latchkey.renewals";

	/**
	 * The name of the gauge of held leases.
	 */
	public static final String LEASES_HELD = "latchkey.leases.held";

	private static final String NONE = "none";

	private final MeterRegistry registry;

	/**
	 * Creates the meters of a template and records its events from now on.
	 * @param registry where to register the meters
	 * @param template the template whose held leases the gauge reports
	 */
	public LockMetrics(MeterRegistry registry, LockTemplate template) {
		Assert.notNull(registry, "MeterRegistry must not be null");
		Assert.notNull(template, "LockTemplate must not be null");
		this.registry = registry;
		String backend = template.repository().backend();
		Gauge.builder(LEASES_HELD, template, LockTemplate::heldLeaseCount)
			.description("Leases this instance holds and renews")
			.tag("backend", backend)
			.register(registry);
		// Registered at zero, so that both counters are listed (and alerts on them work)
		// before the first event; with the same tag keys as the counters of real locks,
		// since registries such as Prometheus require one set of keys per meter name.
		// "none" is the value that stands for no lock, as Micrometer's "error" tag does.
		lost(NONE, backend, NONE);
		renewals(NONE, backend);
	}

	private Counter lost(String name, String backend, String reason) {
		return Counter.builder(LOST)
			.description("Leases lost while held")
			.tag("name", name)
			.tag("backend", backend)
			.tag("reason", reason)
			.register(this.registry);
	}

	private Counter renewals(String name, String backend) {
		return Counter.builder(RENEWALS)
			.description("Successful lease renewals")
			.tag("name", name)
			.tag("backend", backend)
			.register(this.registry);
	}

	@Override
	public void onApplicationEvent(LockEvent event) {
		if (event instanceof LockLostEvent lost) {
			lost(event.getName(), event.getBackend(), lost.getReason().name().toLowerCase(Locale.ROOT)).increment();
		}
		else if (event instanceof LockRenewedEvent) {
			renewals(event.getName(), event.getBackend()).increment();
		}
	}

}
