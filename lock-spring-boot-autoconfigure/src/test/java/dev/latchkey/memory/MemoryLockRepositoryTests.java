package dev.latchkey.memory;

import dev.latchkey.LockRepository;
import dev.latchkey.test.ForwardingLockRepository;
import dev.latchkey.test.LockRepositoryContractTests;

/**
 * Tests for {@link MemoryLockRepository}: the reference implementation passes the backend contract.
 */
class MemoryLockRepositoryTests extends LockRepositoryContractTests {

	@Override
	protected LockRepository createRepository() {
		return new MemoryLockRepository();
	}

	@Override
	protected LockRepository createPeerRepository() {
		// The store is the repository itself: other instances are other users of it.
		return new ForwardingLockRepository(repository());
	}

}
