package dev.latchkey.autoconfigure;

import java.nio.file.Path;

import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.socket.SocketLockRepository;

/**
 * The socket backend: chosen by {@code latchkey.backend=socket}, and by {@code auto} when no other backend is
 * configured. Its threads stay daemon platform threads even when the application enables virtual threads: the
 * arbiter's selector thread blocks in {@code select} and a connection's reader in a socket read for the life of the
 * application, where a virtual thread would gain nothing.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(OnLockBackendCondition.Socket.class)
class SocketBackendConfiguration {

	@Bean(destroyMethod = "close")
	SocketLockRepository lockRepository(LatchkeyProperties properties, LockSettings lockSettings) {
		LatchkeyProperties.Socket socket = properties.getSocket();
		Path directory = (socket.getDirectory() != null) ? socket.getDirectory()
				: SocketLockRepository.defaultDirectory();
		return new SocketLockRepository(directory, lockSettings.owner(), socket.getRequestTimeout());
	}

}
