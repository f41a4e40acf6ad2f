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
 * The root of Latchkey's exceptions. Catch a subclass to handle one situation:
 * <ul>
 * <li>{@link LockNotAcquiredException}: the lock was held elsewhere for the whole wait
 * time;</li>
 * <li>{@link LockLostException}: a lease held by this process was lost while the work
 * ran;</li>
 * <li>{@link LockBackendException}: the backend failed (unreachable, timed out);</li>
 * <li>{@link LockKeyException}: a key could not be made from the call's arguments;</li>
 * <li>{@link LockConfigurationException}: an annotation or a setting is wrong (raised at
 * startup).</li>
 * </ul>
 *
 * <pre class="code">
 * try {
 *     orders.pay(42);
 * }
 * catch (LockNotAcquiredException ex) {
 *     return ResponseEntity.status(HttpStatus.CONFLICT).build();
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public abstract class LockException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	protected LockException(String message) {
		super(message);
	}

	protected LockException(String message, @Nullable Throwable cause) {
		super(message, cause);
	}

}
