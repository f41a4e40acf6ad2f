package dev.latchkey.etcd;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;

import io.etcd.jetcd.Client;

import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

/**
 * A process that holds a lock through the etcd backend until it is killed, for {@link EtcdLockFaultTests}. Started
 * with the test's class path and the arguments {@code <endpoint> <namespace> <key> <ttlMillis>}; it acquires the key,
 * prints {@code HELD <fencingToken>} on standard output (its only output there) and keeps renewing the lease. It exits
 * when its standard input closes, so it never outlives the test JVM for long.
 */
final class EtcdLockChild {

	private EtcdLockChild() {
	}

	public static void main(String[] args) throws Exception {
		PrintStream protocol = System.out;
		System.setOut(System.err);
		Client client = EtcdTestSupport.client(List.of(URI.create(args[0])));
		EtcdLockRepository repository = new EtcdLockRepository(client, args[1], Duration.ofSeconds(5));
		LockSettings settings = LockSettings.defaults()
			.withOwner("child-" + ProcessHandle.current().pid())
			.withTtl(Duration.ofMillis(Long.parseLong(args[3])));
		LockTemplate template = new LockTemplate(repository, settings, null);
		LockHandle handle = template.exclusive(args[2]).waitTime(Duration.ofSeconds(30)).acquire();
		protocol.println("HELD " + handle.fencingToken());
		protocol.flush();
		while (System.in.read() >= 0) {
			// Hold until the test is gone.
		}
		Runtime.getRuntime().halt(0);
	}

}
