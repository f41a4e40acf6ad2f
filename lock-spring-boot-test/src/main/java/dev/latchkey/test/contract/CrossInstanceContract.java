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

package dev.latchkey.test.contract;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Collectors;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

import org.springframework.core.task.SimpleAsyncTaskExecutor;

import dev.latchkey.LeaseMode;
import dev.latchkey.LockContext;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.ReleaseSubscription;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract of several application instances on one store: repositories made by
 * {@link #createPeerRepository()} exclude each other under contention, with fencing
 * tokens that rise in the order of the grants, from platform and virtual threads alike.
 * Implemented by a test class that extends {@link LockRepositoryContract}:
 *
 * <pre class="code">
 * class ZookeeperLockRepositoryTests extends LockRepositoryContract implements CrossInstanceContract {
 *
 *     &#64;Override
 *     public LockRepository createRepository() {
 *         return new ZookeeperLockRepository(curator);
 *     }
 *
 * }
 * </pre>
 * <p>
 * Four repositories of two threads each make {@link #crossInstanceGrants()} grants of one
 * key (no overlap, no token inversion, no lost update of an unguarded counter, no loss);
 * on JDK 21 and later, 100 virtual threads of two repositories hold and wait for one key
 * while a JFR recording checks that no carrier thread is pinned in Latchkey's code.
 *
 * @since 0.1.0
 */
public interface CrossInstanceContract extends LockRepositoryFixture {

	/**
	 * How many grants of one key the cross-instance test makes, across all its
	 * repositories and threads. The default, 10,000, takes about a minute where every
	 * grant and release waits for a disk flush (PostgreSQL's logged table) and two on a
	 * three-member etcd cluster, on a loaded two-core machine; the test allows ten. A
	 * custom backend that is much slower may return fewer, and should say why.
	 * @return the number of grants
	 */
	default int crossInstanceGrants() {
		return 10_000;
	}

	@Test
	@Timeout(600)
	default void repositoriesOnOneStoreGrantAKeyToOneHolderAtATimeWithRisingFencingTokens() throws Exception {
		grantAcrossInstances(key("cross-instance"), crossInstanceGrants(), false);
	}

	/**
	 * The same with fair locks, on a backend that honours them
	 * ({@link QueueingLockRepository#isFair}): no overlap, no token inversion, no loss,
	 * and no thread left behind (each asks again at once after its grant, so in a strict
	 * queue each gets about one grant per round). At most 2,000 grants: the strict order
	 * itself is proven by {@link FairLockRepositoryContract}.
	 * @throws Exception if a worker fails
	 */
	@Test
	@Timeout(600)
	default void fairLocksOfSeveralInstancesGrantAKeyToOneHolderAtATimeAndLeaveNoThreadBehind() throws Exception {
		grantAcrossInstances(key("cross-instance-fair"), Math.min(crossInstanceGrants(), 2_000), true);
	}

	private void grantAcrossInstances(String key, int grants, boolean fair) throws Exception {
		int instances = 4;
		int threadsPerInstance = 2;
		List<LockRepository> peers = new ArrayList<>();
		List<LockTemplate> templates = new ArrayList<>();
		ExecutorService executor = Executors.newCachedThreadPool();
		try {
			List<LockRepository> repositories = new ArrayList<>(List.of(repository()));
			for (int i = 1; i < instances; i++) {
				LockRepository peer = createPeerRepository();
				peers.add(peer);
				repositories.add(peer);
			}
			if (fair) {
				Assumptions.assumeTrue(
						repositories.stream()
							.allMatch((each) -> each instanceof QueueingLockRepository queueing
									&& queueing.isFair(LeaseMode.EXCLUSIVE)),
						"The backend does not honour fair locks across instances");
			}
			for (int i = 0; i < instances; i++) {
				templates.add(Contracts.template(repositories.get(i), "cross-instance-" + (i + 1), Duration.ofMillis(1),
						Duration.ofMillis(20), fair));
			}
			AtomicBoolean occupied = new AtomicBoolean();
			AtomicInteger overlaps = new AtomicInteger();
			AtomicInteger order = new AtomicInteger();
			int[] counter = { 0 };
			long[] tokens = new long[grants + instances * threadsPerInstance];
			CountDownLatch start = new CountDownLatch(1);
			List<Future<?>> workers = new ArrayList<>();
			AtomicIntegerArray perThread = new AtomicIntegerArray(instances * threadsPerInstance);
			// Each thread's grants when the last thread had its first: a thread that
			// joined the queue late (its instance started late on a loaded machine) has
			// nothing to catch up on in a strict queue, so the spread is measured after.
			AtomicIntegerArray atLastFirstGrant = new AtomicIntegerArray(perThread.length());
			AtomicInteger threadsGranted = new AtomicInteger();
			for (LockTemplate template : templates) {
				for (int t = 0; t < threadsPerInstance; t++) {
					int thread = workers.size();
					workers.add(executor.submit(() -> {
						start.await();
						while (order.get() < grants) {
							template.exclusive(key).waitTime(Duration.ofSeconds(60)).run(() -> {
								if (perThread.incrementAndGet(thread) == 1
										&& threadsGranted.incrementAndGet() == perThread.length()) {
									for (int i = 0; i < perThread.length(); i++) {
										atLastFirstGrant.set(i, perThread.get(i));
									}
								}
								if (!occupied.compareAndSet(false, true)) {
									overlaps.incrementAndGet();
								}
								int read = counter[0];
								Thread.yield();
								counter[0] = read + 1;
								tokens[order.getAndIncrement()] = LockContext.fencingToken();
								occupied.set(false);
							});
						}
						return null;
					}));
				}
			}
			start.countDown();
			for (Future<?> worker : workers) {
				worker.get(590, TimeUnit.SECONDS);
			}
			int granted = order.get();
			int inversions = 0;
			long highest = 0;
			for (int i = 0; i < granted; i++) {
				if (tokens[i] <= highest) {
					inversions++;
				}
				highest = Math.max(highest, tokens[i]);
			}
			assertThat(granted).isGreaterThanOrEqualTo(grants);
			assertThat(overlaps.get()).as("grants made while another holder was inside, of %d grants", granted)
				.isZero();
			assertThat(inversions)
				.as("grants whose fencing token was not above every earlier grant's, of %d grants", granted)
				.isZero();
			assertThat(counter[0]).as("unguarded increments that survived, of %d grants", granted).isEqualTo(granted);
			assertThat(templates).allSatisfy((template) -> assertThat(template.lostLeaseCount()).isZero());
			assertThat(repository().inspect(key)).isEmpty();
			if (fair) {
				assertThat(threadsGranted.get()).as("threads granted at least once (%s)", perThread)
					.isEqualTo(perThread.length());
				int fewest = Integer.MAX_VALUE;
				int most = 0;
				for (int i = 0; i < perThread.length(); i++) {
					int since = perThread.get(i) - atLastFirstGrant.get(i);
					fewest = Math.min(fewest, since);
					most = Math.max(most, since);
				}
				assertThat(most - fewest)
					.as("the most grants a thread had over the fewest once every thread was in the queue (%s in"
							+ " all, %s when the last had its first), of %d grants in all", perThread, atLastFirstGrant,
							granted)
					.isLessThanOrEqualTo(Math.max(5, granted / 50));
			}
		}
		finally {
			executor.shutdownNow();
			templates.forEach(LockTemplate::close);
			peers.forEach(this::destroyRepository);
		}
	}

	@Test
	@EnabledForJreRange(min = JRE.JAVA_21)
	@Timeout(300)
	default void virtualThreadsOfSeveralInstancesHoldAndWaitForAKeyWithoutPinningTheirCarriers() throws Exception {
		int instances = 2;
		int threadsPerInstance = 50;
		int grants = 2_000;
		String key = key("virtual");
		List<LockRepository> peers = new ArrayList<>();
		List<LockTemplate> templates = new ArrayList<>();
		templates
			.add(Contracts.template(repository(), "cross-instance-1", Duration.ofMillis(1), Duration.ofMillis(20)));
		SimpleAsyncTaskExecutor virtualThreads = new SimpleAsyncTaskExecutor("contract-virtual-");
		virtualThreads.setVirtualThreads(true);
		Path events = Files.createTempFile("latchkey-pinning-", ".jfr");
		try (Recording recording = new Recording()) {
			recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
			for (int i = 1; i < instances; i++) {
				LockRepository peer = createPeerRepository();
				peers.add(peer);
				templates.add(Contracts.template(peer, "cross-instance-" + (i + 1), Duration.ofMillis(1),
						Duration.ofMillis(20)));
			}
			// A warm-up runs every path once before the recording (a grant, and the
			// release subscription that waiting opens): the JDK pins a virtual thread
			// while it links a call site or loads a class, once per site, whoever's code
			// it is.
			for (LockTemplate template : templates) {
				virtualThreads.submit(() -> template.exclusive(key).run(LockContext::assertHeld))
					.get(60, TimeUnit.SECONDS);
			}
			List<LockRepository> instancesRepositories = new ArrayList<>(peers);
			instancesRepositories.add(repository());
			for (LockRepository each : instancesRepositories) {
				virtualThreads.submit(() -> {
					try (ReleaseSubscription subscription = each.subscribe(key, () -> {
					})) {
						return subscription;
					}
				}).get(60, TimeUnit.SECONDS);
			}
			AtomicBoolean occupied = new AtomicBoolean();
			AtomicInteger overlaps = new AtomicInteger();
			AtomicInteger granted = new AtomicInteger();
			AtomicInteger platformThreads = new AtomicInteger();
			Method isVirtual = Thread.class.getMethod("isVirtual");
			recording.start();
			List<Future<?>> workers = new ArrayList<>();
			for (LockTemplate template : templates) {
				for (int t = 0; t < threadsPerInstance; t++) {
					workers.add(virtualThreads.submit(() -> {
						if (!(boolean) isVirtual.invoke(Thread.currentThread())) {
							platformThreads.incrementAndGet();
						}
						while (granted.get() < grants) {
							template.exclusive(key).waitTime(Duration.ofSeconds(60)).run(() -> {
								if (!occupied.compareAndSet(false, true)) {
									overlaps.incrementAndGet();
								}
								granted.incrementAndGet();
								LockContext.assertHeld();
								occupied.set(false);
							});
						}
						return null;
					}));
				}
			}
			for (Future<?> worker : workers) {
				worker.get(280, TimeUnit.SECONDS);
			}
			recording.stop();
			recording.dump(events);
			List<RecordedEvent> pinned = RecordingFile.readAllEvents(events);
			// The JDK still pins a virtual thread while a class loads or initializes, or
			// while a method handle is linked or customized (JEP 491), once per class or
			// site, whoever's code asked for it: the warm-up above loaded most of them,
			// but not those of paths that only contention reaches (an etcd writer wait
			// renewed after a third of its TTL). A pin inside a client library (Lettuce
			// records JFR events of its own while it connects) is the library's.
			List<String> ours = pinned.stream()
				.map(RecordedEvent::getStackTrace)
				.filter((trace) -> trace != null && !loadsAClass(trace) && !linksACallSite(trace)
						&& pinnedByLatchkey(trace))
				.map((trace) -> trace.getFrames()
					.stream()
					.limit(12)
					.map((frame) -> frame.getMethod().getType().getName() + "." + frame.getMethod().getName())
					.collect(Collectors.joining(" < ")))
				.toList();
			assertThat(platformThreads.get()).as("workers that did not run on a virtual thread").isZero();
			assertThat(overlaps.get()).as("grants made while another holder was inside").isZero();
			assertThat(templates).allSatisfy((template) -> assertThat(template.lostLeaseCount()).isZero());
			assertThat(ours)
				.as("carriers pinned (jdk.VirtualThreadPinned) in Latchkey's code, of %d pinning events in" + " all",
						pinned.size())
				.isEmpty();
		}
		finally {
			Files.deleteIfExists(events);
			templates.forEach(LockTemplate::close);
			peers.forEach(this::destroyRepository);
		}
	}

	private static boolean pinnedByLatchkey(RecordedStackTrace trace) {
		return trace.getFrames()
			.stream()
			.map((frame) -> frame.getMethod().getType().getName())
			.filter((type) -> !type.startsWith("java.") && !type.startsWith("jdk.") && !type.startsWith("sun."))
			.findFirst()
			.filter((type) -> type.startsWith("dev.latchkey."))
			.isPresent();
	}

	/**
	 * Whether the thread was pinned while the JDK linked or customized a method handle
	 * for a method of Latchkey's, once per site, like a class load. Either the frames
	 * above Latchkey's are all {@code java.lang.invoke} (a lambda's call site linked,
	 * whose frames the recording hides, or a record's generated {@code equals} recompiled
	 * after so many calls), or the virtual machine called up into
	 * {@code MethodHandleNatives} to resolve a call site's type: that upcall has a native
	 * frame under it, so whatever the JDK blocks on above it (a contended
	 * {@code ReferenceQueue} while it interns a {@code MethodType}) pins the carrier. A
	 * thread that blocks in Latchkey's own code while pinned shows where it blocked (a
	 * park, a wait, a read) above Latchkey's frame with no such upcall in between.
	 */
	private static boolean linksACallSite(RecordedStackTrace trace) {
		boolean onlyInvokeFrames = true;
		for (RecordedFrame frame : trace.getFrames()) {
			String type = frame.getMethod().getType().getName();
			if ("java.lang.invoke.MethodHandleNatives".equals(type)) {
				return true;
			}
			if (type.startsWith("dev.latchkey.")) {
				return onlyInvokeFrames;
			}
			onlyInvokeFrames &= type.startsWith("java.lang.invoke.");
		}
		return false;
	}

	private static boolean loadsAClass(RecordedStackTrace trace) {
		return trace.getFrames().stream().anyMatch((frame) -> {
			String method = frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
			return method.startsWith("java.lang.ClassLoader.loadClass")
					|| "jdk.internal.loader.BuiltinClassLoader.loadClassOrNull".equals(method)
					|| "jdk.internal.misc.Unsafe.ensureClassInitialized0".equals(method);
		});
	}

}
