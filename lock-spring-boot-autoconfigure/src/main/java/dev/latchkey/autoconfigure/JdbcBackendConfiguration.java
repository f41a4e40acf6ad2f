package dev.latchkey.autoconfigure;

import java.sql.SQLException;

import javax.sql.DataSource;

import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jdbc.init.DatabaseInitializationProperties;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.latchkey.LockBackendException;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.support.FailureMessages;

/**
 * The JDBC backend: chosen by {@code latchkey.backend=jdbc}, and by {@code auto} when the application has a
 * {@link DataSource} (for example from {@code spring-boot-starter-jdbc} and {@code spring.datasource.*}), which it
 * reuses. The lock table is checked when the repository is made, after Spring Boot's database initialization (which
 * creates it as {@code latchkey.jdbc.initialize-schema} says), so a missing table fails the start.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass({ JdbcTemplate.class, DatabaseInitializationProperties.class })
@ConditionalOnBean(DataSource.class)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(OnLockBackendCondition.Jdbc.class)
@EnableConfigurationProperties(LatchkeyJdbcProperties.class)
class JdbcBackendConfiguration {

	@Bean
	@ConditionalOnMissingBean
	LatchkeyJdbcSchemaInitializer latchkeyJdbcSchemaInitializer(DataSource dataSource,
			LatchkeyJdbcProperties properties) {
		try {
			return new LatchkeyJdbcSchemaInitializer(dataSource, properties);
		}
		catch (RuntimeException ex) {
			// Spring Boot asks the database which platform it is before any script runs.
			throw unreachable(properties, ex);
		}
	}

	@Bean(destroyMethod = "close")
	@DependsOnDatabaseInitialization
	JdbcLockRepository lockRepository(DataSource dataSource, LatchkeyJdbcProperties properties,
			LockSettings lockSettings, Environment environment) {
		JdbcLockRepository repository = new JdbcLockRepository(dataSource, properties.getTableName(),
				BackendThreads.threadFactory(environment, JdbcLockRepository.DEFAULT_THREAD_NAME_PREFIX));
		try {
			repository.checkSchema(lockSettings.maxKeyLength());
		}
		catch (LockBackendException ex) {
			throw unreachable(properties, ex);
		}
		return repository;
	}

	/**
	 * The message of the first {@link SQLException} of the chain, the driver's own words (a refused connection with
	 * its address, an unknown role), else the most specific message.
	 */
	private static String driverReason(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof SQLException && cause.getMessage() != null) {
				return cause.getMessage();
			}
		}
		return FailureMessages.reason(failure);
	}

	private static LockConfigurationException unreachable(LatchkeyJdbcProperties properties, Exception ex) {
		// The database's own answer, not the wrapper's ("Failed to determine DatabaseDriver" says nothing).
		String reason = (ex instanceof LockBackendException) ? ex.getMessage() : driverReason(ex);
		return new LockConfigurationException("latchkey.backend is jdbc, but the database could not be reached to"
				+ " check the lock table " + properties.getTableName() + ": " + reason,
				"Check spring.datasource.* (url, username, password) and that the database is up", ex);
	}

}
