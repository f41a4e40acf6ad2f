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

package dev.latchkey.interceptor;

import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

import dev.latchkey.LeaseMode;
import dev.latchkey.annotation.ContentionPolicy;
import dev.latchkey.annotation.LostPolicy;

/**
 * The lock settings of one annotated method, parsed once at startup.
 *
 * @param description the method, as named in errors
 * @param mode exclusive, shared or semaphore
 * @param permits the number of permits (1 for exclusive locks)
 * @param keys the key templates: one, or several for an exclusive lock of several keys
 * @param name the lock's name for events and metrics
 * @param waitTime the wait time, or {@code null} for the default
 * @param ttl the time-to-live, or {@code null} for the default
 * @param minHold the minimum hold time
 * @param onContention what to do when the lock is not acquired
 * @param onLost the lost policy, resolved for the return kind (never
 * {@link LostPolicy#DEFAULT})
 * @param returnKind how the method returns its result
 * @param maxHold the maximum hold time, or {@code null} for the default
 * @param holderDescription the template of the holder's description, or {@code null} for
 * none
 * @param fair whether the lock asked to be fair ({@code @Exclusive(fair = true)}); when
 * not, {@code latchkey.fair} decides
 */
record LockedMethod(String description, LeaseMode mode, int permits, List<KeyTemplate> keys, String name,
		@Nullable Duration waitTime, @Nullable Duration ttl, Duration minHold, ContentionPolicy onContention,
		LostPolicy onLost, ReturnKind returnKind, @Nullable Duration maxHold, @Nullable KeyTemplate holderDescription,
		boolean fair) {

	/**
	 * How a locked method delivers its result, which decides how long the lease is held.
	 */
	enum ReturnKind {

		/**
		 * A plain value or {@code void}: held until the method returns.
		 */
		SYNC,

		/**
		 * An {@code Optional}: held until the method returns; skipping returns
		 * {@code Optional.empty()}.
		 */
		OPTIONAL,

		/**
		 * A {@code CompletableFuture} or {@code CompletionStage}: held until it
		 * completes.
		 */
		FUTURE,

		/**
		 * A Reactor {@code Mono}, or the result of a Kotlin {@code suspend} function
		 * (which Spring AOP runs as a {@code Mono}): acquired on subscription, held until
		 * it terminates or is cancelled.
		 */
		MONO,

		/**
		 * A Reactor {@code Flux}, or the {@code Flow} of a Kotlin {@code suspend}
		 * function: acquired on subscription, held until it terminates or is cancelled.
		 */
		FLUX,

		/**
		 * A Kotlin {@code Flow} (of a function that does not suspend): locked as a
		 * {@code Flux}, acquired on collection, held until it completes or collection is
		 * cancelled.
		 */
		FLOW;

		boolean isAsynchronous() {
			return this != SYNC && this != OPTIONAL;
		}

	}

}
