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

package dev.latchkey;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when a lock stayed held elsewhere for the whole wait time and the caller asked
 * to fail rather than skip.
 *
 * <pre class="code">
 * try {
 *     locks.exclusive("order:42").waitTime(Duration.ofSeconds(2)).run(this::pay);
 * }
 * catch (LockNotAcquiredException ex) {
 *     log.info("Order " + ex.getKey() + " is being paid elsewhere");
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockNotAcquiredException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String key;

	private final String name;

	private final Duration waitTime;

	public LockNotAcquiredException(String key, Duration waitTime) {
		this(key, key, waitTime, null);
	}

	public LockNotAcquiredException(String key, Duration waitTime, @Nullable Throwable cause) {
		this(key, key, waitTime, cause);
	}

	/**
	 * Makes the exception of a lock that was not acquired.
	 * @param key the lock key
	 * @param name the lock's name (an annotation's key template, or the name given to
	 * {@link LockOperation#named(String)})
	 * @param waitTime how long the caller waited
	 * @param cause the cause (an {@link InterruptedException} when the wait was
	 * interrupted), or {@code null}
	 */
	public LockNotAcquiredException(String key, String name, Duration waitTime, @Nullable Throwable cause) {
		this(key, name, "'" + name + "'", waitTime, cause);
	}

	/**
	 * Makes the exception of a lock that was not acquired, its message naming the lock as
	 * {@code described} (with its key when {@code latchkey.show-keys-in-messages} is on).
	 */
	LockNotAcquiredException(String key, String name, String described, Duration waitTime, @Nullable Throwable cause) {
		super(message(described, waitTime, cause), cause);
		this.key = key;
		this.name = name;
		this.waitTime = waitTime;
	}

	/**
	 * The message names the lock, not its key: an annotation's key is made of method
	 * arguments and may be personal data, and messages end up in logs. The key is
	 * {@link #getKey()}.
	 */
	private static String message(String described, Duration waitTime, @Nullable Throwable cause) {
		if (cause instanceof InterruptedException) {
			return "Interrupted while waiting for lock " + described;
		}
		return waitTime.isZero() ? "Lock " + described + " is held elsewhere"
				: "Lock " + described + " stayed held elsewhere for the whole wait time of " + waitTime;
	}

	/**
	 * The key that could not be locked.
	 * @return the lock key
	 */
	public String getKey() {
		return this.key;
	}

	/**
	 * The lock's name: the key template of an annotation ({@code order:#id}), or for
	 * {@link LockTemplate} the name given with {@link LockOperation#named(String)}, which
	 * defaults to the key. Unlike the key, an annotation's name holds no argument values,
	 * so it can be shown where the key could be personal data.
	 * @return the lock's name
	 */
	public String getName() {
		return this.name;
	}

	/**
	 * Whether the wait was interrupted, rather than the lock found held elsewhere for the
	 * whole wait time.
	 * @return {@code true} if the waiting thread was interrupted
	 */
	public boolean isInterrupted() {
		return getCause() instanceof InterruptedException;
	}

	/**
	 * How long the caller waited.
	 * @return the wait time
	 */
	public Duration getWaitTime() {
		return this.waitTime;
	}

}
