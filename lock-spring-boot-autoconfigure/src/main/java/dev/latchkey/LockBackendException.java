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

	public LockBackendException(String backend, String message, @Nullable Throwable cause) {
		super(message, cause);
		this.backend = backend;
	}

	/**
	 * The backend that failed.
	 * @return the backend name
	 */
	public String getBackend() {
		return this.backend;
	}

}
