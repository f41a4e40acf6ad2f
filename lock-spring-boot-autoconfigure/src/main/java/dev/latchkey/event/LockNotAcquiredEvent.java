package dev.latchkey.event;

import java.time.Duration;

/**
 * Published when a lock stayed held elsewhere for the whole wait time (contention); the fencing token is 0.
 * <pre class="code">
 * &#64;EventListener
 * void onLockNotAcquiredEvent(LockNotAcquiredEvent event) {
 *     contention.increment(event.getName());
 * }
 * </pre>
 */
public class LockNotAcquiredEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	public LockNotAcquiredEvent(Object source, String key, String name, String backend, String owner, long fencingToken,
			Duration waitDuration, Duration holdDuration) {
		super(source, key, name, backend, owner, fencingToken, waitDuration, holdDuration);
	}

}
