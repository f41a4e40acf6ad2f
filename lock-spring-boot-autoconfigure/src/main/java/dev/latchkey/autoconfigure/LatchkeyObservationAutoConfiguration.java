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

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.observation.ObservationRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

import dev.latchkey.LockObserver;
import dev.latchkey.actuate.LockAcquireObservationConvention;
import dev.latchkey.actuate.LockHoldObservationConvention;
import dev.latchkey.actuate.ObservationLockObserver;

/**
 * Auto-configuration of Latchkey's Micrometer observations
 * ({@link ObservationLockObserver}: {@code latchkey.acquire} and {@code latchkey.hold}),
 * which the auto-configured {@code LockTemplate} reports to:
 * <ul>
 * <li>with the application's {@link ObservationRegistry} (Spring Boot's Actuator makes
 * one, with a handler that turns observations into timers, and with a tracer into spans),
 * using the {@link LockAcquireObservationConvention} and
 * {@link LockHoldObservationConvention} beans where there are any;</li>
 * <li>without one, but with a {@link MeterRegistry}: with a registry of Latchkey's own
 * that only records the timers, so that the meters are the same either way.</li>
 * </ul>
 * A {@link LockObserver} bean of your own replaces it.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class, afterName = {
		"org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration",
		"org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
		"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
		"org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration" })
@ConditionalOnClass(ObservationRegistry.class)
@Import({ LatchkeyObservationAutoConfiguration.ApplicationObservationConfiguration.class,
		LatchkeyObservationAutoConfiguration.MeterOnlyObservationConfiguration.class })
public final class LatchkeyObservationAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnBean(ObservationRegistry.class)
	static class ApplicationObservationConfiguration {

		@Bean
		@ConditionalOnMissingBean(LockObserver.class)
		ObservationLockObserver lockObserver(ObservationRegistry observationRegistry,
				ObjectProvider<LockAcquireObservationConvention> acquireConvention,
				ObjectProvider<LockHoldObservationConvention> holdConvention) {
			return new ObservationLockObserver(observationRegistry, acquireConvention.getIfUnique(),
					holdConvention.getIfUnique());
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ MeterRegistry.class, DefaultMeterObservationHandler.class })
	@ConditionalOnBean(MeterRegistry.class)
	@ConditionalOnMissingBean(ObservationRegistry.class)
	static class MeterOnlyObservationConfiguration {

		@Bean
		@ConditionalOnMissingBean(LockObserver.class)
		ObservationLockObserver lockObserver(MeterRegistry meterRegistry,
				ObjectProvider<LockAcquireObservationConvention> acquireConvention,
				ObjectProvider<LockHoldObservationConvention> holdConvention) {
			ObservationRegistry timersOnly = ObservationRegistry.create();
			timersOnly.observationConfig().observationHandler(new DefaultMeterObservationHandler(meterRegistry));
			return new ObservationLockObserver(timersOnly, acquireConvention.getIfUnique(),
					holdConvention.getIfUnique());
		}

	}

}
