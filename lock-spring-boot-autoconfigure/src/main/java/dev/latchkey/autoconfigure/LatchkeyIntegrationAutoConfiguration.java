package dev.latchkey.autoconfigure;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.integration.support.locks.LockRegistry;

import dev.latchkey.LockTemplate;
import dev.latchkey.integration.LatchkeyLockRegistry;

/**
 * Auto-configuration that gives Spring Integration a {@link LockRegistry} on Latchkey: a
 * {@link LatchkeyLockRegistry} when Spring Integration is on the class path and the application has no
 * {@link LockRegistry} of its own.
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class)
@ConditionalOnClass(LockRegistry.class)
@ConditionalOnBean(LockTemplate.class)
public final class LatchkeyIntegrationAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(LockRegistry.class)
	LatchkeyLockRegistry latchkeyLockRegistry(LockTemplate lockTemplate) {
		return new LatchkeyLockRegistry(lockTemplate);
	}

}
