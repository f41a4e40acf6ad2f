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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.springframework.boot.jdbc.DatabaseDriver;
import org.springframework.boot.jdbc.init.PropertiesBasedDataSourceScriptDatabaseInitializer;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.Resource;
import org.springframework.util.StreamUtils;

import dev.latchkey.jdbc.JdbcLockRepository;

/**
 * Creates the JDBC backend's lock table with Spring Boot's database initialization, as
 * {@code latchkey.jdbc.initialize-schema} says (by default for embedded databases only).
 * MariaDB uses the MySQL script. When {@code latchkey.jdbc.table-name} is set, the
 * script's table (and sequence) name is replaced by it.
 *
 * <pre class="code">
 * latchkey.jdbc.initialize-schema=always
 * latchkey.jdbc.table-name=LOCKS.LATCHKEY_LOCKS
 * </pre>
 *
 * @since 0.1.0
 */
public class LatchkeyJdbcSchemaInitializer
		extends PropertiesBasedDataSourceScriptDatabaseInitializer<LatchkeyJdbcProperties> {

	private final String tableName;

	/**
	 * Makes the initializer.
	 * @param dataSource the application's data source
	 * @param properties the JDBC backend's properties
	 */
	public LatchkeyJdbcSchemaInitializer(DataSource dataSource, LatchkeyJdbcProperties properties) {
		super(dataSource, properties, Map.of(DatabaseDriver.MARIADB, "mysql"));
		this.tableName = properties.getTableName();
	}

	@Override
	protected void runScripts(Scripts scripts) {
		Charset encoding = (scripts.getEncoding() != null) ? scripts.getEncoding() : StandardCharsets.UTF_8;
		List<Resource> renamed = new ArrayList<>();
		for (Resource script : scripts) {
			renamed.add(withTableName(script, encoding));
		}
		super.runScripts(new Scripts(renamed).continueOnError(scripts.isContinueOnError())
			.separator(scripts.getSeparator())
			.encoding(encoding));
	}

	private Resource withTableName(Resource script, Charset encoding) {
		if (JdbcLockRepository.DEFAULT_TABLE_NAME.equals(this.tableName)) {
			return script;
		}
		try {
			String text = StreamUtils.copyToString(script.getInputStream(), encoding);
			return new ByteArrayResource(
					text.replace(JdbcLockRepository.DEFAULT_TABLE_NAME, this.tableName).getBytes(encoding),
					script.getDescription() + " for table " + this.tableName);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not read " + script.getDescription(), ex);
		}
	}

}
