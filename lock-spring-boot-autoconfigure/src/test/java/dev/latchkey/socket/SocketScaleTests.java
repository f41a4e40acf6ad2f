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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.assertj.core.api.Assertions;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.actuate.endpoint.SecurityContext;

import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockKeyException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.LocksEndpoint;
import dev.latchkey.actuate.LocksEndpoint.LocksDescriptor;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.test.ChildOutput;
import dev.latchkey.test.ChildProcess;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The socket backend at scale, in one process: 10,000 leases held and renewed, listed and
 * shown by the {@code locks} endpoint, and keys as long as the configured maximum. This
 * JVM is a client; the arbiter is a child process ({@link SocketLockChild}
 * {@code arbiter}), as it is for most processes of a host.
 */
@Timeout(300)
class SocketScaleTests {

	private static final int LEASES = 10_000;

	private static final Duration START = Duration.ofSeconds(60);

	@TempDir
	Path temporary;

	private final List<LockLostEvent> losses = new CopyOnWriteArrayList<>();

	private final List<LockTemplate> templates = new ArrayList<>();

	private ChildOutput arbiter;

	private SocketLockRepository repository;

	@BeforeEach
	void startArbiter() {
		Path directory = this.temporary.resolve("locks");
		this.arbiter = new ChildOutput(
				ChildProcess.start(this.temporary, List.of(), SocketLockChild.class, "arbiter", directory.toString()));
		assertThat(this.arbiter.awaitLine("ARBITER ", 0, START))
			.as("precondition: the arbiter child serves the directory")
			.isEqualTo("ARBITER true");
		this.repository = new SocketLockRepository(directory, "scale-test", Duration.ofSeconds(10));
	}

	@AfterEach
	void stopEverything() {
		this.templates.forEach(LockTemplate::close);
		if (this.repository != null) {
			this.repository.close();
		}
		if (this.arbiter != null) {
			this.arbiter.close();
		}
	}

	@Test
	void oneProcessHoldsTenThousandLeasesForAMinuteRenewedEverySecondAndLosesNone() {
		LockTemplate template = template(
				LockSettings.defaults().withTtl(Duration.ofSeconds(3)).withRenewInterval(Duration.ofSeconds(1)));
		List<LockHandle> handles = acquireAll(template);
		long heldSince = System.nanoTime();
		Awaitility.await()
			.during(Duration.ofSeconds(60))
			.atMost(Duration.ofSeconds(90))
			.pollInterval(Duration.ofMillis(250))
			.failFast("leases lost", () -> assertThat(template.lostLeaseCount())
				.as(() -> "leases lost of " + LEASES + " held, " + seconds(heldSince) + " s after they were taken "
						+ "(LockLostEvents: " + this.losses.size() + ", first: " + first(this.losses) + ")")
				.isZero())
			.until(() -> template.heldLeaseCount() == LEASES);
		assertThat(this.losses).as("LockLostEvents").isEmpty();
		assertThat(handles).as("leases still valid after a minute").allMatch((handle) -> handle.lease().isValid());
		// Renewed all along: with a 3 s TTL, none would be valid otherwise.
		assertThat(handles.stream().mapToLong((handle) -> handle.lease().renewals()).min().orElse(0))
			.as("fewest renewals of a lease in a minute at one a second")
			.isGreaterThanOrEqualTo(30);
	}

	@Test
	void listAnswersEveryOneOfTenThousandHeldKeys() {
		LockTemplate template = template(LockSettings.defaults());
		List<LockHandle> handles = acquireAll(template);
		List<LockInfo> listed = this.repository.list();
		assertThat(listed)
			.as(() -> "keys listed with " + LEASES + " held (leases reported lost so far: " + template.lostLeaseCount()
					+ ")")
			.hasSize(LEASES);
		Set<String> listedKeys = listed.stream().map(LockInfo::key).collect(Collectors.toCollection(TreeSet::new));
		assertThat(listedKeys).as("keys listed").isEqualTo(keys());
		assertThat(template.lostLeaseCount()).as("leases lost by listing them").isZero();
		assertThat(handles).allMatch((handle) -> handle.lease().isValid());
	}

	@Test
	void theLocksEndpointAnswersCompletelyWithTenThousandHeldKeys() {
		LockTemplate template = template(LockSettings.defaults());
		acquireAll(template);
		LocksDescriptor locks = new LocksEndpoint(template, true).locks(SecurityContext.NONE);
		assertThat(locks.locks())
			.as(() -> "keys the endpoint lists with " + LEASES + " held (leases reported lost so far: "
					+ template.lostLeaseCount() + ")")
			.hasSize(LEASES);
		Set<String> shownKeys = locks.locks()
			.stream()
			.map(LocksEndpoint.LockDescriptor::key)
			.collect(Collectors.toCollection(TreeSet::new));
		assertThat(shownKeys).as("keys the endpoint lists").isEqualTo(keys());
		assertThat(locks.thisInstance()).as("leases of this instance the endpoint shows").hasSize(LEASES);
		assertThat(template.lostLeaseCount()).as("leases lost by showing them").isZero();
	}

	@ParameterizedTest(name = "key made of \"{0}\"")
	@ValueSource(strings = { "a", "k:", "é" })
	void aKeyOfTheMaximumLengthWorksAndOneLongerFailsWithoutLosingOtherLeases(String pattern) {
		int maximum = 10_000;
		// Renewed four times a second against a TTL of three seconds: a few renewals come
		// quickly, and only a stall of seconds, not a loaded machine, loses a lease.
		LockTemplate template = template(LockSettings.defaults()
			.withMaxKeyLength(maximum)
			.withTtl(Duration.ofSeconds(3))
			.withRenewInterval(Duration.ofMillis(250)));
		List<LockHandle> held = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			held.add(template.exclusive("other-" + i).acquire());
		}
		String longest = pattern.repeat(maximum / pattern.length() + 1).substring(0, maximum);
		assertThat(longest).hasSize(maximum);
		// Every check is reported, so that a failed acquisition also shows what became of
		// the other leases.
		SoftAssertions.assertSoftly((softly) -> {
			Throwable failure = Assertions.catchThrowable(() -> held.add(template.exclusive(longest).acquire()));
			softly.assertThat((failure != null) ? abbreviate(failure.toString()) : null)
				.as("failure acquiring a key of exactly the maximum length, %d characters", maximum)
				.isNull();
			if (held.size() == 4) {
				softly.assertThat(this.repository.inspect(longest))
					.as("the %d-character key at the backend", maximum)
					.hasValueSatisfying((info) -> assertThat(info.holders()).extracting(LockInfo.Holder::fencingToken)
						.containsExactly(held.get(3).fencingToken()));
			}
			softly.assertThatExceptionOfType(LockKeyException.class)
				.as("acquiring a key of %d characters, one over the maximum", maximum + 1)
				.isThrownBy(() -> template.exclusive(longest + pattern.charAt(0)).acquire());
			// A few renewals of every lease held (the long key's among them), or their
			// loss.
			Throwable renewing = Assertions.catchThrowable(() -> Awaitility.await()
				.atMost(Duration.ofSeconds(10))
				.failFast("a lease was lost", () -> !this.losses.isEmpty())
				.until(() -> held.stream().allMatch((handle) -> handle.lease().renewals() >= 3)));
			softly.assertThat((renewing != null) ? renewing.getMessage() : null)
				.as("waiting for three renewals of each of the %d leases held", held.size())
				.isNull();
			softly.assertThat(this.losses)
				.as("LockLostEvents of the process's other leases")
				.extracting((lost) -> abbreviate(lost.getKey()) + " " + lost.getReason() + ": "
						+ abbreviate(String.valueOf(lost.getException().getMessage())))
				.isEmpty();
			softly.assertThat(held).as("leases still valid").allMatch((handle) -> handle.lease().isValid());
		});
		held.forEach(LockHandle::close);
		assertThat(this.losses).as("LockLostEvents, after releasing").isEmpty();
		assertThat(this.repository.inspect(longest)).as("the %d-character key after its release", maximum).isEmpty();
	}

	private LockTemplate template(LockSettings settings) {
		LockTemplate template = new LockTemplate(this.repository, settings.withOwner("scale-test"),
				new EventPublishingLockObserver((event) -> {
					if (event instanceof LockLostEvent lost) {
						this.losses.add(lost);
					}
				}));
		this.templates.add(template);
		return template;
	}

	private List<LockHandle> acquireAll(LockTemplate template) {
		List<LockHandle> handles = new ArrayList<>(LEASES);
		for (String key : keys()) {
			handles.add(template.exclusive(key).acquire());
		}
		assertThat(template.lostLeaseCount())
			.as(() -> "leases lost while acquiring " + LEASES + " (first LockLostEvent: " + first(this.losses) + ")")
			.isZero();
		assertThat(template.heldLeaseCount()).as("leases held").isEqualTo(LEASES);
		return handles;
	}

	private static Set<String> keys() {
		return IntStream.range(0, LEASES)
			.mapToObj((i) -> String.format("lease-%05d", i))
			.collect(Collectors.toCollection(TreeSet::new));
	}

	/**
	 * Text for a failure message, with long keys cut short.
	 */
	private static String abbreviate(String text) {
		return text.replaceAll("(.{1,8}?)\\1{10,}", "$1$1$1...");
	}

	private static long seconds(long sinceNanos) {
		return Duration.ofNanos(System.nanoTime() - sinceNanos).toSeconds();
	}

	private static Object first(List<LockLostEvent> events) {
		return events.isEmpty() ? "none" : events.get(0).getKey() + " " + events.get(0).getReason();
	}

}
