package dev.latchkey.jdbc;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;

/**
 * The backend contract for the JDBC backend on one database: each repository, the test's and its peers (other
 * application instances), is a {@link JdbcLockRepository} of its own on the same {@link LockTable}.
 */
abstract class JdbcLockRepositoryContractTests extends LockRepositoryContractTests {

	/**
	 * The table the repositories lock in, registered as an extension by the subclass.
	 * @return the table
	 */
	protected abstract LockTable table();

	@Override
	protected LockRepository createRepository() {
		JdbcLockRepository repository = new JdbcLockRepository(table().dataSource(), table().name());
		repository.checkSchema(512);
		return repository;
	}

}
