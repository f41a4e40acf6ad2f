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
 * Stops the start with an explanation when {@code latchkey.backend=jdbc} but the JDBC backend could not be configured:
 * spring-jdbc or Spring Boot's JDBC support is missing, or the application has no DataSource. Imported after
 * {@link JdbcBackendConfiguration}, so it matches only when that one made no repository.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(OnLockBackendCondition.JdbcRequired.class)
class MissingJdbcBackendConfiguration implements BeanClassLoaderAware {

	private static final String JDBC_TEMPLATE = "org.springframework.jdbc.core.JdbcTemplate";

	private static final String BOOT_JDBC = "org.springframework.boot.jdbc.init.DatabaseInitializationProperties";

	private @Nullable ClassLoader classLoader;

	@Override
	public void setBeanClassLoader(ClassLoader classLoader) {
		this.classLoader = classLoader;
	}

	@Bean
	LockRepository lockRepository() {
		if (!ClassUtils.isPresent(JDBC_TEMPLATE, this.classLoader)
				|| !ClassUtils.isPresent(BOOT_JDBC, this.classLoader)) {
			throw new LockConfigurationException(
					"latchkey.backend is jdbc, but spring-jdbc or Spring Boot's JDBC support is not on the class path",
					"Add the dependency org.springframework.boot:spring-boot-starter-jdbc (and your database's JDBC"
							+ " driver), or set latchkey.backend to another backend");
		}
		throw new LockConfigurationException("latchkey.backend is jdbc, but the application has no DataSource bean",
				"Configure spring.datasource.* (url, username, password) with spring-boot-starter-jdbc, or define a"
						+ " DataSource bean; or set latchkey.backend to another backend");
	}

}
