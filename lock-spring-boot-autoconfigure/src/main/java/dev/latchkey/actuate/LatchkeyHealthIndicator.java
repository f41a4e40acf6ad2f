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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.util.Assert;

import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;

/**
 * Health of Latchkey, contributed as {@code latchkey}: {@code UP} when the backend
 * answers an inspection of a probe key within the timeout, {@code DOWN} with the failure
 * when it does not.
 * <p>
 * Details: {@code backend}, {@code heldLeases} (held by this instance now),
 * {@code lostLeases} (lost since start) and {@code renewalLag} (time since the last
 * renewal the backend answered, absent before the first renewal). A growing renewal lag
 * while leases are held means renewals are failing and leases are about to be lost.
 *
 * <pre class="code">
 * &#64;Bean
 * LatchkeyHealthIndicator latchkeyHealthIndicator(LockTemplate locks) {
 *     return new LatchkeyHealthIndicator(locks, Duration.ofSeconds(2));
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LatchkeyHealthIndicator extends AbstractHealthIndicator {

	/**
	 * The key the check inspects, after the configured key prefix. Nobody locks it;
	 * inspecting it only proves that the backend answers.
	 */
	public static final String PROBE_KEY = "latchkey-health-probe";

	private static final Executor probeThreads = (task) -> {
		// A fresh daemon thread per check: a backend that hangs keeps that thread, never
		// the caller.
		Thread thread = new Thread(task, "latchkey-health");
		thread.setDaemon(true);
		thread.start();
	};

	private final LockTemplate template;

	private final Duration timeout;

	/**
	 * Creates the indicator.
	 * @param template the template whose backend and leases to report
	 * @param timeout how long the backend may take to answer before it is reported
	 * {@code DOWN}
	 */
	public LatchkeyHealthIndicator(LockTemplate template, Duration timeout) {
		super("Latchkey health check failed");
		Assert.notNull(template, "LockTemplate must not be null");
		Assert.isTrue(timeout != null && !timeout.isNegative() && !timeout.isZero(), "Timeout must be positive");
		this.template = template;
		this.timeout = timeout;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) throws Exception {
		LockRepository repository = this.template.repository();
		builder.withDetail("backend", repository.backend())
			.withDetail("heldLeases", this.template.heldLeaseCount())
			.withDetail("lostLeases", this.template.lostLeaseCount());
		this.template.timeSinceLastRenewal().ifPresent((lag) -> builder.withDetail("renewalLag", lag.toString()));
		String probe = this.template.settings().keyPrefix() + PROBE_KEY;
		CompletableFuture<?> answer = CompletableFuture.supplyAsync(() -> repository.inspect(probe), probeThreads);
		try {
			answer.get(this.timeout.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (ExecutionException ex) {
			builder.down((ex.getCause() != null) ? ex.getCause() : ex);
			return;
		}
		catch (TimeoutException ex) {
			answer.cancel(true);
			builder.down()
				.withDetail("error", "The " + repository.backend() + " backend did not answer within " + this.timeout);
			return;
		}
		builder.up();
	}

}
