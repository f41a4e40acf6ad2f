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

package dev.latchkey.actuate;

import dev.latchkey.LeaseMode;

/**
 * The context of a {@code latchkey.acquire} observation: from the first attempt until the
 * lock is granted, the wait time ends ({@code contended}) or the backend fails
 * ({@code failed}).
 *
 * <pre class="code">
 * class MyAcquireConvention extends DefaultLockAcquireObservationConvention {
 *     &#64;Override
 *     public String getContextualName(LockAcquireContext context) {
 *         return "wait for " + context.getLockName();
 *     }
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockAcquireContext extends LockObservationContext {

	/**
	 * Creates the context of one acquisition.
	 * @param lockName the lock's name
	 * @param key the lock key, prefix included
	 * @param backend the backend's name
	 * @param mode the lease mode
	 * @param permits the number of holders allowed at once
	 */
	public LockAcquireContext(String lockName, String key, String backend, LeaseMode mode, int permits) {
		super(lockName, key, backend, mode, permits);
	}

}
