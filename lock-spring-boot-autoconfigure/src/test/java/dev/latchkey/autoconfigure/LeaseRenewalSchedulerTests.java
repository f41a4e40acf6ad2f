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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration;
import org.springframework.boot.task.ThreadPoolTaskSchedulerCustomizer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.TaskScheduler;

import dev.latchkey.Lease;
import dev.latchkey.LockHandle;
import dev.latchkey.LockLostException;
import dev.latchkey.LockObserver;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.event.LockAcquiredEvent;
import dev.latchkey.event.LockEvent;
import dev.latchkey.event.LockReleasedEvent;
import dev.latchkey.event.LockRenewedEvent;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the auto-configured template's observer and renewal scheduler
 * ({@link LeaseRenewalScheduler}).
 */
class LeaseRenewalSchedulerTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(LatchkeyAutoConfiguration.class, TaskSchedulingAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory", "latchkey.ttl=2s", "latchkey.renew-interval=100ms");

	@Test
	void leasesAreRenewedOnTheirOwnThreadsBuiltWithSpringBootsBuilder() {
		this.contextRunner.withUserConfiguration(RecordingConfiguration.class).run((context) -> {
			assertThat(context).hasSingleBean(LeaseRenewalScheduler.class);
			assertThat(context.getBeansOfType(TaskScheduler.class))
				.as("not a TaskScheduler bean, so the application's scheduler is still made")
				.isEmpty();
			RecordingConfiguration recording = context.getBean(RecordingConfiguration.class);
			try (LockHandle handle = context.getBean(LockTemplate.class).exclusive("report").acquire()) {
				Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !recording.renewalThreads.isEmpty());
			}
			assertThat(recording.renewalThreads).allMatch((name) -> name.startsWith("latchkey-lease-keeper-"));
			assertThat(recording.customized).as("the application's scheduler customizers apply").isTrue();
		});
	}

	@Test
	void theApplicationsObserverIsToldBeforeTheEventsArePublished() {
		this.contextRunner.withUserConfiguration(RecordingConfiguration.class).run((context) -> {
			RecordingConfiguration recording = context.getBean(RecordingConfiguration.class);
			try (LockHandle handle = context.getBean(LockTemplate.class).exclusive("report").acquire()) {
				Awaitility.await()
					.atMost(Duration.ofSeconds(5))
					.until(() -> recording.told.contains("event LockRenewedEvent"));
			}
			List<String> told = List.copyOf(recording.told);
			assertThat(told).containsSubsequence("observer acquired", "event LockAcquiredEvent", "observer renewed",
					"event LockRenewedEvent", "observer released", "event LockReleasedEvent");
		});
	}

	@Test
	void backsOffWithTheApplicationsTemplate() {
		this.contextRunner
			.withBean(LockTemplate.class, () -> new LockTemplate(new MemoryLockRepository(), LockSettings.defaults()))
			.run((context) -> assertThat(context).hasSingleBean(LockTemplate.class)
				.doesNotHaveBean(LeaseRenewalScheduler.class));
	}

	@Configuration(proxyBeanMethods = false)
	static class RecordingConfiguration {

		final List<String> renewalThreads = new CopyOnWriteArrayList<>();

		final List<String> told = new CopyOnWriteArrayList<>();

		volatile boolean customized;

		@Bean
		ThreadPoolTaskSchedulerCustomizer recordingCustomizer() {
			return (scheduler) -> this.customized = true;
		}

		@Bean
		LockObserver recordingObserver() {
			return (name, spec, backend) -> new LockObserver.Acquisition() {

				@Override
				public LockObserver.Hold acquired(Lease lease) {
					RecordingConfiguration.this.told.add("observer acquired");
					return new LockObserver.Hold() {

						@Override
						public void renewed() {
							RecordingConfiguration.this.renewalThreads.add(Thread.currentThread().getName());
							RecordingConfiguration.this.told.add("observer renewed");
						}

						@Override
						public void released(@Nullable Throwable failure) {
							RecordingConfiguration.this.told.add("observer released");
						}

						@Override
						public void lost(LockLostException exception) {
							RecordingConfiguration.this.told.add("observer lost");
						}

					};
				}

				@Override
				public void notAcquired() {
				}

				@Override
				public void failed(Throwable failure) {
				}

			};
		}

		@Bean
		ApplicationListener<LockEvent> recordingListener() {
			return (event) -> {
				if (event instanceof LockAcquiredEvent || event instanceof LockRenewedEvent
						|| event instanceof LockReleasedEvent) {
					this.told.add("event " + event.getClass().getSimpleName());
				}
			};
		}

	}

}
