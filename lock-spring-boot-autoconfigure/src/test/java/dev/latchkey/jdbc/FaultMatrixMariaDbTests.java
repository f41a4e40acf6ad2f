package dev.latchkey.jdbc;

import dev.latchkey.test.FaultMatrix;
import dev.latchkey.test.TestServers;

/**
 * The {@link FaultMatrix} on MariaDB, in the shared database.
 */
class FaultMatrixMariaDbTests extends JdbcFaultMatrix {

	FaultMatrixMariaDbTests() {
		super("schema-mysql.sql", false);
	}

	@Override
	String url() {
		return TestServers.mariadbUrl();
	}

}
