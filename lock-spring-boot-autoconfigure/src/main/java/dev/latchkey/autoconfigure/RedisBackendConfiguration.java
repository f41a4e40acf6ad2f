package dev.latchkey.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

import dev.latchkey.LockRepository;
import dev.latchkey.redis.RedisLockRepository;

/**
 * The Redis backend: chosen by {@code latchkey.backend=redis}, and by {@code auto} when the application has a
 * {@link RedisConnectionFactory} (for example from {@code spring-boot-starter-data-redis} and
 * {@code spring.data.redis.*}), which it reuses.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(RedisConnectionFactory.class)
@ConditionalOnBean(RedisConnectionFactory.class)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(OnLockBackendCondition.Redis.class)
class RedisBackendConfiguration {

	@Bean(destroyMethod = "close")
	RedisLockRepository lockRepository(RedisConnectionFactory redisConnectionFactory, LatchkeyProperties properties) {
		return new RedisLockRepository(redisConnectionFactory, properties.getRedis().getNamespace());
	}

}
