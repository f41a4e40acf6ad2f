package dev.latchkey.etcd;

import java.time.Duration;
import java.util.UUID;

import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;
import dev.latchkey.test.TestServers;

/**
 * The etcd backend passes the backend contract against the three-member etcd cluster of
 * {@value TestServers#ETCD_CLUSTER_ENDPOINTS} (the client spreads requests over every member), in a namespace of its
 * own, so that runs sharing the cluster do not meet.
 */
class EtcdClusterLockRepositoryTests extends LockRepositoryContractTests {

	private static final String NAMESPACE = "latchkey-cluster-test-" + UUID.randomUUID() + "/";

	private static Client client;

	@BeforeAll
	static void connect() {
		client = EtcdTestSupport.client(TestServers.etcdClusterEndpoints());
	}

	@AfterAll
	static void deleteNamespaceAndDisconnect() {
		if (client != null) {
			EtcdTestSupport.deleteNamespace(client, NAMESPACE);
			client.close();
		}
	}

	@Override
	protected LockRepository createPeerRepository() {
		// Another application instance: a repository of its own on the same store.
		return createRepository();
	}

	@Override
	protected LockRepository createRepository() {
		return new EtcdLockRepository(client, NAMESPACE, Duration.ofSeconds(5));
	}

	@Override
	protected void destroyRepository(LockRepository repository) {
		((EtcdLockRepository) repository).close();
	}

	@Override
	protected Duration shortTtl() {
		// etcd counts lease TTLs in whole seconds.
		return Duration.ofSeconds(1);
	}

}
