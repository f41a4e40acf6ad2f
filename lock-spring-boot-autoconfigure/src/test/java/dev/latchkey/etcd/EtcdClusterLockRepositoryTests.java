package dev.latchkey.etcd;

import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.test.TestServers;

/**
 * The etcd backend passes the backend contract against the three-member etcd cluster of
 * {@value TestServers#ETCD_CLUSTER_ENDPOINTS} (the client spreads requests over every member), in a namespace of its
 * own, so that runs sharing the cluster do not meet.
 */
class EtcdClusterLockRepositoryTests extends EtcdLockRepositoryContractTests {

	@RegisterExtension
	static final EtcdNamespace etcd = new EtcdNamespace("latchkey-cluster-test-", TestServers::etcdClusterEndpoints);

	@Override
	protected EtcdNamespace namespace() {
		return etcd;
	}

}
