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

package dev.latchkey.actuate;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.springframework.boot.actuate.audit.AuditEvent;
import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.context.ApplicationListener;

import dev.latchkey.event.LockEvent;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.event.LockRenewedEvent;

/**
 * Records lock events in the application's {@link AuditEventRepository}, where the
 * {@code auditevents} endpoint shows them. The principal is the lock owner; the type is
 * {@code LOCK_ACQUIRED}, {@code LOCK_RELEASED}, {@code LOCK_NOT_ACQUIRED},
 * {@code LOCK_ACQUIRE_FAILED}, {@code LOCK_LOST} or {@code LOCK_FORCE_RELEASED} (an
 * operator's force-release through the {@code locks} endpoint); the data holds the lock's
 * name, mode, backend, fencing token, wait and hold durations (and the reason of a loss).
 * Renewals are not recorded: they happen every few seconds per lease.
 * <p>
 * The data holds the lock's name, never its key: an annotation's key is made of method
 * arguments and may be personal data, and the {@code auditevents} endpoint shows the data
 * to whoever may read it. The name is the key template ({@code order:#id}) or the name
 * given to {@code LockOperation.named(String)}. A force-release has no name but the key
 * the operator gave, so its event records that key as its name. With
 * {@code latchkey.show-keys-in-messages=true} (or {@code includeKeys}) the data holds the
 * key too.
 * <p>
 * Auto-configured with {@code latchkey.audit.enabled=true}; by hand:
 *
 * <pre class="code">
 * &#64;Bean
 * LockAuditListener lockAuditListener(AuditEventRepository auditEvents) {
 *     return new LockAuditListener(auditEvents, false); // true: record keys as well
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class LockAuditListener implements ApplicationListener<LockEvent> {

	private final AuditEventRepository auditEvents;

	private final boolean includeKeys;

	/**
	 * Makes a listener that records lock names, not keys.
	 * @param auditEvents where to record
	 */
	public LockAuditListener(AuditEventRepository auditEvents) {
		this(auditEvents, false);
	}

	/**
	 * Makes a listener.
	 * @param auditEvents where to record
	 * @param includeKeys whether the data holds the lock's key beside its name (keys may
	 * be personal data)
	 */
	public LockAuditListener(AuditEventRepository auditEvents, boolean includeKeys) {
		this.auditEvents = auditEvents;
		this.includeKeys = includeKeys;
	}

	@Override
	public void onApplicationEvent(LockEvent event) {
		if (event instanceof LockRenewedEvent) {
			return;
		}
		Map<String, Object> data = new LinkedHashMap<>();
		if (this.includeKeys) {
			data.put("key", event.getKey());
		}
		data.put("name", event.getName());
		if (event.getMode() != null) {
			data.put("mode", event.getMode().name());
		}
		data.put("backend", event.getBackend());
		data.put("fencingToken", event.getFencingToken());
		data.put("wait", event.getWaitDuration().toString());
		data.put("hold", event.getHoldDuration().toString());
		if (event instanceof LockLostEvent lost) {
			data.put("reason", lost.getReason().name());
		}
		this.auditEvents.add(new AuditEvent(event.getOwner(), type(event), data));
	}

	private static String type(LockEvent event) {
		// LockNotAcquiredEvent -> LOCK_NOT_ACQUIRED
		String simple = event.getClass().getSimpleName().replaceFirst("Event$", "");
		return simple.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
	}

}
