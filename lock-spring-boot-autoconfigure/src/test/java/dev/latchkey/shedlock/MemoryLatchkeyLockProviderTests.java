package dev.latchkey.shedlock;

import dev.latchkey.test.SharedStore;

/**
 * {@link LatchkeyLockProvider} on the memory backend, the reference implementation of the contract.
 */
class MemoryLatchkeyLockProviderTests extends LatchkeyLockProviderContractTests {

	@Override
	protected SharedStore store() {
		return SharedStore.memory();
	}

}
