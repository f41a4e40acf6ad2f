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
 * Thrown when a semaphore permit is asked for with another number of permits than the
 * key's holders use. The permits of a semaphore are fixed by its first holder for as long
 * as the key is held: a request with another {@code permits} value would otherwise let
 * more holders in than the first ones agreed to. Nothing is granted; the request is not
 * retried.
 *
 * <pre class="code">
 * &#64;Semaphore(value = "reports", permits = 4)
 * Report build(String month) { ... }
 *
 * &#64;Semaphore(value = "reports", permits = 2)   // while build() holds "reports": LockPermitsConflictException
 * Report preview(String month) { ... }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockPermitsConflictException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String key;

	private final @Nullable String name;

	private final int requestedPermits;

	private final int heldPermits;

	/**
	 * Makes the exception of a refused permit. The message names the lock, never its key:
	 * an annotation's key is made of method arguments and may be personal data, and
	 * messages end up in logs. The key is {@link #getKey()}.
	 * @param key the semaphore's key
	 * @param requestedPermits the number of permits the refused request asked for
	 * @param heldPermits the number of permits the key's holders use
	 */
	public LockPermitsConflictException(String key, int requestedPermits, int heldPermits) {
		this(key, null, null, requestedPermits, heldPermits);
	}

	private LockPermitsConflictException(String key, @Nullable String name, @Nullable String described,
			int requestedPermits, int heldPermits) {
		super(message(described, requestedPermits, heldPermits));
		this.key = key;
		this.name = name;
		this.requestedPermits = requestedPermits;
		this.heldPermits = heldPermits;
	}

	/**
	 * This exception, told the name of the lock (the backend that threw it could not know
	 * it): a copy whose message names the lock as {@code described}, with the same stack
	 * trace.
	 */
	LockPermitsConflictException forLock(String name, String described) {
		if (this.name != null) {
			return this;
		}
		LockPermitsConflictException named = new LockPermitsConflictException(this.key, name, described,
				this.requestedPermits, this.heldPermits);
		named.setStackTrace(getStackTrace());
		return named;
	}

	private static String message(@Nullable String described, int requestedPermits, int heldPermits) {
		return ((described != null) ? "Semaphore " + described : "A semaphore") + " was asked for a permit of "
				+ requestedPermits + " permits, but its holders use " + heldPermits
				+ "; use one permits value per key (the first holder fixes it while the key is held)";
	}

	/**
	 * The semaphore's key.
	 * @return the lock key, prefix included
	 */
	public String getKey() {
		return this.key;
	}

	/**
	 * The name of the semaphore: the key template of an annotation, or the name given to
	 * {@link LockOperation#named(String)}.
	 * @return the lock's name, or {@code null} when the exception did not reach the
	 * caller through {@link LockTemplate}
	 */
	public @Nullable String getName() {
		return this.name;
	}

	/**
	 * The number of permits the refused request asked for.
	 * @return the requested number of permits
	 */
	public int getRequestedPermits() {
		return this.requestedPermits;
	}

	/**
	 * The number of permits the key's holders use.
	 * @return the held number of permits
	 */
	public int getHeldPermits() {
		return this.heldPermits;
	}

}
