package dev.latchkey.event;

import java.time.Duration;

/**
 * Published when a lease is granted (not when a nested call re-enters a lease already held).
 * <pre class="code">
 * &#64;EventListener
 * void onLockAcquiredEvent(LockAcquiredEvent event) {
 *     audit.record("locked", event.getKey(), event.getFencingToken());
 * }
 * </pre>
 */
public class LockAcquiredEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	public LockAcquiredEvent(Object source, String key, String name, String backend, String owner, long fencingToken,
			Duration waitDuration, Duration holdDuration) {
		super(source, key, name, backend, owner, fencingToken, waitDuration, holdDuration);
	}

}
