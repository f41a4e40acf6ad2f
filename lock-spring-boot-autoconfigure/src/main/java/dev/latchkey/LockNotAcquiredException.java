package dev.latchkey;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when a lock stayed held elsewhere for the whole wait time and the caller asked to fail rather than skip.
 * <pre class="code">
 * try {
 *     locks.exclusive("order:42").waitTime(Duration.ofSeconds(2)).run(this::pay);
 * }
 * catch (LockNotAcquiredException ex) {
 *     log.info("Order " + ex.getKey() + " is being paid elsewhere");
 * }
 * </pre>
 */
public class LockNotAcquiredException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String key;

	private final Duration waitTime;

	public LockNotAcquiredException(String key, Duration waitTime) {
		this(key, waitTime, null);
	}

	public LockNotAcquiredException(String key, Duration waitTime, @Nullable Throwable cause) {
		super(message(key, waitTime, cause), cause);
		this.key = key;
		this.waitTime = waitTime;
	}

	private static String message(String key, Duration waitTime, @Nullable Throwable cause) {
		if (cause instanceof InterruptedException) {
			return "Interrupted while waiting for lock '" + key + "'";
		}
		return waitTime.isZero() ? "Lock '" + key + "' is held elsewhere"
				: "Lock '" + key + "' stayed held elsewhere for the whole wait time of " + waitTime;
	}

	/**
	 * The key that could not be locked.
	 * @return the lock key
	 */
	public String getKey() {
		return this.key;
	}

	/**
	 * How long the caller waited.
	 * @return the wait time
	 */
	public Duration getWaitTime() {
		return this.waitTime;
	}

}
