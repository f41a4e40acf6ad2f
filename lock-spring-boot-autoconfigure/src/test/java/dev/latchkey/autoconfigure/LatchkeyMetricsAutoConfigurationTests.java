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

package dev.latchkey.autoconfigure;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.micrometer.common.KeyValues;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockHandle;
import dev.latchkey.LockObserver;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.DefaultLockAcquireObservationConvention;
import dev.latchkey.actuate.LockAcquireContext;
import dev.latchkey.actuate.LockAcquireObservationConvention;
import dev.latchkey.actuate.LockMetrics;
import dev.latchkey.actuate.ObservationLockObserver;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LatchkeyMetricsAutoConfiguration} and
 * {@link LatchkeyObservationAutoConfiguration}: given a meter registry (alone, or with
 * Spring Boot's observation and metrics auto-configurations), when locks are taken, then
 * the meters show it, tagged with the lock's name and never its key.
 */
class LatchkeyMetricsAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class,
				LatchkeyMetricsAutoConfiguration.class, LatchkeyObservationAutoConfiguration.class))
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
			assertThat(registry.get("latchkey.hold")
				.tags("name", "order", "backend", "memory", "outcome", "released")
				.timer()
				.count()).isEqualTo(1);
			for (Meter meter : registry.getMeters()) {
				assertThat(meter.getId().getTags()).extracting(Tag::getValue).doesNotContain("order:42");
			}
		});
	}

	@Test
	void lostAndRenewalCountersAreRegisteredAtZeroBeforeTheFirstEvent() {
		this.contextRunner.withUserConfiguration(MeterRegistryConfiguration.class).run((context) -> {
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			assertThat(registry.get("latchkey.lost")
				.tags("name", "none", "backend", "memory", "reason", "none")
				.counter()
				.count()).isZero();
			assertThat(registry.get("latchkey.renewals").tags("name", "none", "backend", "memory").counter().count())
				.isZero();
			assertThat(registry.get("latchkey.leases.held").gauge().value()).isZero();
		});
	}

	@Test
	void recordsContention() {
		this.contextRunner.withUserConfiguration(MeterRegistryConfiguration.class).run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			try (LockHandle held = locks.exclusive("report:7").named("report").acquire()) {
				boolean ran = CompletableFuture.supplyAsync(
						() -> locks.exclusive("report:7").named("report").waitTime(Duration.ofMillis(20)).tryRun(() -> {
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
			.doesNotHaveBean(LockMetrics.class)
			.doesNotHaveBean(LockObserver.class));
	}

	@Test
	void withSpringBootsObservationAndMetricsTheTimersComeFromTheApplicationsObservationRegistry() {
		this.contextRunner
			.withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class, MetricsAutoConfiguration.class,
					CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
			.run((context) -> {
				assertThat(context).hasSingleBean(ObservationRegistry.class)
					.hasSingleBean(ObservationLockObserver.class);
				LockTemplate locks = context.getBean(LockTemplate.class);
				MeterRegistry registry = context.getBean(MeterRegistry.class);
				try (LockHandle held = locks.semaphore("reports", 1).named("reports").acquire()) {
					assertThat(
							registry.get("latchkey.hold.active").tags("name", "reports").longTaskTimer().activeTasks())
						.isEqualTo(1);
					assertThat(locks.semaphore("reports", 1).named("reports").tryRun(() -> {
					})).isFalse();
				}
				assertThat(registry.get("latchkey.acquire")
					.tags("name", "reports", "backend", "memory", "outcome", "acquired", "error", "none")
					.timer()
					.count()).isEqualTo(1);
				assertThat(registry.get("latchkey.acquire")
					.tags("name", "reports", "outcome", "contended")
					.timer()
					.count()).isEqualTo(1);
				assertThat(registry.get("latchkey.hold")
					.tags("name", "reports", "backend", "memory", "outcome", "released", "error", "none")
					.timer()
					.count()).isEqualTo(1);
				assertThat(registry.get("latchkey.leases.held").gauge().value()).isZero();
			});
	}

	@Test
	void usersObservationConventionsAreUsed() {
		this.contextRunner
			.withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class, MetricsAutoConfiguration.class,
					CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
			.withBean(LockAcquireObservationConvention.class, () -> new DefaultLockAcquireObservationConvention() {
				@Override
				public KeyValues getLowCardinalityKeyValues(LockAcquireContext context) {
					return super.getLowCardinalityKeyValues(context).and("mode", context.getMode().name());
				}
			})
			.run((context) -> {
				context.getBean(LockTemplate.class).exclusive("order:1").named("order").run(() -> {
				});
				assertThat(context.getBean(MeterRegistry.class)
					.get("latchkey.acquire")
					.tags("name", "order", "mode", "EXCLUSIVE")
					.timer()
					.count()).isEqualTo(1);
			});
	}

	@Test
	void usersLockObserverWins() {
		LockObserver observer = (name, spec, backend) -> null;
		this.contextRunner.withUserConfiguration(MeterRegistryConfiguration.class)
			.withBean(LockObserver.class, () -> observer)
			.run((context) -> {
				assertThat(context).hasSingleBean(LockObserver.class).doesNotHaveBean(ObservationLockObserver.class);
				context.getBean(LockTemplate.class).exclusive("order:1").run(() -> {
				});
				assertThat(context.getBean(MeterRegistry.class).find("latchkey.acquire").timer()).isNull();
			});
	}

	@Test
	void observesWithAnObservationRegistryEvenWithoutMicrometersMeters() {
		this.contextRunner.withBean(ObservationRegistry.class, ObservationRegistry::create)
			.withClassLoader(new FilteredClassLoader("io.micrometer.core"))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(ObservationLockObserver.class)
				.doesNotHaveBean(LockMetrics.class));
	}

	@Test
	void backsOffWithoutMicrometerObservation() {
		this.contextRunner.withUserConfiguration(MeterRegistryConfiguration.class)
			.withClassLoader(new FilteredClassLoader("io.micrometer.observation"))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(LockTemplate.class)
				.doesNotHaveBean(LockObserver.class));
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
