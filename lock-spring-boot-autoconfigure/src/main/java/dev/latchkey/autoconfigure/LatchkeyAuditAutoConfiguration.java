package dev.latchkey.autoconfigure;

import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import dev.latchkey.actuate.LockAuditListener;

/**
 * Auto-configuration that records lock events in the application's {@link AuditEventRepository}, with
 * {@code latchkey.audit.enabled=true}.
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class,
		afterName = "org.springframework.boot.actuate.autoconfigure.audit.AuditAutoConfiguration")
@ConditionalOnClass(AuditEventRepository.class)
@ConditionalOnBean(AuditEventRepository.class)
@ConditionalOnBooleanProperty("latchkey.audit.enabled")
public final class LatchkeyAuditAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	LockAuditListener lockAuditListener(AuditEventRepository auditEventRepository) {
		return new LockAuditListener(auditEventRepository);
	}

}
