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

import org.jspecify.annotations.Nullable;

/**
 * Thrown when the backend itself failed: the server is unreachable, timed out or answered
 * an error. Never means "held elsewhere" (that is {@link LockNotAcquiredException}).
 * <p>
 * The message names the lock, never its key (unless
 * {@code latchkey.show-keys-in-messages} is on): an annotation's key is made of method
 * arguments and may be personal data, and messages end up in logs. The key is
 * {@link #getKey()}.
 *
 * <pre class="code">
 * catch (LockBackendException ex) {
 *     log.warn("Lock store " + ex.getBackend() + " is down", ex);
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockBackendException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String backend;

	private final @Nullable String key;

	private final @Nullable String name;

	public LockBackendException(String backend, String message, @Nullable Throwable cause) {
		this(backend, null, message, cause);
	}

	/**
	 * Makes the exception of a failed call about one key.
	 * @param backend the backend that failed
	 * @param key the key the call was about, or {@code null}; kept for {@link #getKey()},
	 * never put in the message
	 * @param message what failed, without the key
	 * @param cause the cause, or {@code null}
	 */
	public LockBackendException(String backend, @Nullable String key, String message, @Nullable Throwable cause) {
		this(backend, key, null, null, message, cause);
	}

	private LockBackendException(String backend, @Nullable String key, @Nullable String name,
			@Nullable String described, String message, @Nullable Throwable cause) {
		super((described != null) ? "Lock " + described + ": " + message : message, cause);
		this.backend = backend;
		this.key = key;
		this.name = name;
	}

	/**
	 * This failure, told which lock the failed call was for (the backend that threw it
	 * could not know the lock's name): a copy whose message starts with the lock as
	 * {@code described}, with the same cause and stack trace.
	 */
	LockBackendException forLock(String key, String name, String described) {
		if (this.name != null) {
			return this;
		}
		String message = super.getMessage();
		LockBackendException named = new LockBackendException(this.backend, (this.key != null) ? this.key : key, name,
				described, (message != null) ? message : "", getCause());
		named.setStackTrace(getStackTrace());
		return named;
	}

	/**
	 * The backend that failed.
	 * @return the backend name
	 */
	public String getBackend() {
		return this.backend;
	}

	/**
	 * The key the failed call was about.
	 * @return the lock key, prefix included, or {@code null} when the call was not about
	 * one key (a renewal of several leases, a closed backend)
	 */
	public @Nullable String getKey() {
		return this.key;
	}

	/**
	 * The name of the lock the failed call was for: the key template of an annotation, or
	 * the name given to {@link LockOperation#named(String)}.
	 * @return the lock's name, or {@code null} when the failure did not come from
	 * acquiring a lock
	 */
	public @Nullable String getName() {
		return this.name;
	}

}
