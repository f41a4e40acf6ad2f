package dev.latchkey.autoconfigure;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.boot.task.ThreadPoolTaskSchedulerBuilder;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * The scheduler on which the auto-configured {@code LockTemplate} renews its leases, built with Spring Boot's scheduler
 * builders: the application's {@code spring.task.scheduling.*} settings, customizers and task decorator apply, and its
 * tasks run on virtual threads when {@code spring.threads.virtual.enabled} is set. A bean of its own type rather than a
 * {@link TaskScheduler}, so that Spring Boot still makes the application's scheduler and {@code @Scheduled} methods
 * never run here; stopped when the context closes, after the template that uses it.
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
	 * Two platform threads: while one renewal hangs, the other still loses leases at their deadlines. Daemon threads,
	 * as the application's own work decides when the JVM may end.
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
