package dev.latchkey.test;

import dev.latchkey.LockRepository;
import dev.latchkey.memory.MemoryLockRepository;

/**
 * A lock store that several repositories share, as the nodes of an application share a backend: what tests of code
 * above {@link LockRepository} run on, one node per repository.
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
	 * The memory backend: the store is the first repository itself, and other nodes forward to it.
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
