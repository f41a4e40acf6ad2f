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

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LockBackendException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The socket backend's lock directory: private to the user, and never a place where a
 * file that is not a socket is taken for a stale socket.
 */
class SocketLockDirectoryTests {

	@TempDir
	Path temporary;

	private Path directory;

	private SocketLockRepository repository;

	@AfterEach
	void stopArbiter() {
		if (this.repository != null) {
			this.repository.close();
		}
	}

	@Test
	void lockDirectoryIsCreatedForTheOwnerOnly() throws Exception {
		SocketLockRepository repository = repository(this.temporary.resolve("parent/locks"));
		repository.inspect("k");
		assertThat(Files.getPosixFilePermissions(this.directory))
			.isEqualTo(PosixFilePermissions.fromString("rwx------"));
		assertThat(repository.isArbiter()).isTrue();
	}

	@Test
	void lockDirectoryThatOtherUsersCanOpenIsRefused() throws Exception {
		Path directory = Files.createDirectory(this.temporary.resolve("locks"));
		Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
		SocketLockRepository repository = repository(directory);
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.inspect("k"))
			.withMessageContaining("rwxr-xr-x")
			.withMessageContaining("chmod 700");
		assertThat(directory.resolve(SocketLockRepository.SOCKET)).doesNotExist();
		assertThat(repository.isArbiter()).isFalse();
	}

	@Test
	void regularFileWhereTheSocketShouldBeIsNeitherTakenForAStaleSocketNorDeleted() throws Exception {
		Path directory = Files.createDirectory(this.temporary.resolve("locks"),
				PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
		Path socket = Files.writeString(directory.resolve(SocketLockRepository.SOCKET), "not a socket");
		SocketLockRepository repository = repository(directory);
		assertThatExceptionOfType(LockBackendException.class).isThrownBy(() -> repository.inspect("k"))
			.withMessageContaining("is not a socket");
		assertThat(socket).isRegularFile().hasContent("not a socket");
		assertThat(repository.isArbiter()).isFalse();
		// The election lock was given up: once the file is moved away, the next request
		// elects this JVM.
		Files.delete(socket);
		assertThat(repository.inspect("k")).isEmpty();
		assertThat(repository.isArbiter()).isTrue();
	}

	private SocketLockRepository repository(Path directory) {
		this.directory = directory;
		this.repository = new SocketLockRepository(directory);
		return this.repository;
	}

}
