package dev.latchkey.autoconfigure;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LockConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the backends' auto-configuration tests share: the failure analysis a user would read, and a Redis connection
 * factory that only has to exist.
 */
final class BackendStartup {

	private BackendStartup() {
	}

	/**
	 * The analysis of a failed start by Latchkey's failure analyzer, which must recognise it.
	 * @param failure the start's failure
	 * @return the analysis
	 */
	static FailureAnalysis analyze(Throwable failure) {
		FailureAnalysis analysis = new LockConfigurationFailureAnalyzer().analyze(failure);
		assertThat(analysis).as("analysis of %s", failure).isNotNull();
		assertThat(analysis.getCause()).isInstanceOf(LockConfigurationException.class);
		return analysis;
	}

	/**
	 * A RedisConnectionFactory bean that is never connected: for tests that only look at which beans are made.
	 */
	@Configuration(proxyBeanMethods = false)
	static class UnconnectedRedisConfiguration {

		@Bean
		RedisConnectionFactory redisConnectionFactory() {
			return new LettuceConnectionFactory();
		}

	}

}
