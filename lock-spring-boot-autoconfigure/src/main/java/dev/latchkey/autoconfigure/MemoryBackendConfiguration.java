package dev.latchkey.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockRepository;
import dev.latchkey.memory.MemoryLockRepository;

/**
 * The memory backend, chosen by {@code latchkey.backend=memory}: locks held within this JVM only.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(OnLockBackendCondition.Memory.class)
class MemoryBackendConfiguration {

	@Bean
	MemoryLockRepository lockRepository() {
		return new MemoryLockRepository();
	}

}
