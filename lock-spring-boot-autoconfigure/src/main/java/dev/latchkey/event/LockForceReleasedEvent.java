package dev.latchkey.event;

import java.time.Duration;

/**
 * Published when an operator force-releases a key (the {@code locks} endpoint's delete operation): every lease on it
 * was evicted, whoever held it. The owner is the instance that ran the operation; the fencing token is 0.
 * <pre class="code">
 * &#64;EventListener
 * void onForceRelease(LockForceReleasedEvent event) {
 *     alerts.raise("Lock " + event.getKey() + " was force-released from " + event.getOwner());
 * }
 * </pre>
 */
public class LockForceReleasedEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	public LockForceReleasedEvent(Object source, String key, String backend, String owner) {
		super(source, key, key, backend, owner, 0, Duration.ZERO, Duration.ZERO);
	}

}
