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

import dev.latchkey.LockLostException;
import dev.latchkey.LossReason;

/**
 * Published when a lease held by this instance is lost: the backend answered that it is
 * no longer ours, renewals kept failing until its validity ran out, or it had expired
 * when its work finished. The work that held it may have run without the lock; act on it.
 *
 * <pre class="code">
 * &#64;EventListener
 * void onLost(LockLostEvent event) {
 *     alerts.raise("Lock " + event.getKey() + " lost: " + event.getReason(), event.getException());
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockLostEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	private final LockLostException exception;

	public LockLostEvent(Object source, String key, String name, String backend, String owner, long fencingToken,
			Duration waitDuration, Duration holdDuration, LockLostException exception) {
		super(source, key, name, backend, owner, fencingToken, waitDuration, holdDuration);
		this.exception = exception;
	}

	/**
	 * Why the lease was lost.
	 * @return the reason
	 */
	public LossReason getReason() {
		return this.exception.getReason();
	}

	/**
	 * The exception that describes the loss; its cause is the backend failure, if any.
	 * @return the exception
	 */
	public LockLostException getException() {
		return this.exception;
	}

}
