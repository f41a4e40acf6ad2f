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

import java.util.ArrayList;
import java.util.List;

import org.springframework.core.NestedExceptionUtils;

/**
 * Picks, from a failure's chain of causes, the message a user should read in a
 * {@link dev.latchkey.LockBackendException}: the most specific one that still says what
 * it is about.
 *
 * <pre class="code">
 * throw new LockBackendException("redis", key, "Acquiring the lock failed: " + FailureMessages.reason(ex), ex);
 * // ... failed: Connection refused: /127.0.0.1:6379   (not "Connection refused", nor "Unable to connect to Redis")
 * </pre>
 *
 * @since 0.1.0
 */
public final class FailureMessages {

	private FailureMessages() {
	}

	/**
	 * The deepest message of the chain that is not already contained in its parent's, or
	 * the most specific cause's class name when no cause has a message.
	 * @param failure the failure
	 * @return the message to show
	 */
	public static String reason(Throwable failure) {
		List<String> messages = new ArrayList<>();
		for (Throwable cause = failure; cause != null && messages.size() < 20; cause = cause.getCause()) {
			if (cause.getMessage() != null && !cause.getMessage().isBlank()) {
				messages.add(cause.getMessage());
			}
		}
		if (messages.isEmpty()) {
			return NestedExceptionUtils.getMostSpecificCause(failure).getClass().getName();
		}
		int chosen = messages.size() - 1;
		while (chosen > 0 && messages.get(chosen - 1).contains(messages.get(chosen))) {
			chosen--;
		}
		return messages.get(chosen);
	}

}
