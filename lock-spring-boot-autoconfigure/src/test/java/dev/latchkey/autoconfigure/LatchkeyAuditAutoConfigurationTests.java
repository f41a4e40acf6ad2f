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

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.audit.AuditEvent;
import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.boot.actuate.audit.InMemoryAuditEventRepository;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockBackendException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.BrokenLockRepository;
import dev.latchkey.actuate.LockAuditListener;
import dev.latchkey.actuate.LocksEndpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link LatchkeyAuditAutoConfiguration}.
 */
class LatchkeyAuditAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyAuditAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory", "latchkey.owner=node-1");

	@Test
	void recordsLockEventsWhenEnabled() {
		this.contextRunner.withUserConfiguration(AuditConfiguration.class)
			.withPropertyValues("latchkey.audit.enabled=true")
			.run((context) -> {
				assertThat(context).hasSingleBean(LockAuditListener.class);
				LockTemplate locks = context.getBean(LockTemplate.class);
				locks.exclusive("order:42").named("order").run(() -> {
					// Another thread: this one would re-enter the lease it holds.
					assertThat(CompletableFuture
						.supplyAsync(() -> locks.exclusive("order:42").named("order").tryRun(() -> {
						}))
						.join()).isFalse();
				});
				AuditEventRepository audit = context.getBean(AuditEventRepository.class);
				assertThat(audit.find("node-1", null, null)).extracting(AuditEvent::getType)
					.containsExactly("LOCK_ACQUIRED", "LOCK_NOT_ACQUIRED", "LOCK_RELEASED");
				assertThat(audit.find("node-1", null, "LOCK_ACQUIRED")).singleElement().satisfies((event) -> {
					assertThat(event.getData()).containsEntry("name", "order")
						.containsEntry("mode", "EXCLUSIVE")
						.containsEntry("backend", "memory")
						.containsKey("fencingToken");
				});
				// The key may be personal data: no event's data holds it.
				assertThat(audit.find("node-1", null, null))
					.allSatisfy((event) -> assertThat(event.getData()).doesNotContainKey("key")
						.doesNotContainValue("order:42"));
			});
	}

	@Test
	void recordsForceReleasesTheLossesTheyCauseAndFailedAcquisitions() {
		this.contextRunner.withUserConfiguration(AuditConfiguration.class)
			.withConfiguration(AutoConfigurations.of(LocksEndpointAutoConfiguration.class))
			.withPropertyValues("latchkey.audit.enabled=true", "management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.access=UNRESTRICTED", "latchkey.ttl=3s", "latchkey.renew-interval=100ms")
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				AuditEventRepository audit = context.getBean(AuditEventRepository.class);
				try (LockHandle handle = locks.exclusive("order:42").named("order").acquire()) {
					context.getBean(LocksEndpoint.class).forceRelease(new String[] { "order:42" });
					// The evicted holder hears of it at its next renewal, and its loss is
					// audited then.
					Awaitility.await()
						.atMost(Duration.ofSeconds(5))
						.until(() -> !audit.find("node-1", null, "LOCK_LOST").isEmpty());
					assertThat(handle.lease().isValid()).isFalse();
				}
				assertThat(audit.find("node-1", null, null)).extracting(AuditEvent::getType)
					.containsExactly("LOCK_ACQUIRED", "LOCK_FORCE_RELEASED", "LOCK_LOST");
				assertThat(audit.find("node-1", null, "LOCK_LOST")).singleElement()
					.satisfies((event) -> assertThat(event.getData()).containsEntry("name", "order")
						.doesNotContainKey("key")
						.containsEntry("reason", "NOT_OWNER"));
				// An operator's force-release has no name but the key given to the
				// endpoint.
				assertThat(audit.find("node-1", null, "LOCK_FORCE_RELEASED")).singleElement()
					.satisfies((event) -> assertThat(event.getData()).containsEntry("name", "order:42"));
			});
		this.contextRunner.withUserConfiguration(AuditConfiguration.class)
			.withBean(LockRepository.class, BrokenLockRepository::new)
			.withPropertyValues("latchkey.audit.enabled=true")
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				assertThatExceptionOfType(LockBackendException.class)
					.isThrownBy(() -> locks.exclusive("order:42").named("order").acquire());
				assertThat(context.getBean(AuditEventRepository.class).find("node-1", null, null)).singleElement()
					.satisfies((event) -> assertThat(event.getType()).isEqualTo("LOCK_ACQUIRE_FAILED"));
			});
	}

	@Test
	void recordsKeysWhenMessagesShowThem() {
		this.contextRunner.withUserConfiguration(AuditConfiguration.class)
			.withPropertyValues("latchkey.audit.enabled=true", "latchkey.show-keys-in-messages=true")
			.run((context) -> {
				context.getBean(LockTemplate.class).exclusive("order:42").named("order").run(() -> {
				});
				assertThat(context.getBean(AuditEventRepository.class).find("node-1", null, "LOCK_ACQUIRED"))
					.singleElement()
					.satisfies((event) -> assertThat(event.getData()).containsEntry("key", "order:42")
						.containsEntry("name", "order"));
			});
	}

	@Test
	void recordsNothingByDefault() {
		this.contextRunner.withUserConfiguration(AuditConfiguration.class)
			.run((context) -> assertThat(context).doesNotHaveBean(LockAuditListener.class));
	}

	@Test
	void needsAnAuditEventRepository() {
		this.contextRunner.withPropertyValues("latchkey.audit.enabled=true")
			.run((context) -> assertThat(context).doesNotHaveBean(LockAuditListener.class));
	}

	@Test
	void backsOffWithoutActuator() {
		this.contextRunner.withUserConfiguration(AuditConfiguration.class)
			.withPropertyValues("latchkey.audit.enabled=true")
			.withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate.audit"))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LockAuditListener.class));
	}

	@Configuration(proxyBeanMethods = false)
	static class AuditConfiguration {

		@Bean
		InMemoryAuditEventRepository auditEventRepository() {
			return new InMemoryAuditEventRepository();
		}

	}

}
