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

import dev.latchkey.LockRepository;
import dev.latchkey.test.contract.CrossInstanceContract;
import dev.latchkey.test.contract.LockRepositoryContract;

/**
 * The backend contract for the JDBC backend on one database: each repository, the test's
 * and its peers (other application instances), is a {@link JdbcLockRepository} of its own
 * on the same {@link LockTable}.
 */
abstract class JdbcLockRepositoryContractTests extends LockRepositoryContract implements CrossInstanceContract {

	/**
	 * The table the repositories lock in, registered as an extension by the subclass.
	 * @return the table
	 */
	protected abstract LockTable table();

	@Override
	public LockRepository createRepository() {
		JdbcLockRepository repository = new JdbcLockRepository(table().dataSource(), table().name());
		repository.checkSchema(512);
		return repository;
	}

}
