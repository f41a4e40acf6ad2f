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
 * Why a lease was lost.
 *
 * @since 0.1.0
 */
public enum LossReason {

	/**
	 * The backend answered that the lease is no longer ours: it expired there or another
	 * owner took the key.
	 */
	NOT_OWNER,

	/**
	 * Renewals kept failing until the lease's local validity deadline passed.
	 */
	RENEWAL_FAILED,

	/**
	 * The backend no longer held the lease when the work finished and released it (it
	 * expired, or the backend lost it, before a renewal could notice).
	 */
	EXPIRED_BEFORE_RELEASE,

	/**
	 * The lease was held for its maximum hold time ({@code maxHold},
	 * {@code latchkey.max-hold}): renewal stopped there and the lease was given back at
	 * the backend, so that another holder may take the key.
	 */
	MAX_HOLD_EXCEEDED

}
