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
 * Published when an operator force-releases a key (the {@code locks} endpoint's delete
 * operation): every lease on it was evicted, whoever held it. The owner is the instance
 * that ran the operation; the fencing token is 0.
 *
 * <pre class="code">
 * &#64;EventListener
 * void onForceRelease(LockForceReleasedEvent event) {
 *     alerts.raise("Lock " + event.getKey() + " was force-released from " + event.getOwner());
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockForceReleasedEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	public LockForceReleasedEvent(Object source, String key, String backend, String owner) {
		super(source, key, key, backend, owner, 0, Duration.ZERO, Duration.ZERO);
	}

}
