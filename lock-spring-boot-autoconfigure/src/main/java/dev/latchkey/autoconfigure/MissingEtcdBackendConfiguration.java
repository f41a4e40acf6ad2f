package dev.latchkey.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;

/**
 * Stops the start with an explanation when {@code latchkey.backend=etcd} but the etcd backend could not be configured
 * because jetcd is not on the class path. Imported after {@link EtcdBackendConfiguration}, so it matches only when that
 * one made no repository.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(OnLockBackendCondition.EtcdRequired.class)
class MissingEtcdBackendConfiguration {

	@Bean
	LockRepository lockRepository() {
		throw new LockConfigurationException("latchkey.backend is etcd, but jetcd is not on the class path",
				"Add the dependency io.etcd:jetcd-core, or set latchkey.backend to another backend");
	}

}
