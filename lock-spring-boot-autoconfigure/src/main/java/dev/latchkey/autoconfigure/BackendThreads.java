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

package dev.latchkey.autoconfigure;

import java.util.concurrent.ThreadFactory;

import org.springframework.boot.thread.Threading;
import org.springframework.core.env.Environment;
import org.springframework.core.task.VirtualThreadTaskExecutor;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * The thread factory a backend's repository gets from the auto-configuration: virtual
 * threads when the application enables them ({@code spring.threads.virtual.enabled=true}
 * on Java 21 or newer, as Spring Boot's own executors and schedulers do), daemon platform
 * threads otherwise, named by the backend's prefix either way.
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
