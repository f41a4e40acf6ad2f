package dev.latchkey.autoconfigure;

import java.util.concurrent.ThreadFactory;

import org.springframework.boot.thread.Threading;
import org.springframework.core.env.Environment;
import org.springframework.core.task.VirtualThreadTaskExecutor;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * The thread factory a backend's repository gets from the auto-configuration: virtual threads when the application
 * enables them ({@code spring.threads.virtual.enabled=true} on Java 21 or newer, as Spring Boot's own executors and
 * schedulers do), daemon platform threads otherwise, named by the backend's prefix either way.
 */
final class BackendThreads {

	private BackendThreads() {
	}

	static ThreadFactory threadFactory(Environment environment, String threadNamePrefix) {
		if (Threading.VIRTUAL.isActive(environment)) {
			return new VirtualThreadTaskExecutor(threadNamePrefix).getVirtualThreadFactory();
		}
		CustomizableThreadFactory threads = new CustomizableThreadFactory(threadNamePrefix);
		threads.setDaemon(true);
		return threads;
	}

}
