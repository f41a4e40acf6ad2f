package dev.latchkey.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.ConfigurationCondition;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.ClassUtils;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;
import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

/**
 * Stops the start when {@code latchkey.backend=auto} finds more than one configured backend (etcd endpoints, a
 * RedisConnectionFactory, a DataSource): choosing one silently would lock in a store the user may not expect, and two instances that
 * guessed differently would not exclude each other. Imported before the backends' configurations.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(AmbiguousBackendConfiguration.OnSeveralBackendsCondition.class)
class AmbiguousBackendConfiguration {

	@Bean
	LockRepository lockRepository(ConfigurableListableBeanFactory beanFactory, Environment environment) {
		List<String> found = OnSeveralBackendsCondition.configuredBackends(beanFactory, beanFactory.getBeanClassLoader(),
				environment);
		throw new LockConfigurationException(
				"latchkey.backend is auto, and the application has more than one backend configured: "
						+ String.join(", ", found),
				"Set latchkey.backend to the one the locks should use (for example latchkey.backend=redis)");
	}

	/**
	 * Matches when {@code latchkey.backend} is {@code auto} and more than one backend's bean exists.
	 */
	static final class OnSeveralBackendsCondition extends SpringBootCondition implements ConfigurationCondition {

		private static final String ETCD_CLIENT = "io.etcd.jetcd.Client";

		private static final String[][] BACKENDS = {
				{ "redis (a RedisConnectionFactory bean)",
						"org.springframework.data.redis.connection.RedisConnectionFactory" },
				{ "jdbc (a DataSource bean)", "javax.sql.DataSource" } };

		@Override
		public ConfigurationPhase getConfigurationPhase() {
			return ConfigurationPhase.REGISTER_BEAN;
		}

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			if (OnLockBackendCondition.configuredBackend(context) != Backend.AUTO) {
				return ConditionOutcome.noMatch("latchkey.backend is not auto");
			}
			ConfigurableListableBeanFactory beanFactory = context.getBeanFactory();
			if (beanFactory == null) {
				return ConditionOutcome.noMatch("no bean factory");
			}
			List<String> found = configuredBackends(beanFactory, context.getClassLoader(), context.getEnvironment());
			return (found.size() > 1) ? ConditionOutcome.match("several backends are configured: " + found)
					: ConditionOutcome.noMatch("at most one backend is configured: " + found);
		}

		static List<String> configuredBackends(ConfigurableListableBeanFactory beanFactory,
				@Nullable ClassLoader classLoader, Environment environment) {
			List<String> found = new ArrayList<>();
			if (ClassUtils.isPresent(ETCD_CLIENT, classLoader) && Binder.get(environment)
				.bind("latchkey.etcd.endpoints", Bindable.listOf(String.class))
				.map((endpoints) -> !endpoints.isEmpty())
				.orElse(false)) {
				found.add("etcd (latchkey.etcd.endpoints)");
			}
			for (String[] backend : BACKENDS) {
				if (ClassUtils.isPresent(backend[1], classLoader) && beanFactory
					.getBeanNamesForType(ClassUtils.resolveClassName(backend[1], classLoader), true, false).length > 0) {
					found.add(backend[0]);
				}
			}
			return found;
		}

	}

}
