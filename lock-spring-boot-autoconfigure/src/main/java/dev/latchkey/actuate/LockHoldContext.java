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
 * The context of a {@code latchkey.hold} observation: from the grant until the lease is
 * released (after its minimum hold time, if any; {@code released}) or lost
 * ({@code lost}).
 *
 * <pre class="code">
 * class MyHoldConvention extends DefaultLockHoldObservationConvention {
 *     &#64;Override
 *     public KeyValues getHighCardinalityKeyValues(LockHoldContext context) {
 *         return super.getHighCardinalityKeyValues(context).and("order.key", context.getKey());
 *     }
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockHoldContext extends LockObservationContext {

	private final long fencingToken;

	/**
	 * Creates the context of one hold.
	 * @param lockName the lock's name
	 * @param key the lock key, prefix included
	 * @param backend the backend's name
	 * @param mode the lease mode
	 * @param permits the number of holders allowed at once
	 * @param fencingToken the fencing token of the grant
	 */
	public LockHoldContext(String lockName, String key, String backend, LeaseMode mode, int permits,
			long fencingToken) {
		super(lockName, key, backend, mode, permits);
		this.fencingToken = fencingToken;
	}

	/**
	 * The fencing token of the grant.
	 * @return the fencing token
	 */
	public long getFencingToken() {
		return this.fencingToken;
	}

}
