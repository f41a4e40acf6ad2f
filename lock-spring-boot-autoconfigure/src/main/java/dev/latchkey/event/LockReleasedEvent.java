package dev.latchkey.event;

import java.time.Duration;

/**
 * Published when a lease is released after its work finished (after the minimum hold time, if one is set).
 * <pre class="code">
 * &#64;EventListener
 * void onLockReleasedEvent(LockReleasedEvent event) {
 *     audit.record("unlocked", event.getKey(), event.getHoldDuration());
 * }
 * </pre>
 */
public class LockReleasedEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	public LockReleasedEvent(Object source, String key, String name, String backend, String owner, long fencingToken,
			Duration waitDuration, Duration holdDuration) {
		super(source, key, name, backend, owner, fencingToken, waitDuration, holdDuration);
	}

}
