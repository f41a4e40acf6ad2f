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

package dev.latchkey.memory;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockRepository;
import dev.latchkey.test.ForwardingLockRepository;
import dev.latchkey.test.contract.CrossInstanceContract;
import dev.latchkey.test.contract.FairLockRepositoryContract;
import dev.latchkey.test.contract.LockRepositoryContract;

/**
 * Tests for {@link MemoryLockRepository}: the reference implementation passes the backend
 * contract, and serves fair locks in order.
 */
class MemoryLockRepositoryTests extends LockRepositoryContract
		implements CrossInstanceContract, FairLockRepositoryContract {

	@Override
	public LockRepository createRepository() {
		return new MemoryLockRepository();
	}

	@Override
	public LockRepository createPeerRepository() {
		// The store is the repository itself: other instances are other users of it.
		return new ForwardingLockRepository(repository());
	}

	@Override
	public LockRepository createFairPeer() {
		// The queue is the repository's own: its users queue there directly.
		return repository();
	}

	@Override
	public void killWaiter(LockRepository peer, LeaseSpec waiting) {
		// No process to end: the waiter leaves as a withdrawn one does.
		((MemoryLockRepository) peer).cancelQueued(waiting);
	}

}
