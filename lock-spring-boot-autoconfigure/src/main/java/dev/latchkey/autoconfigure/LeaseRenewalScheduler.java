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

import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.boot.task.ThreadPoolTaskSchedulerBuilder;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * The scheduler on which the auto-configured {@code LockTemplate} renews its leases,
 * built with Spring Boot's scheduler builders: the application's
 * {@code spring.task.scheduling.*} settings, customizers and task decorator apply, and
 * its tasks run on virtual threads when {@code spring.threads.virtual.enabled} is set. A
 * bean of its own type rather than a {@link TaskScheduler}, so that Spring Boot still
 * makes the application's scheduler and {@code @Scheduled} methods never run here;
 * stopped when the context closes, after the template that uses it.
 */
final class LeaseRenewalScheduler implements DisposableBean {

	static final String THREAD_NAME_PREFIX = "latchkey-lease-keeper-";

	private final TaskScheduler scheduler;

	private final Runnable shutdown;

	private LeaseRenewalScheduler(TaskScheduler scheduler, Runnable shutdown) {
		this.scheduler = scheduler;
		this.shutdown = shutdown;
	}

	/**
	 * Two platform threads: while one renewal hangs, the other still loses leases at
	 * their deadlines. Daemon threads, as the application's own work decides when the JVM
	 * may end.
	 */
	static LeaseRenewalScheduler platform(ThreadPoolTaskSchedulerBuilder builder) {
		ThreadPoolTaskScheduler scheduler = builder.poolSize(2).threadNamePrefix(THREAD_NAME_PREFIX).build();
		scheduler.setDaemon(true);
		scheduler.setRemoveOnCancelPolicy(true);
		scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
		scheduler.initialize();
		return new LeaseRenewalScheduler(scheduler, scheduler::shutdown);
	}

	/**
	 * A virtual thread per task.
	 */
	static LeaseRenewalScheduler virtual(SimpleAsyncTaskSchedulerBuilder builder) {
		SimpleAsyncTaskScheduler scheduler = builder.virtualThreads(true).threadNamePrefix(THREAD_NAME_PREFIX).build();
		return new LeaseRenewalScheduler(scheduler, scheduler::close);
	}

	TaskScheduler scheduler() {
		return this.scheduler;
	}

	@Override
	public void destroy() {
		this.shutdown.run();
	}

}
