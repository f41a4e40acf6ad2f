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

/**
 * A subscription to the release notifications of one key, returned by
 * {@link LockRepository#subscribe(String, Runnable)}. Closing it stops the notifications.
 *
 * <pre class="code">
 * try (ReleaseSubscription subscription = repository.subscribe("order:42", latch::countDown)) {
 *     latch.await(1, TimeUnit.SECONDS);
 * }
 * </pre>
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface ReleaseSubscription extends AutoCloseable {

	/**
	 * A subscription that never notifies, for backends that cannot tell when a key is
	 * released. Waiters then rely on polling alone.
	 */
	ReleaseSubscription NONE = () -> {
	};

	/**
	 * Stops the notifications. Never throws.
	 */
	@Override
	void close();

}
