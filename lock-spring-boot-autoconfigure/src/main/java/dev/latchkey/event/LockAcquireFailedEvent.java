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

import dev.latchkey.LockBackendException;

/**
 * Published when acquiring a lock failed because the backend failed (unreachable, timed
 * out): the caller gets the {@link LockBackendException} this event carries. Not
 * published for contention ({@link LockNotAcquiredEvent}). The fencing token is 0.
 *
 * <pre class="code">
 * &#64;EventListener
 * void onFailure(LockAcquireFailedEvent event) {
 *     log.warn("Lock backend " + event.getBackend() + " failed", event.getException());
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockAcquireFailedEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	private final LockBackendException exception;

	public LockAcquireFailedEvent(Object source, String key, String name, String backend, String owner,
			Duration waitDuration, LockBackendException exception) {
		super(source, key, name, backend, owner, 0, waitDuration, Duration.ZERO);
		this.exception = exception;
	}

	/**
	 * The backend failure, as thrown to the caller.
	 * @return the exception
	 */
	public LockBackendException getException() {
		return this.exception;
	}

}
