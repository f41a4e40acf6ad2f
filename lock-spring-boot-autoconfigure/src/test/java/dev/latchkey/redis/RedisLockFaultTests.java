package dev.latchkey.redis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.event.LockLostEvent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The Redis backend under faults that only it has, on a redis-server of the test's own: the server restarted without
 * persistence under a holder (its data gone), the server unreachable. A holder killed, a holder or the server paused
 * past the TTL, and a restart with persistence are {@link FaultMatrixRedisTests}'s.
 */
@Timeout(60)
class RedisLockFaultTests {

	@TempDir
	Path temporary;

	private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

	@AfterEach
	void closeResources() throws Exception {
		for (AutoCloseable resource : reversed(this.resources)) {
			resource.close();
		}
	}

	@Test
	void holderReportsItsLeaseLostWhenRedisRestartsAndNeverHoldsItAgain() {
		RedisServerProcess server = server();
		RedisLockRepository repository = repository(server.url());
		List<LockLostEvent> lost = new CopyOnWriteArrayList<>();
		ApplicationEventPublisher events = (event) -> {
			if (event instanceof LockLostEvent lockLost) {
				lost.add(lockLost);
			}
		};
		LockTemplate template = template(repository, LockSettings.defaults()
			.withOwner("holder")
			.withTtl(Duration.ofSeconds(3))
			.withRenewInterval(Duration.ofMillis(200)), events);
		LockHandle handle = template.exclusive("restarted").acquire();
		assertThat(repository.inspect("restarted")).isPresent();
		server.restart();
		Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> !lost.isEmpty());
		assertThat(lost).singleElement().satisfies((event) -> {
			assertThat(event.getKey()).isEqualTo("restarted");
			assertThat(event.getReason()).isIn(LossReason.NOT_OWNER, LossReason.RENEWAL_FAILED);
		});
		assertThat(handle.lease().isValid()).isFalse();
		// The keeper stopped renewing the lost lease: it did not make it again on the new server.
		Awaitility.await()
			.during(Duration.ofMillis(600))
			.atMost(Duration.ofSeconds(5))
			.until(() -> repository.inspect("restarted").isEmpty());
		assertThat(repository.tryAcquire(LeaseSpec.exclusive("restarted", "next", token(), Duration.ofSeconds(30))))
			.isPresent();
	}

	@Test
	void unreachableServerFailsTheCallWithABackendException() throws IOException {
		URI nobody = URI.create("redis://127.0.0.1:" + freePort());
		RedisLockRepository repository = repository(nobody);
		LeaseSpec lease = LeaseSpec.exclusive("unreachable", "owner", token(), Duration.ofSeconds(30));
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.tryAcquire(lease))
			.withMessageStartingWith("Acquiring 'unreachable' at the Redis backend failed: ")
			.withMessageContaining(Integer.toString(nobody.getPort()))
			.satisfies((ex) -> assertThat(ex.getBackend()).isEqualTo("redis"));
		LockTemplate template = template(repository, LockSettings.defaults(), null);
		assertThatExceptionOfType(LockBackendException.class)
			.isThrownBy(() -> template.exclusive("unreachable").run(() -> {
				throw new AssertionError("Ran without the lock");
			}));
	}

	private RedisServerProcess server() {
		RedisServerProcess server = RedisServerProcess.start(this.temporary);
		this.resources.add(server);
		return server;
	}

	private RedisLockRepository repository(URI url) {
		return repository(url, Duration.ofSeconds(2));
	}

	private RedisLockRepository repository(URI url, Duration commandTimeout) {
		LettuceConnectionFactory connectionFactory = RedisTestSupport.connectionFactory(url, commandTimeout);
		this.resources.add(connectionFactory::destroy);
		RedisLockRepository repository = new RedisLockRepository(connectionFactory, "fault-test");
		this.resources.add(repository);
		return repository;
	}

	private LockTemplate template(RedisLockRepository repository, LockSettings settings,
			@Nullable ApplicationEventPublisher events) {
		LockTemplate template = new LockTemplate(repository, settings, events);
		this.resources.add(template);
		return template;
	}

	private static <T> List<T> reversed(List<T> list) {
		List<T> reversed = new java.util.ArrayList<>(list);
		java.util.Collections.reverse(reversed);
		return reversed;
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	private static String token() {
		return UUID.randomUUID().toString();
	}

}
