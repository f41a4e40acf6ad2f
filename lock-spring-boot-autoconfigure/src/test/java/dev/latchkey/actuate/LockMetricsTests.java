package dev.latchkey.actuate;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.latchkey.LockBackendException;
import dev.latchkey.LockLostException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.event.LockAcquireFailedEvent;
import dev.latchkey.event.LockEvent;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.event.LockRenewedEvent;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link LockMetrics}: the events that are hard to provoke through a backend (renewals, losses).
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
		this.metrics.onApplicationEvent(new LockLostEvent(this, "order:42", "order:#id", "memory", "me", 7,
				Duration.ZERO, Duration.ofSeconds(3),
				new LockLostException("order:42", LossReason.RENEWAL_FAILED, null)));
		this.metrics.onApplicationEvent(new LockLostEvent(this, "order:43", "order:#id", "memory", "me", 8,
				Duration.ZERO, Duration.ofSeconds(3), new LockLostException("order:43", LossReason.NOT_OWNER, null)));
		assertThat(this.registry.get("latchkey.lost")
			.tags("name", "order:#id", "backend", "memory", "reason", "renewal_failed")
			.counter()
			.count()).isEqualTo(1);
		assertThat(this.registry.get("latchkey.lost").tag("reason", "not_owner").counter().count()).isEqualTo(1);
	}

	@Test
	void recordsFailedAcquisitionsWhenTheBackendFails() {
		List<Object> events = new CopyOnWriteArrayList<>();
		LockTemplate broken = new LockTemplate(new BrokenLockRepository(), LockSettings.defaults(), events::add);
		try {
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> broken.exclusive("order:42").named("order").acquire());
		}
		finally {
			broken.close();
		}
		assertThat(events).singleElement().isInstanceOf(LockAcquireFailedEvent.class);
		events.forEach((event) -> this.metrics.onApplicationEvent((LockEvent) event));
		assertThat(this.registry.get("latchkey.acquire").tags("name", "order", "outcome", "failed").timer().count())
			.isEqualTo(1);
	}

	@Test
	void countsRenewals() {
		for (int i = 0; i < 3; i++) {
			this.metrics.onApplicationEvent(new LockRenewedEvent(this, "order:42", "order:#id", "memory", "me", 7,
					Duration.ZERO, Duration.ofSeconds(i)));
		}
		assertThat(this.registry.get("latchkey.renewals").tags("name", "order:#id", "backend", "memory").counter().count())
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
