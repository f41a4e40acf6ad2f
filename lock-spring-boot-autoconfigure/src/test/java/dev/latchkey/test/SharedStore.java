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

package dev.latchkey.test;

import dev.latchkey.LockRepository;
import dev.latchkey.memory.MemoryLockRepository;

/**
 * A lock store that several repositories share, as the nodes of an application share a
 * backend: what tests of code above {@link LockRepository} run on, one node per
 * repository.
 *
 * <pre class="code">
 * LockRepository nodeA = store.open();
 * LockRepository nodeB = store.openPeer(nodeA);
 * </pre>
 */
public interface SharedStore {

	/**
	 * Opens the repository of a first node.
	 * @return a new repository
	 */
	LockRepository open();

	/**
	 * Opens the repository of another node, on the store of a first one.
	 * @param first the first node's repository
	 * @return a new repository
	 */
	LockRepository openPeer(LockRepository first);

	/**
	 * Closes a repository this store opened.
	 * @param repository the repository
	 */
	default void close(LockRepository repository) {
	}

	/**
	 * The memory backend: the store is the first repository itself, and other nodes
	 * forward to it.
	 * @return the store
	 */
	static SharedStore memory() {
		return new SharedStore() {

			@Override
			public LockRepository open() {
				return new MemoryLockRepository();
			}

			@Override
			public LockRepository openPeer(LockRepository first) {
				return new ForwardingLockRepository(first);
			}

		};
	}

}
