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

package dev.latchkey.event;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationEvent;

import dev.latchkey.LeaseMode;

/**
 * The base of every lock event. Listen to it to audit all lock activity, or to one
 * subclass for one kind of event:
 *
 * <pre class="code">
 * &#64;EventListener
 * void audit(LockEvent event) {
 *     log.info(event.getClass().getSimpleName() + " " + event.getKey() + " fence=" + event.getFencingToken());
 * }
 * </pre>
 * <p>
 * Events are published synchronously on the thread that acquired, released, renewed or
 * lost the lease. A listener that throws is logged and ignored: it never breaks locking.
 *
 * @since 0.1.0
 */
public abstract class LockEvent extends ApplicationEvent {

	private static final long serialVersionUID = 1L;

	private final String key;

	private final String name;

	private final String backend;

	private final String owner;

	private final long fencingToken;

	private final Duration waitDuration;

	private final Duration holdDuration;

	private @Nullable LeaseMode mode;

	protected LockEvent(Object source, String key, String name, String backend, String owner, long fencingToken,
			Duration waitDuration, Duration holdDuration) {
		super(source);
		this.key = key;
		this.name = name;
		this.backend = backend;
		this.owner = owner;
		this.fencingToken = fencingToken;
		this.waitDuration = waitDuration;
		this.holdDuration = holdDuration;
	}

	/**
	 * The evaluated lock key, with the configured prefix.
	 * @return the lock key
	 */
	public String getKey() {
		return this.key;
	}

	/**
	 * The lock's name: the key template of an annotation (never the evaluated key) or the
	 * name given to {@code LockTemplate}. Safe to use as a metric tag.
	 * @return the lock's name
	 */
	public String getName() {
		return this.name;
	}

	/**
	 * The backend that holds the lock.
	 * @return the backend name, for example {@code "memory"}
	 */
	public String getBackend() {
		return this.backend;
	}

	/**
	 * The owner name of this instance.
	 * @return the owner name
	 */
	public String getOwner() {
		return this.owner;
	}

	/**
	 * The fencing token of the grant; 0 when no lease was granted
	 * ({@link LockNotAcquiredEvent}).
	 * @return the fencing token
	 */
	public long getFencingToken() {
		return this.fencingToken;
	}

	/**
	 * How the key is held or asked for: {@link LeaseMode#EXCLUSIVE},
	 * {@link LeaseMode#SHARED} (a read/write lock's reader) or
	 * {@link LeaseMode#SEMAPHORE}.
	 * @return the mode, or {@code null} where it is not known (a
	 * {@link LockForceReleasedEvent}, or an event made by other code than the
	 * {@link EventPublishingLockObserver})
	 */
	public @Nullable LeaseMode getMode() {
		return this.mode;
	}

	/**
	 * Sets the mode, before the event is published.
	 * @param mode the lease's mode
	 * @return this event
	 */
	LockEvent withMode(LeaseMode mode) {
		this.mode = mode;
		return this;
	}

	/**
	 * How long the caller waited for the lock.
	 * @return the wait duration
	 */
	public Duration getWaitDuration() {
		return this.waitDuration;
	}

	/**
	 * How long the lease had been held when the event was published; zero for
	 * acquisitions and contention.
	 * @return the hold duration
	 */
	public Duration getHoldDuration() {
		return this.holdDuration;
	}

	@Override
	public String toString() {
		return getClass().getSimpleName() + "[key=" + this.key + ", name=" + this.name + ", backend=" + this.backend
				+ ((this.mode != null) ? ", mode=" + this.mode : "") + ", owner=" + this.owner + ", fencingToken="
				+ this.fencingToken + ", wait=" + this.waitDuration + ", hold=" + this.holdDuration + "]";
	}

}
