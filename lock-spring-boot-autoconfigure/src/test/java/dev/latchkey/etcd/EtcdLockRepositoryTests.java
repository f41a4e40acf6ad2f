package dev.latchkey.etcd;

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.test.TestServers;

/**
 * The etcd backend passes the backend contract against the single etcd node of {@value TestServers#ETCD_ENDPOINTS},
 * in a namespace of its own, so that runs sharing the server do not meet.
 */
class EtcdLockRepositoryTests extends EtcdLockRepositoryContractTests {

	@RegisterExtension
	static final EtcdNamespace etcd = new EtcdNamespace("latchkey-test-", TestServers::etcdEndpoints);

	@Override
	protected EtcdNamespace namespace() {
		return etcd;
	}

	@Override
	protected int crossInstanceGrants() {
		// Every grant and release is a Raft commit: 3,000 grants keep the test well under a minute here.
		return 3_000;
	}

}
