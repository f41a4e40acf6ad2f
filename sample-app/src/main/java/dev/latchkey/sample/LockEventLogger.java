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

package dev.latchkey.sample;

import java.util.Locale;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import dev.latchkey.event.LockEvent;

/**
 * Logs every lock event on one line: acquired, released, renewed, not acquired and lost.
 *
 * <pre class="code">
 * LockEventLogger : acquired     key=order:42 name=order:#id fencingToken=3 wait=0ms hold=0ms
 * LockEventLogger : released     key=order:42 name=order:#id fencingToken=3 wait=0ms hold=2004ms
 * </pre>
 */
@Component
public class LockEventLogger {

	private static final Log logger = LogFactory.getLog(LockEventLogger.class);

	@EventListener
	public void log(LockEvent event) {
		if (logger.isInfoEnabled()) {
			logger.info(String.format("%-12s key=%s name=%s fencingToken=%d wait=%dms hold=%dms", type(event),
					event.getKey(), event.getName(), event.getFencingToken(), event.getWaitDuration().toMillis(),
					event.getHoldDuration().toMillis()));
		}
	}

	private static String type(LockEvent event) {
		// LockNotAcquiredEvent -> not-acquired
		String name = event.getClass().getSimpleName().replaceFirst("^Lock", "").replaceFirst("Event$", "");
		return name.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
	}

}
