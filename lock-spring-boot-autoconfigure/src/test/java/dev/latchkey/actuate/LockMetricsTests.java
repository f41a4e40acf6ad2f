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

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.latchkey.LockLostException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.event.LockRenewedEvent;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LockMetrics}: the events that are hard to provoke through a backend
 * (renewals, losses).
 */
class LockMetricsTests {

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	private final LockTemplate template = new LockTemplate(new MemoryLockRepository(), LockSettings.defaults(), null);

	private final LockMetrics metrics = new LockMetrics(this.registry, this.template);

	@AfterEach
	void close() {
		this.template.close();
	}

	@Test
	void countsLostLeasesByReason() {
		this.metrics
			.onApplicationEvent(new LockLostEvent(this, "order:42", "order:#id", "memory", "me", 7, Duration.ZERO,
					Duration.ofSeconds(3), new LockLostException("order:42", LossReason.RENEWAL_FAILED, null)));
		this.metrics.onApplicationEvent(new LockLostEvent(this, "order:43", "order:#id", "memory", "me", 8,
				Duration.ZERO, Duration.ofSeconds(3), new LockLostException("order:43", LossReason.NOT_OWNER, null)));
		assertThat(this.registry.get("latchkey.lost")
			.tags("name", "order:#id", "backend", "memory", "reason", "renewal_failed")
			.counter()
			.count()).isEqualTo(1);
		assertThat(this.registry.get("latchkey.lost").tag("reason", "not_owner").counter().count()).isEqualTo(1);
	}

	@Test
	void countsRenewals() {
		for (int i = 0; i < 3; i++) {
			this.metrics.onApplicationEvent(new LockRenewedEvent(this, "order:42", "order:#id", "memory", "me", 7,
					Duration.ZERO, Duration.ofSeconds(i)));
		}
		assertThat(
				this.registry.get("latchkey.renewals").tags("name", "order:#id", "backend", "memory").counter().count())
			.isEqualTo(3);
	}

	@Test
	void gaugesHeldLeases() {
		assertThat(this.registry.get("latchkey.leases.held").tag("backend", "memory").gauge().value()).isZero();
		try (var handle = this.template.exclusive("job").acquire()) {
			assertThat(this.registry.get("latchkey.leases.held").gauge().value()).isEqualTo(1);
		}
	}

}
