package dev.latchkey;

import org.jspecify.annotations.Nullable;

/**
 * The root of Latchkey's exceptions. Catch a subclass to handle one situation:
 * <ul>
 * <li>{@link LockNotAcquiredException}: the lock was held elsewhere for the whole wait time;</li>
 * <li>{@link LockLostException}: a lease held by this process was lost while the work ran;</li>
 * <li>{@link LockBackendException}: the backend failed (unreachable, timed out);</li>
 * <li>{@link LockKeyException}: a key could not be made from the call's arguments;</li>
 * <li>{@link LockConfigurationException}: an annotation or a setting is wrong (raised at startup).</li>
 * </ul>
 * <pre class="code">
 * try {
 *     orders.pay(42);
 * }
 * catch (LockNotAcquiredException ex) {
 *     return ResponseEntity.status(HttpStatus.CONFLICT).build();
 * }
 * </pre>
 */
public abstract class LockException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	protected LockException(String message) {
		super(message);
	}

	protected LockException(String message, @Nullable Throwable cause) {
		super(message, cause);
	}

}
