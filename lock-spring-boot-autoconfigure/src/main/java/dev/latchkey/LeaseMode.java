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
 * How a key is held: by one owner at a time, by as many owners at once as a semaphore has
 * permits, or by any number of readers at once. A key has one mode at a time.
 *
 * @since 0.1.0
 */
public enum LeaseMode {

	/**
	 * One holder at a time ({@code @Exclusive}).
	 */
	EXCLUSIVE,

	/**
	 * As many holders at once as the semaphore has permits, each holding one
	 * ({@code @Semaphore}).
	 */
	SEMAPHORE,

	/**
	 * Any number of holders at once, none while an exclusive holder has the key: the read
	 * side of a read/write lock ({@code @Shared}), whose write side is
	 * {@link #EXCLUSIVE}.
	 */
	SHARED

}
