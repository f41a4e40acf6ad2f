package dev.latchkey.jdbc;

import dev.latchkey.test.FaultMatrix;

/**
 * The {@link FaultMatrix} on PostgreSQL (the logged table), on a server of the test class's own.
 */
class FaultMatrixPostgresTests extends JdbcFaultMatrix {

	FaultMatrixPostgresTests() {
		super("schema-postgresql.sql", true);
	}

	@Override
	DatabaseServerProcess startServer() {
		return DatabaseServerProcess.postgres();
	}

}
