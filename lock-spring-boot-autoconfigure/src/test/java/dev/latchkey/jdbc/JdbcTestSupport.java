/*
 * Copyright 2026-present the original author or authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *      https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

package dev.latchkey.jdbc;

import java.util.Locale;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import org.springframework.boot.sql.init.DatabaseInitializationMode;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.latchkey.autoconfigure.LatchkeyJdbcProperties;
import dev.latchkey.autoconfigure.LatchkeyJdbcSchemaInitializer;

/**
 * Databases and lock tables for the JDBC tests: each test class makes a table of its own,
 * with the schema script the product ships (run by the product's own schema initializer),
 * and drops it afterwards.
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
	 * Runs a shipped schema script with another table name, through the schema
	 * initializer the auto-configuration uses.
	 */
	static void createTable(DataSource dataSource, String script, String tableName) {
		LatchkeyJdbcProperties properties = new LatchkeyJdbcProperties();
		properties.setTableName(tableName);
		properties.setSchema("classpath:dev/latchkey/jdbc/" + script);
		properties.setInitializeSchema(DatabaseInitializationMode.ALWAYS);
		LatchkeyJdbcSchemaInitializer initializer = new LatchkeyJdbcSchemaInitializer(dataSource, properties);
		initializer.setResourceLoader(new DefaultResourceLoader());
		if (!initializer.initializeDatabase()) {
			throw new IllegalStateException("No schema script ran for " + tableName);
		}
	}

	static void dropTable(DataSource dataSource, String tableName, boolean withSequence) {
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		jdbc.execute("DROP TABLE IF EXISTS " + tableName);
		// MySQL's and MariaDB's owner records.
		jdbc.execute("DROP TABLE IF EXISTS " + MySqlLockDialect.ownersTable(tableName));
		if (withSequence) {
			jdbc.execute("DROP SEQUENCE IF EXISTS " + tableName + "_FENCING");
		}
	}

}
