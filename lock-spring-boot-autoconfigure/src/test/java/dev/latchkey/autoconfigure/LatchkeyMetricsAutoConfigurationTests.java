package dev.latchkey.autoconfigure;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockHandle;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.LockMetrics;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LatchkeyMetricsAutoConfiguration}: given a meter registry, when locks are taken, then the meters
 * show it, tagged with the lock's name and never its key.
 */
class LatchkeyMetricsAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyMetricsAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory");

	@Test
	void recordsAcquireAndHoldTaggedWithTheNameNotTheKey() {
		this.contextRunner.withUserConfiguration(MeterRegistryConfiguration.class).run((context) -> {
			assertThat(context).hasSingleBean(LockMetrics.class);
			LockTemplate locks = context.getBean(LockTemplate.class);
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			double heldInside = locks.exclusive("order:42")
				.named("order")
				.call(() -> registry.get("latchkey.leases.held").tag("backend", "memory").gauge().value());
			assertThat(heldInside).isEqualTo(1);
			assertThat(registry.get("latchkey.leases.held").gauge().value()).isZero();
			Timer acquire = registry.get("latchkey.acquire")
				.tags("name", "order", "backend", "memory", "outcome", "acquired")
				.timer();
			assertThat(acquire.count()).isEqualTo(1);
			assertThat(registry.get("latchkey.hold").tags("name", "order", "backend", "memory").timer().count())
				.isEqualTo(1);
			for (Meter meter : registry.getMeters()) {
				assertThat(meter.getId().getTags()).extracting(Tag::getValue).doesNotContain("order:42");
			}
		});
	}

	@Test
	void recordsContention() {
		this.contextRunner.withUserConfiguration(MeterRegistryConfiguration.class).run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			try (LockHandle held = locks.exclusive("report:7").named("report").acquire()) {
				boolean ran = CompletableFuture
					.supplyAsync(() -> locks.exclusive("report:7")
						.named("report")
						.waitTime(Duration.ofMillis(20))
						.tryRun(() -> {
						}))
					.get();
				assertThat(ran).isFalse();
			}
			assertThat(registry.get("latchkey.acquire").tags("name", "report", "outcome", "contended").timer().count())
				.isEqualTo(1);
			assertThat(registry.get("latchkey.acquire")
				.tags("name", "report", "outcome", "contended")
				.timer()
				.totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(20);
		});
	}

	@Test
	void backsOffWithoutAMeterRegistry() {
		this.contextRunner.run((context) -> assertThat(context).hasNotFailed()
			.hasSingleBean(LockTemplate.class)
			.doesNotHaveBean(LockMetrics.class));
	}

	@Test
	void backsOffWithoutMicrometer() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(MeterRegistry.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(LockTemplate.class)
				.doesNotHaveBean(LockMetrics.class));
	}

	@Test
	void usersLockMetricsWins() {
		this.contextRunner.withUserConfiguration(MeterRegistryConfiguration.class, CustomMetricsConfiguration.class)
			.run((context) -> assertThat(context).hasSingleBean(LockMetrics.class).hasBean("customLockMetrics"));
	}

	@Configuration(proxyBeanMethods = false)
	static class MeterRegistryConfiguration {

		@Bean
		SimpleMeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class CustomMetricsConfiguration {

		@Bean
		LockMetrics customLockMetrics(MeterRegistry registry, LockTemplate locks) {
			return new LockMetrics(registry, locks);
		}

	}

}
