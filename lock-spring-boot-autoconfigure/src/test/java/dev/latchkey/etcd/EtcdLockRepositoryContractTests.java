package dev.latchkey.etcd;

import java.time.Duration;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;

/**
 * The backend contract for the etcd backend: each repository, the test's and its peers (other application
 * instances), is an {@link EtcdLockRepository} of its own in the same {@link EtcdNamespace}.
 */
abstract class EtcdLockRepositoryContractTests extends LockRepositoryContractTests {

	/**
	 * The namespace the repositories lock in, registered as an extension by the subclass.
	 * @return the namespace
	 */
	protected abstract EtcdNamespace namespace();

	@Override
	protected LockRepository createRepository() {
		return new EtcdLockRepository(namespace().client(), namespace().name(), Duration.ofSeconds(5));
	}

	@Override
	protected Duration shortTtl() {
		// etcd counts lease TTLs in whole seconds.
		return Duration.ofSeconds(1);
	}

}
