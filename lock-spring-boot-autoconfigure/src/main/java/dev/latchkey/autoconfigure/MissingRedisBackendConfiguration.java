package dev.latchkey.autoconfigure;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanClassLoaderAware;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.ClassUtils;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;

/**
 * Stops the start with an explanation when {@code latchkey.backend=redis} but the Redis backend could not be
 * configured: spring-data-redis is missing, or the application has no RedisConnectionFactory. Imported after
 * {@link RedisBackendConfiguration}, so it matches only when that one made no repository.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(OnLockBackendCondition.RedisRequired.class)
class MissingRedisBackendConfiguration implements BeanClassLoaderAware {

	private @Nullable ClassLoader classLoader;

	private static final String CONNECTION_FACTORY = "org.springframework.data.redis.connection.RedisConnectionFactory";

	@Override
	public void setBeanClassLoader(ClassLoader classLoader) {
		this.classLoader = classLoader;
	}

	@Bean
	LockRepository lockRepository() {
		if (!ClassUtils.isPresent(CONNECTION_FACTORY, this.classLoader)) {
			throw new LockConfigurationException(
					"latchkey.backend is redis, but spring-data-redis is not on the class path",
					"Add the dependency org.springframework.boot:spring-boot-starter-data-redis, or set latchkey.backend"
							+ " to another backend");
		}
		throw new LockConfigurationException(
				"latchkey.backend is redis, but the application has no RedisConnectionFactory bean",
				"Add org.springframework.boot:spring-boot-starter-data-redis and configure spring.data.redis.*"
						+ " (spring.data.redis.url, or host and port), or define a RedisConnectionFactory bean; or set"
						+ " latchkey.backend to another backend");
	}

}
