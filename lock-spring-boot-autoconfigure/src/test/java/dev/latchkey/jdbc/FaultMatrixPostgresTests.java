package dev.latchkey.jdbc;

import dev.latchkey.test.FaultMatrix;
import dev.latchkey.test.TestServers;

/**
 * The {@link FaultMatrix} on PostgreSQL (the logged table), in the shared database.
 */
class FaultMatrixPostgresTests extends JdbcFaultMatrix {

	FaultMatrixPostgresTests() {
		super("schema-postgresql.sql", true);
	}

	@Override
	String url() {
		return TestServers.postgresUrl();
	}

}
