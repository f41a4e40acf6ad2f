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

import dev.latchkey.test.FaultMatrix;

/**
 * The {@link FaultMatrix} on MariaDB, on a server of the test class's own.
 */
class FaultMatrixMariaDbTests extends JdbcFaultMatrix {

	FaultMatrixMariaDbTests() {
		super("schema-mysql.sql", false);
	}

	@Override
	DatabaseServerProcess startServer() {
		return DatabaseServerProcess.mariadb();
	}

}
