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
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.event.EventPublishingLockObserver;
import dev.latchkey.event.LockLostEvent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * When the repository that runs the arbiter closes, the others keep their leases: one of
 * them takes over, they re-assert what they hold there, and fencing goes on above every
 * token granted before.
 */
class SocketArbiterHandOverTests {

	@TempDir
	Path temporary;

	private final List<Object> events = new CopyOnWriteArrayList<>();

	private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

	@AfterEach
	void close() throws Exception {
		for (AutoCloseable resource : this.resources) {
			resource.close();
		}
	}

	@Test
	void closingTheArbitersRepositoryCostsTheOtherClientsNoLease() {
		Path directory = this.temporary.resolve("locks");
		SocketLockRepository first = repository(directory);
		LeaseSpec firstLease = LeaseSpec.exclusive("first", "first", "token-first", Duration.ofSeconds(30));
		assertThat(first.tryAcquire(firstLease)).isPresent();
		assertThat(first.isArbiter()).isTrue();
		SocketLockRepository second = repository(directory);
		LockTemplate template = new LockTemplate(second, LockSettings.defaults().withTtl(Duration.ofSeconds(30)),
				new EventPublishingLockObserver(this.events::add));
		this.resources.add(0, template);
		LockHandle handle = template.exclusive("report").description("report 2026-11").acquire();
		first.close();
		// The second repository takes over and takes its lease back, with its fencing
		// token and its description.
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(second::isArbiter);
		SocketLockRepository third = repository(directory);
		assertThat(third.inspect("report")).hasValueSatisfying((info) -> assertThat(info.holders())
			.extracting(LockInfo.Holder::fencingToken, LockInfo.Holder::description)
			.containsExactly(tuple(handle.fencingToken(), "report 2026-11")));
		// The closed repository's lease was freed with its connection, and is not taken
		// back by anyone.
		assertThat(third.inspect("first")).isEmpty();
		assertThat(handle.lease().isValid()).isTrue();
		handle.lease().assertValid();
		assertThat(this.events).noneMatch(LockLostEvent.class::isInstance);
		LeaseSpec other = LeaseSpec.exclusive("report", "third", "token-third", Duration.ofSeconds(30));
		assertThat(third.tryAcquire(other)).as("granted beside the re-asserted holder").isEmpty();
		handle.close();
		OptionalLong token = third.tryAcquire(other);
		assertThat(token).isPresent();
		assertThat(token.getAsLong()).isGreaterThan(handle.fencingToken());
	}

	@Test
	void aFreeKeyIsGrantedAtOnceRightAfterTheArbiterClosed() {
		Path directory = this.temporary.resolve("locks");
		for (int round = 0; round < 20; round++) {
			SocketLockRepository arbiter = new SocketLockRepository(directory);
			assertThat(arbiter.inspect("k")).isEmpty();
			assertThat(arbiter.isArbiter()).isTrue();
			arbiter.close();
			try (SocketLockRepository next = new SocketLockRepository(directory)) {
				LeaseSpec lease = LeaseSpec.exclusive("k", "next", "token-" + round, Duration.ofSeconds(30));
				assertThat(next.tryAcquire(lease)).as("round %d", round).isPresent();
			}
		}
	}

	private SocketLockRepository repository(Path directory) {
		SocketLockRepository repository = new SocketLockRepository(directory);
		this.resources.add(repository);
		return repository;
	}

}
