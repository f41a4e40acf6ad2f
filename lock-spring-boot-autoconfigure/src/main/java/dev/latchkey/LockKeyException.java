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
 * Thrown at call time when a lock key cannot be made: a key template segment evaluated to
 * {@code null}, failed to evaluate, or the key is longer than
 * {@code latchkey.max-key-length}; or when an annotation's {@code description} template
 * did the same, or evaluated to a description a lease does not take (longer than 200
 * characters, or with a control character). Nothing is locked and the guarded method is
 * not called.
 *
 * <pre class="code">
 * &#64;Exclusive("customer:#customer.id")
 * void update(Customer customer) { ... }
 *
 * update(new Customer(null)); // LockKeyException: '#customer.id' evaluated to null
 * </pre>
 *
 * @since 0.1.0
 */
public class LockKeyException extends LockException {

	private static final long serialVersionUID = 1L;

	public LockKeyException(String message) {
		super(message);
	}

	public LockKeyException(String message, Throwable cause) {
		super(message, cause);
	}

}
