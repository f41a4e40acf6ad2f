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
