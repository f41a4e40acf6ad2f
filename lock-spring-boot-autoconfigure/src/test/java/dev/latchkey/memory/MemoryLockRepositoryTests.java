package dev.latchkey.memory;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;

/**
 * Tests for {@link MemoryLockRepository}: the reference implementation passes the backend contract.
 */
class MemoryLockRepositoryTests extends LockRepositoryContractTests {

	@Override
	protected LockRepository createRepository() {
		return new MemoryLockRepository();
	}

}
