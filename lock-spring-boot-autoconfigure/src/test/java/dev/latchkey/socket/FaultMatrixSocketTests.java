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

import dev.latchkey.LockRepository;
import dev.latchkey.test.ChildOutput;
import dev.latchkey.test.FaultMatrix;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@link FaultMatrix} on the socket backend. The arbiter is a child process of its
 * own (the "server" that the matrix pauses, and kills for a restart, after which a
 * successor is elected among the other processes); the test JVM and the other children
 * are its clients.
 */
class FaultMatrixSocketTests extends FaultMatrix {

	private Path directory;

	private ChildOutput arbiter;

	private SocketLockRepository repository;

	@Override
	protected void startBackend(Path temporary) {
		this.directory = temporary.resolve("locks");
		this.arbiter = serve();
		this.repository = new SocketLockRepository(this.directory, "fault-matrix", Duration.ofSeconds(5));
		this.repository.inspect("probe");
		assertThat(this.repository.isArbiter()).as("precondition: the arbiter is the child process").isFalse();
	}

	private ChildOutput serve() {
		ChildOutput child = start(List.of(), "serve", childBackend());
		child.awaitLine("READY", 0, Duration.ofSeconds(90));
		return child;
	}

	@Override
	protected void stopBackend() {
		if (this.repository != null) {
			this.repository.close();
		}
	}

	@Override
	protected String childBackend() {
		return "socket|" + this.directory;
	}

	@Override
	protected LockRepository repository() {
		return this.repository;
	}

	@Override
	protected boolean honoursFairLocks() {
		return true;
	}

	@Override
	protected boolean freesKeyOfCrashedHolderAtOnce() {
		return true;
	}

	@Override
	protected Duration crashRecoveryBound() {
		// At once: the arbiter sees the connection close. Room for a loaded machine.
		return Duration.ofMillis(1000);
	}

	@Override
	protected int leakCycles() {
		return 100_000;
	}

	@Override
	protected Server server() {
		return Server.of(() -> List.of(this.arbiter.pid()), () -> {
			this.arbiter.child().kill();
			this.arbiter = serve();
		});
	}

}
