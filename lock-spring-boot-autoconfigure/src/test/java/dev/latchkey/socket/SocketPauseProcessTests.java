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

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.ChildOutput;
import dev.latchkey.test.ChildProcess;
import dev.latchkey.test.FencedStore;
import dev.latchkey.test.ProcessSignals;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A grant is anchored at the arbiter's clock: a process stopped with {@code kill -STOP}
 * past a lease's TTL must not act on that lease when it is resumed with
 * {@code kill -CONT}, whether the grant reached it while it was stopped (a queued waiter)
 * or it held the lease before (a holder). The arbiter is a child process that is never
 * stopped; this JVM takes the key meanwhile and writes to a {@link FencedStore} with its
 * own token, so a late write of the stopped process would show there as a token that went
 * backwards.
 */
@Timeout(120)
class SocketPauseProcessTests {

	private static final Duration START = Duration.ofSeconds(60);

	/** TTL of the stopped process's lease. */
	private static final long TTL_MILLIS = 1000;

	@TempDir
	Path temporary;

	private final List<ChildOutput> children = new ArrayList<>();

	private final ProcessSignals signals = new ProcessSignals();

	private Path directory;

	private Path store;

	private SocketLockRepository repository;

	private LockTemplate template;

	@BeforeEach
	void startArbiter() {
		this.directory = this.temporary.resolve("locks");
		this.store = this.temporary.resolve("store");
		ChildOutput arbiter = start("arbiter", this.directory.toString());
		assertThat(arbiter.awaitLine("ARBITER ", 0, START)).as("precondition: the arbiter child serves the directory")
			.isEqualTo("ARBITER true");
		this.repository = new SocketLockRepository(this.directory, "pause-test", Duration.ofSeconds(5));
		this.template = new LockTemplate(this.repository, LockSettings.defaults().withOwner("pause-test"), null);
	}

	@AfterEach
	void stopEverything() {
		// A stopped process would not even die of SIGKILL until it is continued on some
		// systems: continue it first.
		this.signals.close();
		if (this.template != null) {
			this.template.close();
		}
		if (this.repository != null) {
			this.repository.close();
		}
		this.children.forEach(ChildOutput::close);
	}

	@Test
	void aWaiterStoppedWhileItsGrantIsInFlightDoesNotRunWhenItsWaitEndedMeanwhile() throws Exception {
		LockHandle first = this.template.exclusive("k").acquire();
		ChildOutput waiter = start("waitfor", this.directory.toString(), "k", Long.toString(TTL_MILLIS), "3000",
				this.store.toString());
		long deadline = Long.parseLong(waiter.awaitLine("WAITING ", 0, START).substring(8));
		long staleToken = stopWithGrantInFlight(waiter, first);
		// The stopped waiter never renews: the arbiter expires its grant and hands the
		// key on, to this JVM.
		try (LockHandle next = this.template.exclusive("k").waitTime(Duration.ofSeconds(20)).acquire()) {
			assertThat(next.fencingToken()).as("token of the grant after the stopped waiter's (%d)", staleToken)
				.isGreaterThan(staleToken);
			assertThat(FencedStore.write(this.store, next.fencingToken(), "test")).isTrue();
			// Resume the waiter once its wait time is over as well: all it may do is
			// report that it got nothing.
			Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> System.currentTimeMillis() > deadline + 500);
			int resumedAt = waiter.mark();
			this.signals.resume(waiter.pid());
			String outcome = awaitOutcome(waiter, resumedAt);
			assertThat(outcome)
				.as("what the waiter did when resumed, after its grant (token %d) expired at the arbiter while it was "
						+ "stopped and this JVM took the key (token %d)", staleToken, next.fencingToken())
				.isEqualTo("NOT_ACQUIRED");
		}
		assertThat(FencedStore.attempts(this.store)).as("writes to the fenced store")
			.noneMatch((attempt) -> attempt.writer().startsWith("waiter-"));
		assertThat(FencedStore.rejected(this.store)).as("writes whose fencing token went backwards").isEmpty();
	}

	@Test
	void aWaiterStoppedWhileItsGrantIsInFlightWaitsOnForAFreshGrantWithAHigherToken() throws Exception {
		LockHandle first = this.template.exclusive("k").acquire();
		ChildOutput waiter = start("waitfor", this.directory.toString(), "k", Long.toString(TTL_MILLIS), "30000",
				this.store.toString());
		waiter.awaitLine("WAITING ", 0, START);
		long staleToken = stopWithGrantInFlight(waiter, first);
		LockHandle next = this.template.exclusive("k").waitTime(Duration.ofSeconds(20)).acquire();
		assertThat(next.fencingToken()).as("token of the grant after the stopped waiter's (%d)", staleToken)
			.isGreaterThan(staleToken);
		assertThat(FencedStore.write(this.store, next.fencingToken(), "test")).isTrue();
		int resumedAt = waiter.mark();
		this.signals.resume(waiter.pid());
		// While this JVM holds the key, the resumed waiter must not run: its grant
		// expired while it was stopped.
		Awaitility.await()
			.during(Duration.ofMillis(1500))
			.atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(waiter.lines("RAN ", resumedAt))
				.as("critical sections the waiter ran while this JVM held the key (token %d), after its own grant "
						+ "(token %d) expired while it was stopped", next.fencingToken(), staleToken)
				.isEmpty());
		int releasedAt = waiter.mark();
		next.close();
		String outcome = awaitOutcome(waiter, releasedAt);
		assertThat(outcome).as("what the resumed waiter did once the key was free").startsWith("RAN ");
		long ranWith = Long.parseLong(outcome.split(" ")[1]);
		assertThat(ranWith)
			.as("token the resumed waiter ran with (its expired grant had %d, this JVM's %d)", staleToken,
					next.fencingToken())
			.isGreaterThan(next.fencingToken());
		assertThat(FencedStore.rejected(this.store)).as("writes whose fencing token went backwards").isEmpty();
	}

	@Test
	void aHolderStoppedPastItsTtlLearnsOfTheLossWhenResumedAndNeverWritesLate() throws Exception {
		ChildOutput holder = start("guard", this.directory.toString(), "k", Long.toString(TTL_MILLIS),
				this.store.toString());
		long heldToken = Long.parseLong(holder.awaitLine("HELD ", 0, START).substring(5));
		holder.awaitLine("WROTE ", 0, START);
		this.signals.stop(holder.pid());
		try (LockHandle next = this.template.exclusive("k").waitTime(Duration.ofSeconds(20)).acquire()) {
			assertThat(next.fencingToken()).as("token of the grant after the stopped holder's (%d)", heldToken)
				.isGreaterThan(heldToken);
			assertThat(FencedStore.write(this.store, next.fencingToken(), "test")).isTrue();
			int resumedAt = holder.mark();
			this.signals.resume(holder.pid());
			String learned = holder.awaitLine("", resumedAt, Duration.ofSeconds(10));
			assertThat(learned).as("first thing the holder reported when resumed past its TTL")
				.matches("(LOST k |ASSERT_FAILED ).*");
			holder.awaitLine("ENDED ", resumedAt, Duration.ofSeconds(10));
			assertThat(FencedStore.write(this.store, next.fencingToken(), "test")).isTrue();
		}
		List<FencedStore.Attempt> attempts = FencedStore.attempts(this.store);
		int taken = attempts.indexOf(attempts.stream().filter((a) -> a.writer().equals("test")).findFirst().get());
		assertThat(attempts.subList(taken, attempts.size()))
			.as("writes of the stopped holder (token %d) after this JVM took the key", heldToken)
			.noneMatch((attempt) -> attempt.writer().startsWith("holder-"));
		assertThat(FencedStore.rejected(this.store)).as("writes whose fencing token went backwards").isEmpty();
	}

	/**
	 * Stops the queued waiter, then releases the key it waits for: the arbiter grants it
	 * to the stopped process, whose grant then sits unread in its socket.
	 * @return the fencing token of the grant in flight
	 */
	private long stopWithGrantInFlight(ChildOutput waiter, LockHandle held) throws Exception {
		// Give the waiter's first attempt and its queued request time to reach the
		// arbiter.
		Awaitility.await().pollDelay(Duration.ofMillis(1500)).until(() -> true);
		this.signals.stop(waiter.pid());
		held.close();
		String owner = "child-" + waiter.pid();
		long[] token = new long[1];
		Awaitility.await()
			.atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(this.repository.inspect("k"))
				.as("precondition: the arbiter granted the key to the stopped waiter %s", owner)
				.hasValueSatisfying((info) -> {
					assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly(owner);
					token[0] = info.holders().get(0).fencingToken();
				}));
		return token[0];
	}

	private static String awaitOutcome(ChildOutput waiter, int from) {
		return waiter.awaitMatch("(RAN|NOT_ACQUIRED)\\b.*", from, Duration.ofSeconds(15));
	}

	private ChildOutput start(String... arguments) {
		ChildOutput child = new ChildOutput(
				ChildProcess.start(this.temporary, List.of(), SocketLockChild.class, arguments));
		this.children.add(child);
		return child;
	}

}
