package dev.latchkey.event;

import java.time.Duration;

import dev.latchkey.LockBackendException;

/**
 * Published when acquiring a lock failed because the backend failed (unreachable, timed out): the caller gets the
 * {@link LockBackendException} this event carries. Not published for contention ({@link LockNotAcquiredEvent}). The
 * fencing token is 0.
 * <pre class="code">
 * &#64;EventListener
 * void onFailure(LockAcquireFailedEvent event) {
 *     log.warn("Lock backend " + event.getBackend() + " failed", event.getException());
 * }
 * </pre>
 */
public class LockAcquireFailedEvent extends LockEvent {

	private static final long serialVersionUID = 1L;

	private final LockBackendException exception;

	public LockAcquireFailedEvent(Object source, String key, String name, String backend, String owner,
			Duration waitDuration, LockBackendException exception) {
		super(source, key, name, backend, owner, 0, waitDuration, Duration.ZERO);
		this.exception = exception;
	}

	/**
	 * The backend failure, as thrown to the caller.
	 * @return the exception
	 */
	public LockBackendException getException() {
		return this.exception;
	}

}
