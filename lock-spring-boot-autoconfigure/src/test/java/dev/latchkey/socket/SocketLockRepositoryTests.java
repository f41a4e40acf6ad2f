package dev.latchkey.socket;

import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LockRepository;
import dev.latchkey.test.LockRepositoryContractTests;

/**
 * The socket backend passes the backend contract, with the holders as threads of one JVM; its multi-process behaviour
 * is tested with child processes elsewhere.
 */
class SocketLockRepositoryTests extends LockRepositoryContractTests {

	@TempDir
	static Path temporary;

	@Override
	protected LockRepository createRepository() {
		return new SocketLockRepository(temporary.resolve("locks"));
	}

}
