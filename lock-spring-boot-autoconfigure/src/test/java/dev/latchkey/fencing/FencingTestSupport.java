package dev.latchkey.fencing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import dev.latchkey.test.TestServers;

/**
 * Databases, tables and Redis connections for the fencing tests: tables are made from the scripts the jar ships, under
 * random names, so that runs sharing a server never meet.
 */
final class FencingTestSupport {

	private FencingTestSupport() {
	}

	static HikariDataSource dataSource(String database, int poolSize) {
		String url = switch (database) {
			case "postgres" -> TestServers.postgresUrl();
			case "mariadb" -> TestServers.mariadbUrl();
			// Writers of one resource wait for each other's commit on the fence row: longer than H2's 1 s default.
			case "h2" -> "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=20000";
			default -> throw new IllegalArgumentException(database);
		};
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(url);
		config.setMaximumPoolSize(poolSize);
		config.setConnectionTimeout(10000);
		return new HikariDataSource(config);
	}

	static String platform(String database) {
		return switch (database) {
			case "postgres" -> "postgresql";
			case "mariadb" -> "mysql";
			default -> database;
		};
	}

	static String newName(String prefix) {
		return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase(Locale.ROOT);
	}

	/**
	 * Runs a script the jar ships with a table name of the test's own in place of the shipped one.
	 */
	static void runScript(DataSource dataSource, String script, String shippedName, String name) {
		try {
			String sql = new ClassPathResource(script).getContentAsString(StandardCharsets.UTF_8)
				.replace(shippedName, name);
			new ResourceDatabasePopulator(new ByteArrayResource(sql.getBytes(StandardCharsets.UTF_8)))
				.execute(dataSource);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	static LettuceConnectionFactory redis() {
		URI url = TestServers.redisUrl();
		RedisStandaloneConfiguration server = new RedisStandaloneConfiguration(url.getHost(),
				(url.getPort() > 0) ? url.getPort() : 6379);
		LettuceConnectionFactory factory = new LettuceConnectionFactory(server,
				LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(5)).build());
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

}
