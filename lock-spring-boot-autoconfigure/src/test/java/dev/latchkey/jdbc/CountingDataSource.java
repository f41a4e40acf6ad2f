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

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * A test table's data source, counting the connections taken from it: the repository
 * takes one per statement (or transaction).
 */
final class CountingDataSource extends DelegatingDataSource {

	private final AtomicLong connections;

	CountingDataSource(LockTable table, AtomicLong connections) {
		super(table.dataSource());
		this.connections = connections;
	}

	@Override
	public Connection getConnection() throws SQLException {
		this.connections.incrementAndGet();
		return super.getConnection();
	}

}
