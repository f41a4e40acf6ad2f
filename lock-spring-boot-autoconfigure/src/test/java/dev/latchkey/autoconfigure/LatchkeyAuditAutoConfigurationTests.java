package dev.latchkey.autoconfigure;

import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.audit.AuditEvent;
import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.boot.actuate.audit.InMemoryAuditEventRepository;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.LockAuditListener;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LatchkeyAuditAutoConfiguration}.
 */
class LatchkeyAuditAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyAuditAutoConfiguration.class))
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
					assertThat(CompletableFuture.supplyAsync(() -> locks.exclusive("order:42").tryRun(() -> {
					})).join()).isFalse();
				});
				AuditEventRepository audit = context.getBean(AuditEventRepository.class);
				assertThat(audit.find("node-1", null, null)).extracting(AuditEvent::getType)
					.containsExactly("LOCK_ACQUIRED", "LOCK_NOT_ACQUIRED", "LOCK_RELEASED");
				assertThat(audit.find("node-1", null, "LOCK_ACQUIRED")).singleElement().satisfies((event) -> {
					assertThat(event.getData()).containsEntry("key", "order:42")
						.containsEntry("name", "order")
						.containsEntry("backend", "memory")
						.containsKey("fencingToken");
				});
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
