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

	private final int requestedPermits;

	private final int heldPermits;

	public LockPermitsConflictException(String key, int requestedPermits, int heldPermits) {
		super("Semaphore '" + key + "' was asked for a permit of " + requestedPermits + " permits, but its holders use "
				+ heldPermits + "; use one permits value per key (the first holder fixes it while the key is held)");
		this.key = key;
		this.requestedPermits = requestedPermits;
		this.heldPermits = heldPermits;
	}

	/**
	 * The semaphore's key.
	 * @return the lock key, prefix included
	 */
	public String getKey() {
		return this.key;
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
