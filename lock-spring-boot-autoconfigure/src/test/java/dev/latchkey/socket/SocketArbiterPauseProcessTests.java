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
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.test.ChildProcess;
import dev.latchkey.test.ProcessSignals;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The arbiter's process paused past a lease's TTL: its clients cannot renew, so they stop
 * believing in their leases at their deadlines; their connections stay open, and once the
 * arbiter resumes it expires those leases and grants the keys with higher tokens. Nobody
 * holds a key beside its holder meanwhile.
 */
class SocketArbiterPauseProcessTests {

	private static final Duration START = Duration.ofSeconds(60);

	@TempDir
	Path temporary;

	private ChildProcess arbiter;

	private final List<Object> events = new CopyOnWriteArrayList<>();

	private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

	private final ProcessSignals signals = new ProcessSignals();

	@AfterEach
	void stop() throws Exception {
		this.signals.close();
		if (this.arbiter != null) {
			this.arbiter.close();
		}
		for (AutoCloseable resource : this.resources) {
			resource.close();
		}
	}

	@Test
	void aHolderWhoseArbiterIsPausedPastItsTtlLosesItsLeaseAtItsDeadlineAndTheKeyGoesOnWithAHigherToken()
			throws Exception {
		Path directory = this.temporary.resolve("locks");
		this.arbiter = ChildProcess.start(this.temporary, List.of(), SocketLockChild.class, "arbiter",
				directory.toString());
		assertThat(this.arbiter.awaitLine("ARBITER ", START)).isEqualTo("ARBITER true");
		SocketLockRepository repository = new SocketLockRepository(directory, "holder", Duration.ofSeconds(1));
		this.resources.add(repository);
		LockTemplate template = new LockTemplate(repository,
				LockSettings.defaults().withTtl(Duration.ofSeconds(2)).withRenewInterval(Duration.ofMillis(300)),
				new EventPublishingLockObserver(this.events::add));
		this.resources.add(0, template);
		LockHandle handle = template.exclusive("k").acquire();
		this.signals.stop(this.arbiter.pid());
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !handle.lease().isValid());
		assertThat(this.events).filteredOn(LockLostEvent.class::isInstance)
			.singleElement()
			.satisfies((event) -> assertThat(((LockLostEvent) event).getReason()).isEqualTo(LossReason.RENEWAL_FAILED));
		this.signals.resume(this.arbiter.pid());
		// The arbiter, resumed, expires the lease it could not renew; a newcomer gets the
		// key with a higher token.
		try (SocketLockRepository newcomer = new SocketLockRepository(directory)) {
			LeaseSpec lease = LeaseSpec.exclusive("k", "newcomer", UUID.randomUUID().toString(),
					Duration.ofSeconds(30));
			OptionalLong[] granted = { OptionalLong.empty() };
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
				granted[0] = newcomer.tryAcquire(lease);
				return granted[0].isPresent();
			});
			assertThat(granted[0].getAsLong()).isGreaterThan(handle.fencingToken());
		}
		// The holder's connection survived the pause: it locks again without a new
		// arbiter.
		try (LockHandle again = template.exclusive("other").acquire()) {
			assertThat(again.lease().isValid()).isTrue();
		}
		assertThat(repository.isArbiter()).isFalse();
	}

}
