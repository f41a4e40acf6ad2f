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

package dev.latchkey.annotation;

/**
 * What a guarded call does when the lock stays held elsewhere for the whole wait time.
 *
 * @since 0.1.0
 */
public enum ContentionPolicy {

	/**
	 * Throw {@link dev.latchkey.LockNotAcquiredException} (a failed
	 * {@code CompletableFuture}, an error signal for Reactor types).
	 */
	THROW,

	/**
	 * Skip the method: return {@code null} (void), {@code Optional.empty()}, a
	 * {@code CompletableFuture} completed with {@code null}, or an empty
	 * {@code Mono}/{@code Flux}. Not allowed on methods returning a primitive.
	 */
	SKIP

}
