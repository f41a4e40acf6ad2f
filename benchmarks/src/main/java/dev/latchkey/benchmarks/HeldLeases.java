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

package dev.latchkey.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

/**
 * Many leases held at once by one instance: what their renewal costs the backend per
 * renewal interval, whether any is lost, and the heap each takes.
 * <p>
 * One repository and one {@link LockTemplate} take {@code leases} exclusive leases of
 * distinct keys with a TTL of {@code ttl} seconds (8 threads share the work), and hold
 * them all for {@code seconds}, while the backend requests of the instance are counted at
 * its client (see {@link Instances}): every one of them then is a renewal (etcd's lease
 * keep-alives included). The heap per lease is the growth of the heap in use, after
 * collections, from before the first acquisition to when all are held, divided by their
 * number: it includes what the application keeps (the handles) and what the backend's
 * client keeps for them. Optional busy threads spin on the CPU meanwhile, as other work
 * on a crowded machine would.
 *
 * <pre class="code">
 * java -cp benchmarks/target/benchmarks.jar dev.latchkey.benchmarks.HeldLeases redis 100000 3 30 2
 * </pre>
 *
 * Arguments: the backend ({@code memory}, {@code socket}, {@code socket-remote} (the
 * arbiter in a child JVM), {@code redis}, {@code redis-cluster}, {@code postgresql},
 * {@code mariadb}, {@code etcd} or {@code etcd-cluster}; see {@link Instances}), leases,
 * TTL in seconds, seconds to hold them (10 by default), busy threads (none by default).
 */
public final class HeldLeases {

	private static final int ACQUIRERS = 8;

	private HeldLeases() {
	}

	public static void main(String[] args) throws Exception {
		if (args.length < 3) {
			System.err.println(
					"Usage: HeldLeases memory|socket|socket-remote|redis|redis-cluster|postgresql|mariadb|etcd|etcd-cluster leases "
							+ "ttl-seconds " + "[seconds] [busy-threads]");
			System.exit(2);
		}
		String backend = args[0];
		int leases = Integer.parseInt(args[1]);
		Duration ttl = Duration.ofSeconds(Long.parseLong(args[2]));
		Duration hold = Duration.ofSeconds((args.length > 3) ? Long.parseLong(args[3]) : 10);
		int busy = (args.length > 4) ? Integer.parseInt(args[4]) : 0;
		AtomicBoolean spinning = new AtomicBoolean(true);
		for (int i = 0; i < busy; i++) {
			Thread spinner = new Thread(() -> {
				while (spinning.get()) {
					Thread.onSpinWait();
				}
			}, "busy-" + i);
			spinner.setDaemon(true);
			spinner.start();
		}
		try (Instances instances = new Instances(backend, "held-leases")) {
			LockSettings settings = LockSettings.defaults().withOwner("held-leases").withTtl(ttl);
			LockTemplate template = new LockTemplate(instances.repository(0), settings, null);
			instances.closeLater(template);
			hold(backend, template, instances.requests(), leases, settings, hold, busy);
		}
		finally {
			spinning.set(false);
		}
		System.exit(0);
	}

	private static void hold(String backend, LockTemplate template, Instances.Requests requests, int leases,
			LockSettings settings, Duration hold, int busy) throws InterruptedException {
		long heapBefore = usedHeapAfterCollection();
		LockHandle[] handles = new LockHandle[leases];
		CountDownLatch taken = new CountDownLatch(ACQUIRERS);
		CountDownLatch release = new CountDownLatch(1);
		CountDownLatch released = new CountDownLatch(ACQUIRERS);
		AtomicLong failures = new AtomicLong();
		long started = System.nanoTime();
		for (int a = 0; a < ACQUIRERS; a++) {
			int first = a;
			Thread acquirer = new Thread(() -> {
				try {
					for (int i = first; i < leases; i += ACQUIRERS) {
						handles[i] = template.exclusive("held-" + i).waitTime(Duration.ZERO).acquire();
					}
				}
				catch (RuntimeException ex) {
					failures.incrementAndGet();
					System.out.println("acquiring: " + ex);
				}
				finally {
					taken.countDown();
				}
				// Each handle is closed by the thread that took it.
				try {
					release.await();
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				for (int i = first; i < leases; i += ACQUIRERS) {
					if (handles[i] != null) {
						try {
							handles[i].close();
						}
						catch (RuntimeException ex) {
							// Lost, and counted below.
						}
					}
				}
				released.countDown();
			}, "acquirer-" + a);
			acquirer.setDaemon(true);
			acquirer.start();
		}
		taken.await();
		double acquiringSeconds = (System.nanoTime() - started) / 1e9;
		// The lowest of readings spread over a renewal interval: a renewal in flight
		// keeps its request and answer alive through a collection.
		Duration interval = settings.renewIntervalFor(settings.ttl());
		long heapHeld = Long.MAX_VALUE;
		for (int i = 0; i < 4; i++) {
			heapHeld = Math.min(heapHeld, usedHeapAfterCollection());
			Thread.sleep(interval.toMillis() / 4);
		}
		// Every lease has been renewed once before counting starts, so that counting
		// covers whole renewal intervals of leases taken at different times.
		Thread.sleep(interval.toMillis());
		requests.begin();
		long countingStarted = System.nanoTime();
		long worstLagNanos = 0;
		while (System.nanoTime() - countingStarted < hold.toNanos()) {
			Thread.sleep(100);
			long lag = template.timeSinceLastRenewal().map(Duration::toNanos).orElse(0L);
			worstLagNanos = Math.max(worstLagNanos, lag);
		}
		double counted = (System.nanoTime() - countingStarted) / 1e9;
		long renewals = requests.end();
		long lost = template.lostLeaseCount();
		long invalid = 0;
		for (LockHandle handle : handles) {
			if (handle != null && !handle.lease().isValid()) {
				if (invalid++ == 0) {
					// Says why at once: the lease is lost already.
					handle.onLost((loss) -> System.out.println("first lost lease: " + loss.getMessage()
							+ ((loss.getCause() != null) ? "; cause: " + loss.getCause() : "")));
				}
			}
		}
		int held = template.heldLeaseCount();
		release.countDown();
		released.await(5, TimeUnit.MINUTES);
		double ticks = counted / (interval.toNanos() / 1e9);
		System.out.printf(Locale.ROOT,
				"%s, %,d leases held by one instance, TTL %s (renewed every %s), %s counted,"
						+ " %d busy threads, JDK %s%n",
				backend, leases, settings.ttl(), interval, hold, busy, System.getProperty("java.version"));
		System.out.printf(Locale.ROOT, "acquired in %.1f s (%,.0f/s), %d acquirer(s) failed%n", acquiringSeconds,
				leases / acquiringSeconds, failures.get());
		System.out.printf(Locale.ROOT, "heap per held lease: %,.0f B (%,d MB for all)%n",
				(heapHeld - heapBefore) / (double) leases, (heapHeld - heapBefore) >> 20);
		System.out.printf(Locale.ROOT, "renewal requests: %,d in %.1f s = %,.1f per renewal interval%n", renewals,
				counted, renewals / ticks);
		System.out.printf(Locale.ROOT, "longest time since the last answered renewal: %,d ms%n",
				TimeUnit.NANOSECONDS.toMillis(worstLagNanos));
		System.out.printf(Locale.ROOT, "lost: %,d (still held %,d, invalid handles %,d)%n", lost, held, invalid);
		System.out.println("uptime load: " + loadAverage());
	}

	private static long usedHeapAfterCollection() throws InterruptedException {
		long used = Long.MAX_VALUE;
		for (int i = 0; i < 3; i++) {
			Thread.sleep(100);
			System.gc();
			// Read at once: what is allocated after the collection is not held.
			used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
		}
		return used;
	}

	private static String loadAverage() {
		try {
			return Files.readString(Path.of("/proc/loadavg")).trim();
		}
		catch (IOException ex) {
			return "unknown";
		}
	}

}
