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

package dev.latchkey.socket;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.test.ChildProcess;
import dev.latchkey.test.ChildSections;
import dev.latchkey.test.ForwardingLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The socket backend across processes: child JVMs ({@link SocketLockChild}) lock through
 * the same directory as this one, and are killed with SIGKILL to play crashes of holders
 * and of the arbiter.
 */
@Timeout(120)
class SocketLockProcessTests {

	private static final LogAccessor logger = new LogAccessor(SocketLockProcessTests.class);

	private static final Duration START = Duration.ofSeconds(60);

	@TempDir
	Path temporary;

	private final List<ChildProcess> children = new ArrayList<>();

	private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

	private final List<Path> directories = new ArrayList<>();

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@AfterEach
	void stopEverything() throws Exception {
		this.children.forEach(ChildProcess::close);
		for (AutoCloseable resource : this.resources) {
			resource.close();
		}
		this.executor.shutdownNow();
	}

	@Test
	void processesIncrementingACounterUnderTheLockLoseNoUpdate() throws Exception {
		Path directory = directory("locks");
		SocketLockRepository repository = repository(directory);
		// This JVM serves the lock table, so a child that finishes does not take the
		// others' leases with it.
		repository.inspect("counter");
		assertThat(repository.isArbiter()).isTrue();
		Path counter = this.temporary.resolve("counter");
		Files.writeString(counter, "0");
		List<ChildProcess> counting = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			counting.add(start("count", directory.toString(), counter.toString(), "30"));
		}
		LockTemplate template = template(repository, LockSettings.defaults());
		int mine = 0;
		long deadline = System.nanoTime() + START.toNanos();
		while ((mine < 10 || counting.stream().anyMatch((child) -> child.process().isAlive()))
				&& System.nanoTime() - deadline < 0) {
			template.exclusive("counter")
				.waitTime(Duration.ofSeconds(30))
				.run(() -> ChildSections.increment(counter, 1));
			mine++;
		}
		for (ChildProcess child : counting) {
			child.awaitLine("DONE", START);
			assertThat(child.awaitExit(START)).as("exit code of child %d", child.pid()).isZero();
		}
		assertThat(Integer.parseInt(Files.readString(counter).trim())).isEqualTo(90 + mine);
		assertThat(repository.stats().grants()).isGreaterThanOrEqualTo(90L + mine);
		logger.info("Counter incremented 90 times by 3 child processes and " + mine + " times by this JVM");
	}

	@Test
	void killingAHolderGrantsItsLockToTheQueuedWaiterAtOnce() throws Exception {
		killingAHolderHandsItsLockToAWaiter(true);
	}

	@Test
	void killingAHolderWakesAWaiterSubscribedToReleases() throws Exception {
		killingAHolderHandsItsLockToAWaiter(false);
	}

	private void killingAHolderHandsItsLockToAWaiter(boolean queued) throws Exception {
		Path directory = directory("locks");
		SocketLockRepository repository = repository(directory);
		repository.inspect("k");
		assertThat(repository.isArbiter()).isTrue();
		ChildProcess holder = start("hold", directory.toString(), "k");
		long heldToken = token(holder.awaitLine("HELD ", START));
		CountDownLatch waiting = new CountDownLatch(1);
		// Polls far apart: only the arbiter (granting to its queue, or pushing the
		// release) can make the waiter's grant come within the bound below.
		LockRepository signalling = queued ? new QueueSignallingRepository(repository, waiting)
				: new SignallingRepository(repository, waiting);
		LockTemplate template = template(signalling, slowPolling());
		CompletableFuture<long[]> grant = acquireAsync(template, "k", Duration.ofSeconds(20));
		assertThat(waiting.await(30, TimeUnit.SECONDS)).isTrue();
		long killedAt = System.nanoTime();
		holder.kill();
		long[] granted = grant.get(30, TimeUnit.SECONDS);
		Duration delay = Duration.ofNanos(granted[1] - killedAt);
		logger.info("Lock of a killed holder granted to the " + (queued ? "queued" : "subscribed") + " waiter "
				+ delay.toMillis() + " ms after the kill");
		assertThat(delay).isLessThan(Duration.ofSeconds(3));
		assertThat(granted[0]).isGreaterThan(heldToken);
	}

	@Test
	void killingTheArbiterCostsItsClientsNoLeaseAndElectsANewArbiterWithoutADoubleGrant() throws Exception {
		Path directory = directory("locks");
		ChildProcess arbiter = start("arbiter", directory.toString());
		assertThat(arbiter.awaitLine("ARBITER ", START)).isEqualTo("ARBITER true");
		ChildProcess holder = start("hold", directory.toString(), "k");
		long heldToken = token(holder.awaitLine("HELD ", START));
		SocketLockRepository repository = repository(directory);
		assertThat(repository.inspect("k"))
			.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::fencingToken)
				.containsExactly(heldToken));
		assertThat(repository.isArbiter()).isFalse();
		CountDownLatch waiting = new CountDownLatch(1);
		LockTemplate template = template(new QueueSignallingRepository(repository, waiting), slowPolling());
		CompletableFuture<long[]> grant = acquireAsync(template, "k", Duration.ofSeconds(60));
		assertThat(waiting.await(30, TimeUnit.SECONDS)).isTrue();
		arbiter.kill();
		// The holder keeps its lease: it re-asserts it at the new arbiter, which shows it
		// with its token.
		Awaitility.await()
			.atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(repository.inspect("k"))
				.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::fencingToken)
					.containsExactly(heldToken)));
		assertThat(holder.pollLine("LOST ", Duration.ofSeconds(2))).as("the holder lost its lease").isNull();
		assertThat(grant).as("granted while the holder still holds the key").isNotDone();
		// Exactly one process is the new arbiter; the holder and any newcomer are its
		// clients.
		holder.send("arbiter " + directory);
		boolean holderIsArbiter = Boolean.parseBoolean(holder.awaitLine("ARBITER ", START).substring(8));
		assertThat(List.of(repository.isArbiter(), holderIsArbiter)).containsOnlyOnce(true);
		ChildProcess newcomer = start("arbiter", directory.toString());
		assertThat(newcomer.awaitLine("ARBITER ", START)).isEqualTo("ARBITER false");
		// The waiter is served when the holder goes, and the fencing counter survived the
		// arbiter.
		holder.kill();
		long[] granted = grant.get(30, TimeUnit.SECONDS);
		assertThat(granted[0]).isGreaterThan(heldToken);
		try (SocketLockRepository fresh = new SocketLockRepository(directory)) {
			assertThat(fresh.inspect("k"))
				.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::fencingToken)
					.containsExactly(granted[0]));
		}
	}

	@Test
	void releaseNotificationsFollowAWaiterToTheNewArbiter() throws Exception {
		Path directory = directory("locks");
		ChildProcess first = start("arbiter", directory.toString());
		assertThat(first.awaitLine("ARBITER ", START)).isEqualTo("ARBITER true");
		SocketLockRepository repository = repository(directory);
		assertThat(repository.inspect("k")).isEmpty();
		AtomicInteger notifications = new AtomicInteger();
		ReleaseSubscription subscription = repository.subscribe("k", notifications::incrementAndGet);
		this.resources.add(0, subscription);
		first.kill();
		// A new arbiter wakes the waiters: its table may differ.
		Awaitility.await()
			.atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(notifications).hasPositiveValue());
		// The only client left takes over at once, and must watch the key at its own
		// arbiter too.
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(repository::isArbiter);
		assertThat(repository.inspect("k")).isEmpty();
		int before = notifications.get();
		ChildProcess holder = start("hold", directory.toString(), "k");
		holder.awaitLine("HELD ", START);
		holder.kill();
		Awaitility.await()
			.atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(notifications).hasValueGreaterThan(before));
	}

	@Test
	void aStaleSocketFileLeftByAKilledArbiterIsRecovered() throws Exception {
		Path directory = directory("stale");
		ChildProcess arbiter = start("arbiter", directory.toString());
		assertThat(arbiter.awaitLine("ARBITER ", START)).isEqualTo("ARBITER true");
		arbiter.kill();
		Path socket = directory.resolve(SocketLockRepository.SOCKET);
		assertThat(isSocket(socket)).as("socket file left behind").isTrue();
		SocketLockRepository repository = repository(directory);
		LeaseSpec lease = LeaseSpec.exclusive("k", "test", "token-1", Duration.ofSeconds(30));
		assertThat(repository.tryAcquire(lease)).isPresent();
		assertThat(repository.isArbiter()).isTrue();
		assertThat(repository.release(lease)).isTrue();
	}

	@Test
	void exactlyOneOfSeveralRacingProcessesBecomesTheArbiter() throws Exception {
		// Warm processes racing on fresh directories, half of them with a stale socket
		// file: many rounds, cheaply.
		List<ChildProcess> racers = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			racers.add(start("idle"));
		}
		int rounds = 30;
		int[] arbitersPerRound = new int[rounds];
		for (int round = 0; round < rounds; round++) {
			Path directory = directory("race-" + round);
			if (round % 2 == 1) {
				leaveStaleSocket(directory);
			}
			racers.forEach((racer) -> racer.send("arbiter " + directory));
			for (ChildProcess racer : racers) {
				if (racer.awaitLine("ARBITER ", START).equals("ARBITER true")) {
					arbitersPerRound[round]++;
				}
			}
		}
		// Freshly started processes racing, as at the start of several applications.
		int freshRounds = 3;
		int[] freshArbitersPerRound = new int[freshRounds];
		for (int round = 0; round < freshRounds; round++) {
			Path directory = directory("fresh-race-" + round);
			leaveStaleSocket(directory);
			List<ChildProcess> fresh = new ArrayList<>();
			for (int i = 0; i < 4; i++) {
				fresh.add(start("arbiter", directory.toString()));
			}
			for (ChildProcess racer : fresh) {
				if (racer.awaitLine("ARBITER ", START).equals("ARBITER true")) {
					freshArbitersPerRound[round]++;
				}
			}
			fresh.forEach(ChildProcess::close);
		}
		logger.info("Arbiters per election round: " + Arrays.toString(arbitersPerRound) + " (4 warm processes), "
				+ Arrays.toString(freshArbitersPerRound) + " (4 freshly started processes)");
		assertThat(arbitersPerRound).containsOnly(1);
		assertThat(freshArbitersPerRound).containsOnly(1);
	}

	@Test
	void garbageOnTheSocketClosesThatConnectionAndDisturbsNoOtherClient() throws Exception {
		Path directory = directory("garbage");
		SocketLockRepository repository = repository(directory);
		repository.inspect("k");
		assertThat(repository.isArbiter()).isTrue();
		ChildProcess holder = start("hold", directory.toString(), "k");
		long heldToken = token(holder.awaitLine("HELD ", START));
		Path socket = directory.resolve(SocketLockRepository.SOCKET);
		assertClosedByArbiter(socket, "this is not a request\n");
		assertClosedByArbiter(socket, "x".repeat(100 * 1024));
		assertClosedByArbiter(socket, "HELLO intruder\n1 ACQ\n");
		assertClosedByArbiter(socket, "1 INSPECT %zz\n");
		assertClosedByArbiter(socket, new byte[] { (byte) 0xff, (byte) 0xfe, 0, ' ', (byte) 0xc3, '\n' });
		// A well-formed request queues behind the holder; the garbage that follows
		// withdraws it with the connection.
		assertClosedByArbiter(socket, "HELLO intruder\n1 QACQ k intruder-token 0 60000 intruder\n2 QACQ k\n");
		// The holder and this JVM are the only clients left, and both are served as
		// before.
		Awaitility.await()
			.atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(repository.stats().clients()).isEqualTo(2L));
		assertThat(repository.inspect("k"))
			.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::fencingToken)
				.containsExactly(heldToken));
		LockTemplate template = template(repository, LockSettings.defaults());
		try (LockHandle other = template.exclusive("other").acquire()) {
			assertThat(other.fencingToken()).isGreaterThan(heldToken);
		}
		assertThat(repository.inspect("other")).isEmpty();
		assertThat(holder.pollLine("LOST ", Duration.ofMillis(500))).isNull();
		// Nobody stands in front of this JVM in the queue: the intruder's request (60 s
		// TTL) left with it.
		CountDownLatch waiting = new CountDownLatch(1);
		CompletableFuture<long[]> grant = acquireAsync(
				template(new QueueSignallingRepository(repository, waiting), LockSettings.defaults()), "k",
				Duration.ofSeconds(30));
		assertThat(waiting.await(30, TimeUnit.SECONDS)).isTrue();
		long killedAt = System.nanoTime();
		holder.kill();
		long[] granted = grant.get(30, TimeUnit.SECONDS);
		assertThat(Duration.ofNanos(granted[1] - killedAt)).isLessThan(Duration.ofSeconds(5));
	}

	private void assertClosedByArbiter(Path socket, String garbage) throws Exception {
		assertClosedByArbiter(socket, garbage.getBytes(StandardCharsets.UTF_8));
	}

	private void assertClosedByArbiter(Path socket, byte[] garbage) throws Exception {
		try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
			channel.connect(UnixDomainSocketAddress.of(socket));
			CompletableFuture<String> closed = CompletableFuture.supplyAsync(() -> readUntilClosed(channel),
					this.executor);
			try {
				ByteBuffer out = ByteBuffer.wrap(garbage);
				while (out.hasRemaining()) {
					channel.write(out);
				}
			}
			catch (IOException ex) {
				// Closed by the arbiter while we were still writing: as expected.
			}
			assertThat(closed.get(10, TimeUnit.SECONDS))
				.as("connection closed after %d bytes of garbage", garbage.length)
				.isNotNull();
		}
	}

	private static String readUntilClosed(SocketChannel channel) {
		ByteBuffer in = ByteBuffer.allocate(1024);
		try {
			while (channel.read(in) >= 0) {
				in.clear();
			}
			return "end of stream";
		}
		catch (IOException ex) {
			return "reset: " + ex.getMessage();
		}
	}

	private static void leaveStaleSocket(Path directory) throws IOException {
		Files.createDirectory(directory,
				PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
		Path socket = directory.resolve(SocketLockRepository.SOCKET);
		// Closing a bound unix-domain server socket leaves its file behind, as a crashed
		// arbiter does.
		try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
			server.bind(UnixDomainSocketAddress.of(socket));
		}
		assertThat(isSocket(socket)).isTrue();
	}

	private static boolean isSocket(Path path) throws IOException {
		return Files.exists(path, LinkOption.NOFOLLOW_LINKS)
				&& (((Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 0170000) == 0140000;
	}

	private CompletableFuture<long[]> acquireAsync(LockTemplate template, String key, Duration waitTime) {
		return CompletableFuture.supplyAsync(() -> {
			LockHandle handle = template.exclusive(key).waitTime(waitTime).acquire();
			long grantedAt = System.nanoTime();
			long grantedAtMillis = System.currentTimeMillis();
			this.resources.add(0, handle);
			return new long[] { handle.fencingToken(), grantedAt, grantedAtMillis };
		}, this.executor);
	}

	private static LockSettings slowPolling() {
		return LockSettings.defaults()
			.withOwner("test-jvm")
			.withPollIntervals(Duration.ofSeconds(10), Duration.ofSeconds(10));
	}

	private static long token(String held) {
		return Long.parseLong(held.substring(held.indexOf(' ') + 1));
	}

	private Path directory(String name) {
		Path directory = this.temporary.resolve(name);
		this.directories.add(directory);
		return directory;
	}

	private SocketLockRepository repository(Path directory) {
		SocketLockRepository repository = new SocketLockRepository(directory);
		this.resources.add(repository);
		return repository;
	}

	private LockTemplate template(LockRepository repository, LockSettings settings) {
		LockTemplate template = new LockTemplate(repository, settings, null);
		this.resources.add(0, template);
		return template;
	}

	private ChildProcess start(String... arguments) {
		ChildProcess child = ChildProcess.start(this.temporary, List.of(), SocketLockChild.class, arguments);
		this.children.add(child);
		return child;
	}

	/**
	 * A repository that tells when a waiter has subscribed to release notifications, so
	 * that a test can make the release happen only once the waiter listens for it. It
	 * hides the backend's own queue, so waiters subscribe.
	 */
	private static class SignallingRepository extends ForwardingLockRepository {

		final CountDownLatch waiting;

		SignallingRepository(LockRepository delegate, CountDownLatch waiting) {
			super(delegate);
			this.waiting = waiting;
		}

		@Override
		public ReleaseSubscription subscribe(String key, Runnable onRelease) {
			ReleaseSubscription subscription = delegate().subscribe(key, onRelease);
			this.waiting.countDown();
			return subscription;
		}

	}

	/**
	 * A repository that tells when a waiter stands in the arbiter's queue.
	 */
	private static final class QueueSignallingRepository extends SignallingRepository
			implements QueueingLockRepository {

		QueueSignallingRepository(SocketLockRepository delegate, CountDownLatch waiting) {
			super(delegate, waiting);
		}

		@Override
		public CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease) {
			CompletableFuture<QueuedGrant> granted = ((QueueingLockRepository) delegate()).acquireQueued(lease);
			if (!granted.isDone()) {
				this.waiting.countDown();
			}
			return granted;
		}

		@Override
		public boolean cancelQueued(LeaseSpec lease) {
			return ((QueueingLockRepository) delegate()).cancelQueued(lease);
		}

	}

}
