package dev.latchkey.redis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.core.log.LogAccessor;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.test.ChildProcess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The Redis backend under faults, each on a redis-server of the test's own: the server restarted under a holder, the
 * server paused past a holder's TTL, the server unreachable, a holder process killed.
 */
@Timeout(60)
class RedisLockFaultTests {

	private static final LogAccessor logger = new LogAccessor(RedisLockFaultTests.class);

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
	void holderOfAPausedServerReportsItsLossBeforeAnotherHolderIsGrantedTheKey() throws Exception {
		RedisServerProcess server = server();
		// A short command timeout, so that renewals against the paused server fail quickly and are retried.
		RedisLockRepository repository = repository(server.url(), Duration.ofMillis(200));
		RedisLockRepository next = repository(server.url());
		// Connect the second holder before the pause, so that its first call after the pause is the acquisition.
		assertThat(next.inspect("paused")).isEmpty();
		List<LockLostEvent> lost = new CopyOnWriteArrayList<>();
		long[] lostAt = { 0 };
		ApplicationEventPublisher events = (event) -> {
			if (event instanceof LockLostEvent lockLost) {
				lostAt[0] = System.nanoTime();
				lost.add(lockLost);
			}
		};
		Duration ttl = Duration.ofSeconds(1);
		LockTemplate template = template(repository,
				LockSettings.defaults().withOwner("holder").withTtl(ttl).withRenewInterval(Duration.ofMillis(300)),
				events);
		LockHandle handle = template.exclusive("paused").acquire();
		long heldToken = handle.fencingToken();
		signal("STOP", server.pid());
		long pausedAt = System.nanoTime();
		try {
			// Past the TTL: the key expires on the server's clock, which runs on while the process is stopped.
			Thread.sleep(ttl.plusMillis(600).toMillis());
		}
		finally {
			signal("CONT", server.pid());
		}
		LeaseSpec spec = LeaseSpec.exclusive("paused", "next", token(), Duration.ofSeconds(30));
		OptionalLong[] granted = { OptionalLong.empty() };
		Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> {
			granted[0] = next.tryAcquire(spec);
			return granted[0].isPresent();
		});
		long grantedAt = System.nanoTime();
		assertThat(lost).as("loss reported by the holder").singleElement().satisfies((event) -> {
			assertThat(event.getKey()).isEqualTo("paused");
			assertThat(event.getReason()).isEqualTo(LossReason.RENEWAL_FAILED);
			assertThat(event.getFencingToken()).isEqualTo(heldToken);
		});
		logger.info(() -> "Holder of a paused server reported its loss "
				+ TimeUnit.NANOSECONDS.toMillis(lostAt[0] - pausedAt) + " ms after the pause; the next holder was"
				+ " granted the key " + TimeUnit.NANOSECONDS.toMillis(grantedAt - pausedAt) + " ms after it");
		assertThat(lostAt[0]).as("loss reported before the next grant").isLessThan(grantedAt);
		assertThat(handle.lease().isValid()).isFalse();
		assertThat(granted[0].getAsLong()).isGreaterThan(heldToken);
		// The lost holder's renewals, queued while the server was stopped, did not take the key back.
		assertThat(next.inspect("paused")).hasValueSatisfying(
				(info) -> assertThat(info.holders()).singleElement().satisfies((holder) -> {
					assertThat(holder.owner()).isEqualTo("next");
					assertThat(holder.fencingToken()).isEqualTo(granted[0].getAsLong());
				}));
	}

	@Test
	void acquireWhoseAnswerWasLostToAPauseLeavesTheKeyFreeSoonAfterTheServerResumes() throws Exception {
		RedisServerProcess server = server();
		// The command timeout is far below the pause: the acquire is sent, the client gives up on it, and the paused
		// server runs it when it resumes.
		RedisLockRepository repository = repository(server.url(), Duration.ofMillis(300));
		RedisLockRepository next = repository(server.url());
		// Connect both before the pause, and load the scripts: a server that does not know a script answers EVALSHA
		// with NOSCRIPT when it resumes, and the EVAL that would follow is never sent.
		warmUp(repository);
		warmUp(next);
		Duration ttl = Duration.ofSeconds(60);
		LockTemplate template = template(repository, LockSettings.defaults().withOwner("lost-answer").withTtl(ttl),
				null);
		signal("STOP", server.pid());
		long resumedAt;
		try {
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> template.exclusive("answer-lost").acquire())
				.withMessageStartingWith("Acquiring 'answer-lost' at the Redis backend failed: ");
			Thread.sleep(1500);
		}
		finally {
			signal("CONT", server.pid());
			resumedAt = System.nanoTime();
		}
		// The acquire did run when the server resumed (its 60 s lease would keep the key idle); the template, which
		// knows the token it sent, gives it back as soon as the server answers again.
		LeaseSpec spec = LeaseSpec.exclusive("answer-lost", "next", token(), Duration.ofSeconds(30));
		OptionalLong[] granted = { OptionalLong.empty() };
		Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
			granted[0] = next.tryAcquire(spec);
			return granted[0].isPresent();
		});
		logger.info(() -> "Key of an acquire whose answer was lost was granted to the next holder "
				+ TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumedAt) + " ms after the server resumed");
		// The lost acquire was granted on the server: the next holder's token is the second of the key.
		assertThat(granted[0].getAsLong()).isEqualTo(2);
		assertThat(next.release(spec)).isTrue();
	}

	@Test
	void repositoryAloneKeepsTheKeyOfAnAcquireWhoseAnswerWasLostForItsTtl() throws Exception {
		RedisServerProcess server = server();
		RedisLockRepository repository = repository(server.url(), Duration.ofMillis(300));
		RedisLockRepository next = repository(server.url());
		warmUp(repository);
		warmUp(next);
		LeaseSpec lost = LeaseSpec.exclusive("answer-lost", "lost-answer", token(), Duration.ofSeconds(60));
		signal("STOP", server.pid());
		try {
			// The SPI makes single attempts and never retries or schedules: LockTemplate gives such a lease back.
			assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.tryAcquire(lost));
		}
		finally {
			signal("CONT", server.pid());
		}
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> next.inspect("answer-lost").isPresent());
		assertThat(next.inspect("answer-lost")).hasValueSatisfying((info) -> assertThat(info.holders())
			.singleElement()
			.satisfies((holder) -> {
				assertThat(holder.owner()).isEqualTo("lost-answer");
				assertThat(holder.remainingTtl()).isGreaterThan(Duration.ofSeconds(50));
			}));
		assertThat(repository.release(lost)).isTrue();
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

	@Test
	void killedHolderFreesItsKeyAfterItsTtlAndNotBefore() throws Exception {
		RedisServerProcess server = server();
		RedisLockRepository repository = repository(server.url());
		Duration ttl = Duration.ofSeconds(2);
		ChildProcess holder = startHolder(server.url(), "killed", ttl);
		long heldToken = Long.parseLong(holder.awaitLine("HELD ", Duration.ofSeconds(40)).substring("HELD ".length()));
		holder.kill();
		assertThat(holder.process().isAlive()).isFalse();
		long killedAt = System.nanoTime();
		LockInfo.Holder killed = repository.inspect("killed").orElseThrow().holders().get(0);
		assertThat(killed.fencingToken()).isEqualTo(heldToken);
		Duration remaining = killed.remainingTtl();
		assertThat(remaining).isPositive().isLessThanOrEqualTo(ttl);
		LeaseSpec next = LeaseSpec.exclusive("killed", "next", token(), Duration.ofSeconds(30));
		OptionalLong[] granted = { OptionalLong.empty() };
		Awaitility.await().atMost(ttl.plusSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> {
			granted[0] = repository.tryAcquire(next);
			return granted[0].isPresent();
		});
		Duration freedAfter = Duration.ofNanos(System.nanoTime() - killedAt);
		logger.info(() -> "Key of a killed holder with " + remaining.toMillis() + " ms of its TTL left was granted "
				+ freedAfter.toMillis() + " ms after the kill");
		// Not before its TTL ran out (inspected after the kill, so the true remainder was at most this), and not long
		// after.
		assertThat(freedAfter).isGreaterThanOrEqualTo(remaining.minusMillis(50));
		assertThat(freedAfter).isLessThan(ttl.plusSeconds(2));
		assertThat(granted[0].getAsLong()).isGreaterThan(heldToken);
	}

	private static void warmUp(RedisLockRepository repository) {
		LeaseSpec lease = LeaseSpec.exclusive("warm-up", "warm-up", token(), Duration.ofSeconds(30));
		assertThat(repository.tryAcquire(lease)).isPresent();
		assertThat(repository.inspect("warm-up")).isPresent();
		assertThat(repository.release(lease)).isTrue();
	}

	private ChildProcess startHolder(URI url, String key, Duration ttl) {
		ChildProcess holder = ChildProcess.start(this.temporary, List.of(), RedisLockChild.class, url.toString(), "fault-test",
				key, Long.toString(ttl.toMillis()));
		this.resources.add(holder);
		return holder;
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

	private static void signal(String signal, long pid) throws Exception {
		Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
		assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
		assertThat(kill.exitValue()).as("kill -%s %s", signal, pid).isZero();
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
