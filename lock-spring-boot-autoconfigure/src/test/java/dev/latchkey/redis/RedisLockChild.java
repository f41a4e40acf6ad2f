package dev.latchkey.redis;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

/**
 * A process that holds a lock through the Redis backend until it is killed, for {@link RedisLockFaultTests}. Started
 * with the test's class path and the arguments {@code <redisUrl> <namespace> <key> <ttlMillis>}; it acquires the key,
 * prints {@code HELD <fencingToken>} on standard output (its only output there; logging goes to standard error) and
 * keeps renewing the lease. It exits when its standard input closes, so it never outlives the test JVM for long.
 */
final class RedisLockChild {

	private RedisLockChild() {
	}

	public static void main(String[] args) throws Exception {
		PrintStream protocol = System.out;
		System.setOut(System.err);
		LettuceConnectionFactory connectionFactory = RedisTestSupport.connectionFactory(URI.create(args[0]));
		RedisLockRepository repository = new RedisLockRepository(connectionFactory, args[1]);
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
