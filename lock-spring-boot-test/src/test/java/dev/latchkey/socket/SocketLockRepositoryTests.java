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

import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LockRepository;
import dev.latchkey.test.contract.CrossInstanceContract;
import dev.latchkey.test.contract.FairLockRepositoryContract;
import dev.latchkey.test.contract.LockRepositoryContract;
import dev.latchkey.test.contract.QueueingLockRepositoryContract;

/**
 * The socket backend passes the backend contract, with the holders as threads of one JVM;
 * its multi-process behaviour is tested with child processes elsewhere. Its arbiter's
 * queue is FIFO for every request, so fair locks are honoured as they are.
 */
class SocketLockRepositoryTests extends LockRepositoryContract
		implements CrossInstanceContract, QueueingLockRepositoryContract, FairLockRepositoryContract {

	@TempDir
	static Path temporary;

	@Override
	public LockRepository createRepository() {
		return new SocketLockRepository(temporary.resolve("locks"));
	}

}
