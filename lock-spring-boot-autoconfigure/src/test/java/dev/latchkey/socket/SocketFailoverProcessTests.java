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

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.assertj.core.api.SoftAssertions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.test.ChildOutput;
import dev.latchkey.test.ChildProcess;
import dev.latchkey.test.FencedStore;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The socket backend's promise when the arbiter's process goes: nobody else loses a lock.
 * Worker processes ({@link SocketLockChild} {@code work}) contend for one key on one
 * directory, each also holding a key of its own all along; each round, the one that
 * serves as the arbiter leaves (a normal exit, an exit without closing anything while it
 * holds the contended key, or {@code kill -9}), and the others must keep every lease (no
 * {@code LockLostEvent}), make progress under a successor arbiter elected among them, and
 * never hold the key two at a time: an unguarded counter (read, sleep, write) would lose
 * an update, and a {@link FencedStore} would see a fencing token go backwards.
 */
@Timeout(240)
class SocketFailoverProcessTests {

	private static final LogAccessor logger = new LogAccessor(SocketFailoverProcessTests.class);

	private static final int ROUNDS = 20;

	private static final int SURVIVORS = 3;

	private static final Duration START = Duration.ofSeconds(60);

	private static final Duration PROGRESS = Duration.ofSeconds(20);

	@TempDir
	Path temporary;

	private final List<ChildOutput> children = new ArrayList<>();

	/**
	 * Where each departed child's own output ends: what it printed while it left is not
	 * counted against others.
	 */
	private final Map<ChildOutput, Integer> departedAt = new ConcurrentHashMap<>();

	@AfterEach
	void stopChildren() {
		this.children.forEach(ChildOutput::close);
	}

	@Test
	void othersLoseNoLeaseWhenTheArbiterExitsNormally() throws Exception {
		arbiterLeavesRepeatedly(Departure.EXIT_CLEAN);
	}

	@Test
	void othersLoseNoLeaseWhenTheArbiterExitsWithoutClosingAnything() throws Exception {
		arbiterLeavesRepeatedly(Departure.EXIT_ABRUPT);
	}

	@Test
	void othersLoseNoLeaseWhenTheArbiterIsKilled() throws Exception {
		arbiterLeavesRepeatedly(Departure.KILL);
	}

	private void arbiterLeavesRepeatedly(Departure departure) throws Exception {
		Path directory = this.temporary.resolve("locks");
		Path counter = this.temporary.resolve("counter");
		Path store = this.temporary.resolve("store");
		Files.writeString(counter, "0", StandardCharsets.US_ASCII);
		List<ChildOutput> live = new ArrayList<>();
		for (int i = 0; i < SURVIVORS; i++) {
			live.add(startWorker(directory, counter, store));
		}
		for (ChildOutput worker : live) {
			worker.awaitLine("WORKING", 0, START);
		}
		// A newcomer starts while the round before runs, so that its start-up does not
		// add to each round.
		ChildOutput newcomer = startWorker(directory, counter, store);
		List<String> rounds = new ArrayList<>();
		long lostByOthers = 0;
		for (int round = 1; round <= ROUNDS; round++) {
			newcomer.awaitLine("WORKING", 0, START);
			live.add(newcomer);
			ChildOutput arbiter = theArbiter(live, directory, "before round " + round);
			List<ChildOutput> survivors = new ArrayList<>(live);
			survivors.remove(arbiter);
			Map<ChildOutput, Integer> before = marks(survivors);
			leave(arbiter, departure);
			newcomer = startWorker(directory, counter, store);
			Map<ChildOutput, Integer> after = marks(survivors);
			// Every survivor goes on taking the lock, under a successor elected among
			// them.
			for (ChildOutput survivor : survivors) {
				survivor.awaitLine("DID ", after.get(survivor), PROGRESS);
			}
			ChildOutput successor = theArbiter(survivors, directory, "after round " + round);
			long lost = 0;
			long failed = 0;
			for (ChildOutput survivor : survivors) {
				lost += survivor.lines("LOST ", before.get(survivor)).size();
				failed += survivor.lines("ERROR ", before.get(survivor)).size();
			}
			lostByOthers += lost;
			// Failed acquisitions are shown, not asserted: only losses and double grants
			// break the promise.
			rounds.add("round " + round + ": arbiter " + arbiter.pid() + " left (" + departure + "), the "
					+ survivors.size() + " others lost " + lost + " leases (and saw " + failed
					+ " failed acquisitions), successor " + successor.pid());
			live = survivors;
		}
		logger.info(() -> String.join("\n", rounds));
		for (ChildOutput worker : live) {
			worker.send("stop");
		}
		newcomer.send("stop");
		for (ChildOutput worker : live) {
			worker.awaitLine("STOPPED", 0, START);
		}
		newcomer.awaitLine("STOPPED", 0, START);
		for (ChildOutput child : this.children) {
			if (!child.isAlive()) {
				child.awaitDrained(Duration.ofSeconds(10));
			}
		}
		long did = 0;
		Map<Integer, List<String>> written = new TreeMap<>();
		List<String> losses = new ArrayList<>();
		for (ChildOutput child : this.children) {
			// A process that left may report its own leases lost as it goes: only the
			// others' count.
			List<String> childLosses = child.lines("LOST ", 0, this.departedAt.getOrDefault(child, Integer.MAX_VALUE));
			childLosses.forEach((line) -> losses.add(child + ": " + line));
			did += child.count("DID ");
			for (String line : child.lines("DID ", 0)) {
				String[] fields = line.split(" ");
				written.computeIfAbsent(Integer.parseInt(fields[2]), (value) -> new ArrayList<>())
					.add(child + " with token " + fields[1]);
			}
		}
		// A value written twice: two processes read the same value, so both held the lock
		// at once.
		List<String> overlaps = written.entrySet()
			.stream()
			.filter((entry) -> entry.getValue().size() > 1)
			.map((entry) -> entry.getKey() + " written by " + entry.getValue())
			.toList();
		int counted = Integer.parseInt(Files.readString(counter, StandardCharsets.US_ASCII).trim());
		long killed = (departure == Departure.KILL) ? ROUNDS : 0;
		List<FencedStore.Attempt> backwards = FencedStore.rejected(store);
		long others = lostByOthers;
		long increments = did;
		// Every check is reported, not only the first that fails.
		SoftAssertions.assertSoftly((softly) -> {
			softly.assertThat(others)
				.as(() -> "leases lost by the other processes when the arbiter left (" + departure + "), per round:\n"
						+ String.join("\n", rounds))
				.isZero();
			softly.assertThat(losses.size())
				.as("leases lost by processes while they were not leaving, at any time (first ten: %s)",
						losses.subList(0, Math.min(10, losses.size())))
				.isZero();
			softly.assertThat(backwards)
				.as("writes to the fenced store whose fencing token went backwards (of %d attempts)",
						FencedStore.attempts(store).size())
				.isEmpty();
			softly.assertThat(overlaps)
				.as("counter values written by two holders at once (each read the value the other read)")
				.isEmpty();
			softly.assertThat(counted)
				.as("unguarded counter after %d increments under the lock (below: lost updates, so two processes held "
						+ "the lock at once)", increments)
				.isGreaterThanOrEqualTo((int) increments);
			softly.assertThat(counted)
				.as("unguarded counter after %d increments under the lock (%d processes killed, each maybe between its "
						+ "write and its report)", increments, killed)
				.isLessThanOrEqualTo((int) (increments + killed));
		});
	}

	/**
	 * Asks each process whether it serves as the arbiter; exactly one must.
	 */
	private ChildOutput theArbiter(List<ChildOutput> processes, Path directory, String when) {
		List<ChildOutput> arbiters = new ArrayList<>();
		Awaitility.await().atMost(PROGRESS).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
			arbiters.clear();
			List<String> answers = new ArrayList<>();
			for (ChildOutput process : processes) {
				int mark = process.mark();
				process.send("arbiter " + directory);
				String answer = process.awaitLine("ARBITER ", mark, START);
				answers.add(process + ": " + answer);
				if ("ARBITER true".equals(answer)) {
					arbiters.add(process);
				}
			}
			assertThat(arbiters).as("processes serving as the arbiter %s: %s", when, answers).hasSize(1);
		});
		return arbiters.get(0);
	}

	private void leave(ChildOutput arbiter, Departure departure) {
		this.departedAt.put(arbiter, arbiter.mark());
		switch (departure) {
			case EXIT_CLEAN -> arbiter.send("exit-clean");
			case EXIT_ABRUPT -> arbiter.send("exit-abrupt");
			case KILL -> arbiter.child().kill();
		}
		int code = arbiter.child().awaitExit(START);
		if (departure != Departure.KILL) {
			assertThat(code).as("exit code of the arbiter %s after %s", arbiter, departure).isZero();
		}
		arbiter.awaitDrained(Duration.ofSeconds(10));
	}

	private static Map<ChildOutput, Integer> marks(List<ChildOutput> processes) {
		Map<ChildOutput, Integer> marks = new ConcurrentHashMap<>();
		processes.forEach((process) -> marks.put(process, process.mark()));
		return marks;
	}

	private ChildOutput startWorker(Path directory, Path counter, Path store) {
		ChildOutput worker = new ChildOutput(ChildProcess.start(this.temporary, List.of(), SocketLockChild.class,
				"work", directory.toString(), "counter", counter.toString(), store.toString(), "5"));
		this.children.add(worker);
		return worker;
	}

	private enum Departure {

		/** Template and repository closed, then {@code System.exit(0)}. */
		EXIT_CLEAN,

		/** {@code System.exit(0)} alone, while holding the lock. */
		EXIT_ABRUPT,

		/** {@code kill -9}. */
		KILL

	}

}
