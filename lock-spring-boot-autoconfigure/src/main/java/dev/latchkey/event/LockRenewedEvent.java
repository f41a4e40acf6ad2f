package dev.latchkey.event;

import java.time.Duration;

/**
 * Published each time the lease keeper renews a lease at the backend.
 * <pre class="code">
 * &#64;EventListener
 * void onLockRenewedEvent(LockRenewedEvent event) {
 *     log.debug("Renewed " + event.getKey() + " after " + event.getHoldDuration());
 * }
 * </pre>
 */
public class LockRenewedEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	public LockRenewedEvent(Object source, String key, String name, String backend, String owner, long fencingToken,
			Duration waitDuration, Duration holdDuration) {
		super(source, key, name, backend, owner, fencingToken, waitDuration, holdDuration);
	}

}
