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
 * What happens to running work whose lease is lost (renewal answered "not yours", or kept
 * failing until the lease's validity ran out). In every case the lease turns invalid,
 * {@link dev.latchkey.LockContext} calls under it throw, a
 * {@link dev.latchkey.event.LockLostEvent} is published and a release is attempted.
 *
 * @since 0.1.0
 */
public enum LostPolicy {

	/**
	 * {@link #INTERRUPT} for methods that return a value directly, {@link #CANCEL} for
	 * methods that return a {@code CompletableFuture}, {@code CompletionStage},
	 * {@code Mono} or {@code Flux}.
	 */
	DEFAULT,

	/**
	 * Only the event: the work runs on and the call returns normally. Use it when the
	 * work checks {@link dev.latchkey.LockContext#assertHeld()} itself.
	 */
	NOTIFY,

	/**
	 * Interrupt the thread that runs the guarded method while it runs it; the call then
	 * ends with {@link dev.latchkey.LockLostException}, even if the work finished. For
	 * synchronous methods only.
	 */
	INTERRUPT,

	/**
	 * Complete the returned {@code CompletableFuture} exceptionally, or cancel the
	 * {@code Mono}/{@code Flux} subscription and signal the error downstream, with
	 * {@link dev.latchkey.LockLostException}. For asynchronous methods only.
	 */
	CANCEL

}
