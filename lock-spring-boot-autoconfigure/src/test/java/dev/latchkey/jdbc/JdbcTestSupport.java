package dev.latchkey.jdbc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.util.StreamUtils;

/**
 * Databases and lock tables for the JDBC tests: each test class makes a table of its own, with the schema script the
 * product ships, and drops it afterwards.
 */
final class JdbcTestSupport {

	private JdbcTestSupport() {
	}

	static HikariDataSource dataSource(String url, int poolSize) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(url);
		config.setMaximumPoolSize(poolSize);
		config.setConnectionTimeout(5000);
		config.setPoolName("latchkey-test-" + UUID.randomUUID().toString().substring(0, 8));
		return new HikariDataSource(config);
	}

	static String newTableName() {
		return "LK_TEST_" + UUID.randomUUID().toString().replace("-", "").substring(0, 20).toUpperCase(Locale.ROOT);
	}

	/**
	 * Runs a shipped schema script with another table name, as the schema initializer does.
	 */
	static void createTable(DataSource dataSource, String script, String tableName) {
		new ResourceDatabasePopulator(script(script, tableName)).execute(dataSource);
	}

	static ByteArrayResource script(String script, String tableName) {
		try {
			String text = StreamUtils.copyToString(new ClassPathResource("dev/latchkey/jdbc/" + script).getInputStream(),
					StandardCharsets.UTF_8);
			return new ByteArrayResource(text.replace(JdbcLockRepository.DEFAULT_TABLE_NAME, tableName)
				.getBytes(StandardCharsets.UTF_8), script + " for " + tableName);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	static void dropTable(DataSource dataSource, String tableName, boolean withSequence) {
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		jdbc.execute("DROP TABLE IF EXISTS " + tableName);
		if (withSequence) {
			jdbc.execute("DROP SEQUENCE IF EXISTS " + tableName + "_FENCING");
		}
	}

}
