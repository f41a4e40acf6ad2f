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

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.BrokenLockRepository;
import dev.latchkey.actuate.LatchkeyHealthIndicator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link LatchkeyHealthContributorAutoConfiguration}: given a backend that
 * answers, then {@code latchkey} is UP with its details; given one that fails or hangs,
 * then it is DOWN.
 */
class LatchkeyHealthContributorAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class,
				LatchkeyHealthContributorAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory");

	@Test
	void upWithDetailsWhenTheBackendAnswers() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(LatchkeyHealthIndicator.class).hasBean("latchkeyHealthIndicator");
			LockTemplate locks = context.getBean(LockTemplate.class);
			Health health = locks.exclusive("job")
				.call(() -> context.getBean(LatchkeyHealthIndicator.class).health(true));
			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails()).containsEntry("backend", "memory")
				.containsEntry("heldLeases", 1)
				.containsEntry("lostLeases", 0L)
				.doesNotContainKey("renewalLag");
		});
	}

	@Test
	void reportsTheRenewalLagOnceLeasesWereRenewed() {
		this.contextRunner.withPropertyValues("latchkey.ttl=300ms", "latchkey.safety-margin=10ms").run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			Health health = locks.exclusive("job").call(() -> {
				await().atMost(Duration.ofSeconds(5)).until(() -> locks.timeSinceLastRenewal().isPresent());
				return context.getBean(LatchkeyHealthIndicator.class).health(true);
			});
			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails()).containsKey("renewalLag");
			assertThat(Duration.parse((String) health.getDetails().get("renewalLag")))
				.isLessThan(Duration.ofSeconds(5));
		});
	}

	@Test
	void downWithTheExceptionWhenTheBackendFails() {
		this.contextRunner.withBean(LockRepository.class, BrokenLockRepository::new).run((context) -> {
			Health health = context.getBean(LatchkeyHealthIndicator.class).health(true);
			assertThat(health.getStatus()).isEqualTo(Status.DOWN);
			assertThat(health.getDetails()).containsEntry("backend", "broken");
			assertThat((String) health.getDetails().get("error")).contains("Connection refused");
		});
	}

	@Test
	void downWhenTheBackendDoesNotAnswerInTime() {
		this.contextRunner.withPropertyValues("latchkey.health.timeout=100ms")
			.withBean(LockRepository.class, () -> new BrokenLockRepository(Duration.ofSeconds(5)))
			.run((context) -> {
				long start = System.nanoTime();
				Health health = context.getBean(LatchkeyHealthIndicator.class).health(true);
				assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
				assertThat(health.getStatus()).isEqualTo(Status.DOWN);
				assertThat((String) health.getDetails().get("error")).contains("did not answer within PT0.1S");
			});
	}

	@Test
	void canBeSwitchedOff() {
		this.contextRunner.withPropertyValues("management.health.latchkey.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(LatchkeyHealthIndicator.class));
	}

	@Test
	void backsOffWithoutSpringBootHealth() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(HealthIndicator.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(LockTemplate.class)
				.doesNotHaveBean(LatchkeyHealthIndicator.class));
	}

	@Test
	void usersIndicatorWins() {
		this.contextRunner.withUserConfiguration(CustomIndicatorConfiguration.class)
			.run((context) -> assertThat(context).hasSingleBean(LatchkeyHealthIndicator.class)
				.getBean(LatchkeyHealthIndicator.class)
				.isSameAs(context.getBean("latchkeyHealthIndicator")));
	}

	@Configuration(proxyBeanMethods = false)
	static class CustomIndicatorConfiguration {

		@Bean
		LatchkeyHealthIndicator latchkeyHealthIndicator(LockTemplate locks) {
			return new LatchkeyHealthIndicator(locks, Duration.ofSeconds(9));
		}

	}

}
