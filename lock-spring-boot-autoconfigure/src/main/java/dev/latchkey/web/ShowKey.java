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

package dev.latchkey.web;

/**
 * When a problem detail shows the lock key, which is made of method arguments and may be
 * personal data, next to the lock's name, which never is. Follows Spring Boot's
 * {@code show-values} convention.
 *
 * @since 0.1.0
 */
public enum ShowKey {

	/**
	 * Never show the key.
	 */
	NEVER,

	/**
	 * Show the key to an authenticated caller; with roles configured, only to one in at
	 * least one of them.
	 */
	WHEN_AUTHORIZED,

	/**
	 * Always show the key.
	 */
	ALWAYS

}
