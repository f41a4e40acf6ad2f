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

package dev.latchkey.support;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.QueueingLockRepository;

/**
 * A {@link QueueingLockRepository} that queues only the exclusive leases that ask for
 * fairness ({@link LeaseSpec#fair()}): the others wait by attempts woken by release
 * notifications, as on every backend, and semaphores and read/write locks have no queue.
 * The etcd, Redis and memory backends are such repositories; one that queues every lease
 * (the socket backend) keeps the interface's defaults.
 *
 * <pre class="code">
 * public class MyLockRepository implements FairExclusiveQueueing {
 *     // acquireQueued and cancelQueued are called for fair exclusive leases only
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public interface FairExclusiveQueueing extends QueueingLockRepository {

	/**
	 * Queues the exclusive leases that ask for fairness.
	 */
	@Override
	default boolean queues(LeaseSpec lease) {
		return lease.fair() && lease.mode() == LeaseMode.EXCLUSIVE;
	}

	/**
	 * Fair for exclusive leases only.
	 */
	@Override
	default boolean isFair(LeaseMode mode) {
		return mode == LeaseMode.EXCLUSIVE;
	}

}
