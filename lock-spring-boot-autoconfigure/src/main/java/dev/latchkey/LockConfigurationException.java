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

import org.jspecify.annotations.Nullable;

/**
 * Thrown at application start when a lock annotation or setting is wrong: a key template
 * that does not parse or names an unknown parameter, an unreadable duration, a policy
 * that does not fit the method. The message names the method or property, and
 * {@link #getAction()} says what to change; Spring Boot prints both through its failure
 * analysis.
 *
 * <pre class="code">
 * &#64;Exclusive("order:#orderId") // no parameter called orderId: the application does not start
 * public Receipt pay(long id) { ... }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockConfigurationException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String action;

	public LockConfigurationException(String message, String action) {
		this(message, action, null);
	}

	public LockConfigurationException(String message, String action, @Nullable Throwable cause) {
		super(message, cause);
		this.action = action;
	}

	/**
	 * What the user should change.
	 * @return the suggested action
	 */
	public String getAction() {
		return this.action;
	}

}
