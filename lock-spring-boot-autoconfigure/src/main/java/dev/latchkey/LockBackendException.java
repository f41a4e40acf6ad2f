package dev.latchkey;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when the backend itself failed: the server is unreachable, timed out or answered an error. Never means
 * "held elsewhere" (that is {@link LockNotAcquiredException}).
 * <pre class="code">
 * catch (LockBackendException ex) {
 *     log.warn("Lock store " + ex.getBackend() + " is down", ex);
 * }
 * </pre>
 */
public class LockBackendException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String backend;

	public LockBackendException(String backend, String message, @Nullable Throwable cause) {
		super(message, cause);
		this.backend = backend;
	}

	/**
	 * The backend that failed.
	 * @return the backend name
	 */
	public String getBackend() {
		return this.backend;
	}

}
