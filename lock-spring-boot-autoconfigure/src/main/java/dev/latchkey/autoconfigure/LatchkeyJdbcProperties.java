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

package dev.latchkey.autoconfigure;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.jdbc.init.DatabaseInitializationProperties;

import dev.latchkey.jdbc.JdbcLockRepository;

/**
 * Configuration of the JDBC backend, under {@code latchkey.jdbc}. Schema initialization
 * follows Spring Boot's conventions ({@code schema}, {@code platform},
 * {@code initialize-schema}, {@code continue-on-error}), as for Spring Integration's and
 * Spring Batch's tables.
 *
 * <pre class="code">
 * latchkey:
 *   backend: jdbc
 *   jdbc:
 *     table-name: LOCKS.LATCHKEY_LOCKS
 *     initialize-schema: never        # the table comes from a Flyway migration
 * </pre>
 *
 * @since 0.1.0
 */
@ConfigurationProperties("latchkey.jdbc")
public class LatchkeyJdbcProperties extends DatabaseInitializationProperties {

	private static final String DEFAULT_SCHEMA_LOCATION = "classpath:dev/latchkey/jdbc/schema-@@platform@@.sql";

	/**
	 * Name of the lock table, optionally qualified by its schema. The sequence of fencing
	 * tokens (PostgreSQL, H2) is named after it, with '_FENCING' appended, and the table
	 * of owner records (MySQL, MariaDB) with '_OWNERS'. Letters, digits and underscores
	 * only.
	 */
	private String tableName = JdbcLockRepository.DEFAULT_TABLE_NAME;

	/**
	 * Whether exclusive leases on PostgreSQL, MySQL and MariaDB name an owner record of
	 * their instance, so that renewing them all is one call per renewal interval. Turn it
	 * off while instances of a Latchkey version without the RECORD column share the table
	 * (a rolling upgrade): they would take over a lease held longer than its TTL.
	 */
	private boolean ownerRecords = true;

	public String getTableName() {
		return this.tableName;
	}

	public void setTableName(String tableName) {
		JdbcLockRepository.checkTableName(tableName);
		this.tableName = tableName;
	}

	public boolean isOwnerRecords() {
		return this.ownerRecords;
	}

	public void setOwnerRecords(boolean ownerRecords) {
		this.ownerRecords = ownerRecords;
	}

	@Override
	public String getDefaultSchemaLocation() {
		return DEFAULT_SCHEMA_LOCATION;
	}

}
