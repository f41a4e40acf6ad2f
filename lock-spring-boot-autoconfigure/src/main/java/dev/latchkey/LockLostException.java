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
 * Thrown when a lease held by this process was lost: by {@link LockContext} calls made
 * under a lost lease, and by a guarded call whose lease was lost while it ran (unless its
 * lost policy is {@link dev.latchkey.annotation.LostPolicy#NOTIFY}).
 *
 * <pre class="code">
 * for (Batch batch : batches) {
 *     LockContext.assertHeld(); // throws LockLostException once the lease is lost
 *     write(batch, LockContext.fencingToken());
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockLostException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String key;

	private final String name;

	private final LossReason reason;

	public LockLostException(String key, LossReason reason, @Nullable Throwable cause) {
		this(key, key, reason, cause);
	}

	/**
	 * Makes the exception of a lost lease.
	 * @param key the lock key
	 * @param name the lock's name (an annotation's key template, or the name given to
	 * {@link LockOperation#named(String)})
	 * @param reason why the lease was lost
	 * @param cause the cause, or {@code null}
	 */
	public LockLostException(String key, String name, LossReason reason, @Nullable Throwable cause) {
		this(key, name, "'" + name + "'", reason, cause);
	}

	/**
	 * Makes the exception of a lost lease, its message naming the lock as
	 * {@code described} (with its key when {@code latchkey.show-keys-in-messages} is on).
	 */
	LockLostException(String key, String name, String described, LossReason reason, @Nullable Throwable cause) {
		super(message(described, reason), cause);
		this.key = key;
		this.name = name;
		this.reason = reason;
	}

	/**
	 * The message names the lock, not its key: an annotation's key is made of method
	 * arguments and may be personal data, and messages end up in logs. The key is
	 * {@link #getKey()}.
	 */
	private static String message(String described, LossReason reason) {
		return switch (reason) {
			case NOT_OWNER -> "Lock " + described + " was lost: the backend no longer holds this lease";
			case RENEWAL_FAILED -> "Lock " + described + " was lost: renewal failed until the lease's validity ran out";
			case EXPIRED_BEFORE_RELEASE ->
				"Lock " + described + " was lost: the backend no longer held it when the work finished";
			case MAX_HOLD_EXCEEDED ->
				"Lock " + described + " was lost: it was held for its maximum hold time and given back";
		};
	}

	/**
	 * The key whose lease was lost.
	 * @return the lock key
	 */
	public String getKey() {
		return this.key;
	}

	/**
	 * The lock's name: the key template of an annotation ({@code order:#id}), or for
	 * {@link LockTemplate} the name given with {@link LockOperation#named(String)}, which
	 * defaults to the key.
	 * @return the lock's name
	 */
	public String getName() {
		return this.name;
	}

	/**
	 * Why the lease was lost.
	 * @return the reason
	 */
	public LossReason getReason() {
		return this.reason;
	}

}
