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

import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * What a backend knows about one held key: its mode and its current holders.
 *
 * <pre class="code">
 * repository.inspect("order:42").ifPresent(info -&gt; log.info(info.holders()));
 * </pre>
 *
 * @param key the lock key
 * @param mode how the key is held
 * @param permits the number of holders allowed at once (1 for exclusive keys)
 * @param holders the current holders, never empty
 * @since 0.1.0
 */
public record LockInfo(String key, LeaseMode mode, int permits, List<Holder> holders) {

	public LockInfo {
		holders = List.copyOf(holders);
	}

	/**
	 * How many more holders the key takes now: the permits its holders fixed, less its
	 * holders; 0 for an exclusive key, which is held.
	 *
	 * <pre class="code">
	 * int free = repository.inspect("reports").map(LockInfo::freePermits).orElse(4);
	 * </pre>
	 * @return the free permits, never negative
	 */
	public int freePermits() {
		return Math.max(0, this.permits - this.holders.size());
	}

	/**
	 * One holder of a key.
	 *
	 * @param owner the owner name given when the lease was acquired
	 * @param fencingToken the fencing token of the holder's grant
	 * @param remainingTtl the time until the backend expires the lease, or {@code null}
	 * where the backend does not expire leases by time
	 * @param description the description given when the lease was acquired
	 * ({@link LeaseSpec#description()}), or {@code null} for none
	 */
	public record Holder(String owner, long fencingToken, @Nullable Duration remainingTtl,
			@Nullable String description) {

		/**
		 * A holder without a description.
		 * @param owner the owner name given when the lease was acquired
		 * @param fencingToken the fencing token of the holder's grant
		 * @param remainingTtl the time until the backend expires the lease, or
		 * {@code null} where the backend does not expire leases by time
		 */
		public Holder(String owner, long fencingToken, @Nullable Duration remainingTtl) {
			this(owner, fencingToken, remainingTtl, null);
		}

	}

}
