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

/**
 * Published each time the lease keeper renews a lease at the backend.
 *
 * <pre class="code">
 * &#64;EventListener
 * void onLockRenewedEvent(LockRenewedEvent event) {
 *     log.debug("Renewed " + event.getKey() + " after " + event.getHoldDuration());
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockRenewedEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	public LockRenewedEvent(Object source, String key, String name, String backend, String owner, long fencingToken,
			Duration waitDuration, Duration holdDuration) {
		super(source, key, name, backend, owner, fencingToken, waitDuration, holdDuration);
	}

}
