package dev.latchkey.autoconfigure;

import net.javacrumbs.shedlock.core.LockProvider;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import dev.latchkey.LockTemplate;
import dev.latchkey.shedlock.LatchkeyLockProvider;

/**
 * Auto-configuration that runs ShedLock's {@code @SchedulerLock} on Latchkey: a {@link LatchkeyLockProvider} when
 * ShedLock is on the class path and the application has no {@link LockProvider} of its own.
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class)
@ConditionalOnClass(LockProvider.class)
@ConditionalOnBean(LockTemplate.class)
public final class LatchkeyShedLockAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(LockProvider.class)
	LatchkeyLockProvider latchkeyShedLockProvider(LockTemplate lockTemplate) {
		return new LatchkeyLockProvider(lockTemplate);
	}

}
