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

package dev.latchkey.shedlock;

import java.time.Duration;
import java.util.Optional;

import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockProvider;
import net.javacrumbs.shedlock.core.SimpleLock;

import org.springframework.util.Assert;

import dev.latchkey.LockContext;
import dev.latchkey.LockHandle;
import dev.latchkey.LockTemplate;

/**
 * A ShedLock {@link LockProvider} on Latchkey: existing {@code @SchedulerLock} methods
 * run on Latchkey's backends, with the lease renewed while the task runs, a lost lease
 * reported ({@code LockLostEvent}, the {@code latchkey.lost} metric) and a fencing token
 * for the task ({@link LockContext#fencingToken()}).
 *
 * <pre class="code">
 * &#64;Bean
 * LatchkeyLockProvider lockProvider(LockTemplate locks) {
 *     return new LatchkeyLockProvider(locks);
 * }
 *
 * &#64;Scheduled(cron = "0 *&#47;15 * * * *")
 * &#64;SchedulerLock(name = "reports", lockAtMostFor = "14m", lockAtLeastFor = "1m")
 * public void buildReports() {
 *     reportStore.save(build(), LockContext.fencingToken());
 * }
 * </pre>
 * <p>
 * Spring Boot makes one when ShedLock is on the class path and the application has no
 * {@link LockProvider} of its own. How ShedLock's settings map:
 * <ul>
 * <li>the lock's name is the key (after {@code latchkey.key-prefix}), so the lock shows
 * in the {@code locks} endpoint and in {@code LockRepository.inspect} under that
 * name;</li>
 * <li>{@code lockAtMostFor} is the lease's maximum hold time ({@code maxHold}): Latchkey
 * renews the lease while the task runs, up to {@code lockAtMostFor}; there the lease is
 * lost ({@code LossReason.MAX_HOLD_EXCEEDED}, a {@code LockLostEvent}) and given back, so
 * that another node may run the task, as ShedLock promises. The lease's TTL is
 * {@code latchkey.ttl}, or {@code lockAtMostFor} if that is shorter: it bounds how long
 * the lock outlives a node that died;</li>
 * <li>{@code lockAtLeastFor} is the minimum hold: the lock stays held that long after it
 * was acquired, even if the task ends sooner;</li>
 * <li>{@link #lock} never waits: it answers empty when the lock is held elsewhere, as
 * ShedLock's providers do.</li>
 * </ul>
 * Each lock returned is single-use. While it is held, the lease is the current one of the
 * thread that called {@link #lock} (the thread ShedLock runs the task on), so the task
 * can call {@link LockContext#assertHeld()} and {@link LockContext#fencingToken()}.
 * {@link SimpleLock#extend} is not supported: the lease is renewed without it.
 *
 * @since 0.1.0
 */
public class LatchkeyLockProvider implements LockProvider {

	private final LockTemplate locks;

	/**
	 * Makes a provider that locks through a template.
	 * @param locks the template, on the backend to use
	 */
	public LatchkeyLockProvider(LockTemplate locks) {
		Assert.notNull(locks, "LockTemplate must not be null");
		this.locks = locks;
	}

	/**
	 * Takes the lock if it is free, without waiting.
	 * @param configuration the lock's name, {@code lockAtMostFor} (the maximum hold, and
	 * the TTL if shorter than {@code latchkey.ttl}) and {@code lockAtLeastFor} (the
	 * minimum hold)
	 * @return the held lock, or empty when it is held elsewhere
	 * @throws dev.latchkey.LockBackendException if the backend failed
	 */
	@Override
	public Optional<SimpleLock> lock(LockConfiguration configuration) {
		Assert.notNull(configuration, "LockConfiguration must not be null");
		Duration atMost = configuration.getLockAtMostFor();
		Assert.isTrue(!atMost.isNegative() && !atMost.isZero(),
				() -> "lockAtMostFor of lock '" + configuration.getName() + "' must be positive, was " + atMost);
		Duration defaultTtl = this.locks.settings().ttl();
		Duration ttl = (atMost.compareTo(defaultTtl) < 0) ? atMost : defaultTtl;
		Optional<LockHandle> acquired = this.locks.exclusive(configuration.getName())
			.ttl(ttl)
			.minHold(configuration.getLockAtLeastFor())
			.maxHold(atMost)
			.waitTime(Duration.ZERO)
			.tryAcquire();
		if (acquired.isPresent() && acquired.get().isReentrant()) {
			// This thread already runs under the lock. A provider answers a held lock
			// with empty; ShedLock itself runs a nested task of the same lock name (see
			// LockAssert).
			acquired.get().close();
			return Optional.empty();
		}
		return acquired.map(LatchkeySimpleLock::new);
	}

	@Override
	public String toString() {
		return "LatchkeyLockProvider[" + this.locks.repository().backend() + "]";
	}

	/**
	 * A held lock: its lease is bound to the thread that took it until it is unlocked.
	 */
	private static final class LatchkeySimpleLock implements SimpleLock {

		private final LockHandle handle;

		private final LockContext.Binding binding;

		private final Thread thread;

		private boolean unlocked;

		LatchkeySimpleLock(LockHandle handle) {
			this.handle = handle;
			this.binding = LockContext.bind(handle.lease());
			this.thread = Thread.currentThread();
		}

		@Override
		public synchronized void unlock() {
			Assert.state(!this.unlocked, () -> "Lock '" + this.handle.lease().name() + "' is already unlocked");
			this.unlocked = true;
			if (Thread.currentThread() == this.thread) {
				// A binding can only be undone on its own thread; ShedLock unlocks there.
				this.binding.close();
			}
			// Releases after lockAtLeastFor, if that has not passed yet (from an
			// interrupted thread too: the template clears the interrupt status while it
			// releases, and then restores it).
			this.handle.close();
		}

		@Override
		public String toString() {
			return "LatchkeySimpleLock[" + this.handle + "]";
		}

	}

}
