package dev.latchkey.integration;

import dev.latchkey.test.SharedStore;

/**
 * {@link LatchkeyLockRegistry} on the memory backend, the reference implementation of the contract.
 */
class MemoryLatchkeyLockRegistryTests extends LatchkeyLockRegistryContractTests {

	@Override
	protected SharedStore store() {
		return SharedStore.memory();
	}

}
