package dev.latchkey.autoconfigure;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.jdbc.init.DatabaseInitializationProperties;

import dev.latchkey.jdbc.JdbcLockRepository;

/**
 * Configuration of the JDBC backend, under {@code latchkey.jdbc}. Schema initialization follows Spring Boot's
 * conventions ({@code schema}, {@code platform}, {@code initialize-schema}, {@code continue-on-error}), as for Spring
 * Integration's and Spring Batch's tables.
 * <pre class="code">
 * latchkey:
 *   backend: jdbc
 *   jdbc:
 *     table-name: LOCKS.LATCHKEY_LOCKS
 *     initialize-schema: never        # the table comes from a Flyway migration
 * </pre>
 */
@ConfigurationProperties("latchkey.jdbc")
public class LatchkeyJdbcProperties extends DatabaseInitializationProperties {

	private static final String DEFAULT_SCHEMA_LOCATION = "classpath:dev/latchkey/jdbc/schema-@@platform@@.sql";

	/**
	 * Name of the lock table, optionally qualified by its schema. The sequence of fencing tokens (PostgreSQL, H2) is
	 * named after it, with '_FENCING' appended. Letters, digits and underscores only.
	 */
	private String tableName = JdbcLockRepository.DEFAULT_TABLE_NAME;

	public String getTableName() {
		return this.tableName;
	}

	public void setTableName(String tableName) {
		JdbcLockRepository.checkTableName(tableName);
		this.tableName = tableName;
	}

	@Override
	public String getDefaultSchemaLocation() {
		return DEFAULT_SCHEMA_LOCATION;
	}

}
