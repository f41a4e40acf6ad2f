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

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;

import dev.latchkey.LockContext;
import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockLostException;
import dev.latchkey.LockObserver;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.test.ChildSections;
import dev.latchkey.test.FencedStore;

/**
 * A process that locks through the socket backend, for the multi-process tests: started
 * by {@link dev.latchkey.test.ChildProcess} with the test's class path. Its standard
 * output is its interface with the test (one line per event); logging goes to standard
 * error. It exits when its standard input closes, so it never outlives the test JVM for
 * long.
 * <p>
 * Commands (arguments):
 * <ul>
 * <li>{@code count <directory> <file> <iterations>}: increments the integer in
 * {@code file} under the exclusive lock {@code counter}, without any other guard (read,
 * sleep 1 ms, write), prints {@code DONE} and exits 0.</li>
 * <li>{@code hold <directory> <key>}: acquires the key, prints
 * {@code HELD <fencingToken>}, then serves standard input; prints
 * {@code LOST <key> <reason> <wallClockMillis>} when the lease is lost.</li>
 * <li>{@code arbiter <directory>}: connects (electing itself if nobody serves the
 * directory), prints {@code ARBITER true|false}, then serves standard input.</li>
 * <li>{@code idle}: serves standard input.</li>
 * <li>{@code work <directory> <key> <counter> <store> <holdMillis>}: holds a lease on
 * {@code own-<pid>} all along (taken again in its next round when lost) and, on a worker
 * thread, loops until told to stop: acquires the key (wait 30 s, TTL 3 s, renewed every
 * 500 ms), writes its fencing token to the {@link FencedStore} {@code store}, increments
 * the integer in {@code counter} without any other guard (read, sleep {@code holdMillis},
 * write by an atomic rename so that a kill never leaves half a number), then prints
 * {@code DID <fencingToken> <valueWritten>}. Prints {@code WORKING} after its first
 * round, {@code LOST <key> <reason> <fencingToken>} for each lost lease
 * ({@code LockLostEvent}), {@code ABORTED <reason>} when a round ended in a
 * {@code LockLostException} and {@code ERROR <exception>} when it failed otherwise; it
 * carries on after each.</li>
 * <li>{@code waitfor <directory> <key> <ttlMillis> <waitMillis> <store>}: prints
 * {@code WAITING <deadlineEpochMillis>}, then acquires the key once, waiting up to
 * {@code waitMillis} (in the arbiter's queue), with the given TTL. Granted, it runs its
 * critical section: writes its fencing token to the {@link FencedStore} {@code store},
 * prints {@code RAN <fencingToken> <accepted>} and releases (printing
 * {@code ABORTED <reason>} if the lease turns out lost); otherwise prints
 * {@code NOT_ACQUIRED}. Then serves standard input.</li>
 * <li>{@code guard <directory> <key> <ttlMillis> <store>}: acquires the key (wait 30 s,
 * the given TTL, renewed every third of it) and runs a critical section that, every 50
 * ms, checks the lease ({@code LockContext.assertHeld()}) and writes its fencing token to
 * the {@link FencedStore} {@code store}. Prints {@code HELD <fencingToken>} when granted,
 * {@code WROTE <fencingToken> <accepted>} after its first write,
 * {@code LOST <key> <reason> <fencingToken>} when the lease is lost
 * ({@code LockLostEvent}), {@code ASSERT_FAILED <reason> <epochMillis>} when the check
 * fails, and {@code ENDED <how>} when the critical section is over. Then serves standard
 * input.</li>
 * <li>{@code try <directory> <key>}: makes one attempt (wait time 0) on the key, prints
 * {@code GRANTED <fencingToken>} or {@code NOT_GRANTED}, then exits normally: releases,
 * closes its template and repository, {@code System.exit(0)}.</li>
 * </ul>
 * Standard input (one command a line): {@code arbiter <directory>} (as above),
 * {@code inspect <directory> <key>} (prints {@code INFO <key> <fencingToken>...} or
 * {@code NONE <key>}), {@code exit}, and:
 * <ul>
 * <li>{@code exit-clean}: a normal exit. A {@code work} loop first finishes its round (so
 * that no critical section runs on) and releases its own lease, then its template and
 * every repository are closed, then {@code System.exit(0)}.</li>
 * <li>{@code exit-abrupt}: {@code System.exit(0)} without closing anything. A
 * {@code work} loop exits in its next critical section, after its {@code DID} line, while
 * it holds the lock.</li>
 * <li>{@code stop}: a {@code work} loop finishes its round, releases its own lease,
 * closes its template and prints {@code STOPPED}; the process stays.</li>
 * </ul>
 */
final class SocketLockChild {

	private static final PrintStream protocol = System.out;

	private static final Map<Path, SocketLockRepository> repositories = new ConcurrentHashMap<>();

	private static final List<LockHandle> held = new ArrayList<>();

	private static final List<LockTemplate> templates = new ArrayList<>();

	/**
	 * What standard input asked a {@code work} loop to do; {@code null} while it should
	 * carry on.
	 */
	private static volatile @Nullable String exit;

	private static volatile @Nullable Thread worker;

	private SocketLockChild() {
	}

	public static void main(String[] args) throws Exception {
		// Standard output carries the protocol: keep log output away from it.
		System.setOut(System.err);
		switch (args[0]) {
			case "count" -> count(Path.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]));
			case "hold" -> hold(Path.of(args[1]), args[2]);
			case "arbiter" -> arbiter(Path.of(args[1]));
			case "idle" -> {
			}
			case "work" -> work(Path.of(args[1]), args[2], Path.of(args[3]), Path.of(args[4]), Long.parseLong(args[5]));
			case "waitfor" -> waitFor(Path.of(args[1]), args[2], Duration.ofMillis(Long.parseLong(args[3])),
					Duration.ofMillis(Long.parseLong(args[4])), Path.of(args[5]));
			case "guard" ->
				guard(Path.of(args[1]), args[2], Duration.ofMillis(Long.parseLong(args[3])), Path.of(args[4]));
			case "try" -> tryOnce(Path.of(args[1]), args[2]);
			default -> throw new IllegalArgumentException("Unknown command " + args[0]);
		}
		serve();
	}

	private static void count(Path directory, Path file, int iterations) {
		try (LockTemplate template = new LockTemplate(repository(directory), settings(), null)) {
			for (int i = 0; i < iterations; i++) {
				template.exclusive("counter")
					.waitTime(Duration.ofSeconds(30))
					.run(() -> ChildSections.increment(file, 1));
			}
		}
		print("DONE");
		System.exit(0);
	}

	private static void work(Path directory, String key, Path counter, Path store, long holdMillis) {
		SocketLockRepository repository = repository(directory);
		LockTemplate template = new LockTemplate(repository,
				settings().withTtl(Duration.ofSeconds(3)).withRenewInterval(Duration.ofMillis(500)), lossPrinter());
		String writer = "pid-" + ProcessHandle.current().pid();
		// A lease of its own, held all along (taken again when lost): a process holds
		// leases whenever another leaves.
		LockHandle[] own = { template.exclusive("own-" + ProcessHandle.current().pid()).acquire() };
		Thread thread = new Thread(() -> {
			boolean working = false;
			while (true) {
				String asked = exit;
				if ("exit-clean".equals(asked)) {
					own[0].close();
					template.close();
					repositories.values().forEach(SocketLockRepository::close);
					System.exit(0);
				}
				if ("stop".equals(asked)) {
					own[0].close();
					template.close();
					print("STOPPED");
					return;
				}
				try {
					if (!own[0].lease().isValid()) {
						own[0].close();
						own[0] = template.exclusive("own-" + ProcessHandle.current().pid())
							.waitTime(Duration.ofSeconds(30))
							.acquire();
					}
					template.exclusive(key).waitTime(Duration.ofSeconds(30)).run(() -> {
						long token = LockContext.fencingToken();
						FencedStore.write(store, token, writer);
						int written = ChildSections.increment(counter, holdMillis);
						print("DID " + token + " " + written);
						if ("exit-abrupt".equals(exit)) {
							// Holding the lock, without closing anything.
							System.exit(0);
						}
					});
					if (!working) {
						working = true;
						print("WORKING");
					}
				}
				catch (LockLostException ex) {
					print("ABORTED " + ex.getReason());
				}
				catch (RuntimeException ex) {
					ex.printStackTrace();
					print("ERROR " + ChildSections.oneLine(ex));
				}
			}
		}, "latchkey-child-worker");
		worker = thread;
		thread.start();
	}

	private static void waitFor(Path directory, String key, Duration ttl, Duration waitTime, Path store) {
		LockTemplate template = new LockTemplate(repository(directory), settings(), lossPrinter());
		templates.add(template);
		print("WAITING " + (System.currentTimeMillis() + waitTime.toMillis()));
		ChildSections.waitFor(template, key, ttl, waitTime, store, SocketLockChild::print);
	}

	private static void guard(Path directory, String key, Duration ttl, Path store) {
		LockTemplate template = new LockTemplate(repository(directory), settings().withTtl(ttl), lossPrinter());
		templates.add(template);
		print("ENDED " + ChildSections.guard(template, key, Duration.ofSeconds(30), store, SocketLockChild::print));
	}

	private static void tryOnce(Path directory, String key) {
		SocketLockRepository repository = repository(directory);
		LockTemplate template = new LockTemplate(repository, settings(), null);
		Optional<LockHandle> handle = template.exclusive(key).tryAcquire();
		print(handle.map((granted) -> "GRANTED " + granted.fencingToken()).orElse("NOT_GRANTED"));
		handle.ifPresent(LockHandle::close);
		template.close();
		repository.close();
		System.exit(0);
	}

	private static LockObserver lossPrinter() {
		return new EventPublishingLockObserver((event) -> {
			if (event instanceof LockLostEvent lost) {
				print("LOST " + lost.getKey() + " " + lost.getReason() + " " + lost.getFencingToken());
			}
		});
	}

	private static void hold(Path directory, String key) {
		LockObserver events = new EventPublishingLockObserver((event) -> {
			if (event instanceof LockLostEvent lost) {
				print("LOST " + lost.getKey() + " " + lost.getReason() + " " + System.currentTimeMillis());
			}
		});
		// Short TTL and renewal interval: a lost lease is noticed within a fraction of a
		// second.
		LockTemplate template = new LockTemplate(repository(directory),
				settings().withTtl(Duration.ofSeconds(3)).withRenewInterval(Duration.ofMillis(200)), events);
		templates.add(template);
		LockHandle handle = template.exclusive(key).waitTime(Duration.ofSeconds(30)).acquire();
		held.add(handle);
		print("HELD " + handle.fencingToken());
	}

	private static void arbiter(Path directory) {
		SocketLockRepository repository = repository(directory);
		repository.inspect("probe");
		print("ARBITER " + repository.isArbiter());
	}

	private static void inspect(Path directory, String key) {
		StringBuilder line = new StringBuilder();
		repository(directory).inspect(key).ifPresentOrElse((info) -> {
			line.append("INFO ").append(key);
			for (LockInfo.Holder holder : info.holders()) {
				line.append(' ').append(holder.fencingToken());
			}
		}, () -> line.append("NONE ").append(key));
		print(line.toString());
	}

	private static void serve() throws IOException {
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		String line;
		while ((line = in.readLine()) != null) {
			String[] command = line.split(" ");
			try {
				switch (command[0]) {
					case "arbiter" -> arbiter(Path.of(command[1]));
					case "inspect" -> inspect(Path.of(command[1]), command[2]);
					case "exit" -> System.exit(0);
					case "exit-clean" -> exitClean();
					case "exit-abrupt" -> exitAbrupt();
					case "stop" -> exit = "stop";
					default -> print("ERROR unknown command " + command[0]);
				}
			}
			catch (RuntimeException ex) {
				ex.printStackTrace();
				print("ERROR " + ex);
			}
		}
		// The test is gone: so is this process, whatever it holds.
		Runtime.getRuntime().halt(0);
	}

	private static void exitClean() {
		if (worker != null) {
			// The work loop finishes its round, closes everything and exits.
			exit = "exit-clean";
			return;
		}
		held.forEach(LockHandle::close);
		templates.forEach(LockTemplate::close);
		repositories.values().forEach(SocketLockRepository::close);
		System.exit(0);
	}

	private static void exitAbrupt() {
		if (worker != null) {
			// The work loop exits in its next critical section.
			exit = "exit-abrupt";
			return;
		}
		System.exit(0);
	}

	private static SocketLockRepository repository(Path directory) {
		return repositories.computeIfAbsent(directory, SocketLockRepository::new);
	}

	private static LockSettings settings() {
		return LockSettings.defaults().withOwner("child-" + ProcessHandle.current().pid());
	}

	private static void print(String line) {
		synchronized (protocol) {
			protocol.println(line);
			protocol.flush();
		}
	}

}
