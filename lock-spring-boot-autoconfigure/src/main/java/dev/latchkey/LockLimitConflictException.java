package dev.latchkey;

/**
 * Thrown when a semaphore permit is requested with another limit than the one the key's holders have: the limit of a
 * key is fixed by its first holder for as long as it is held, so callers of one key must agree on it.
 * <pre class="code">
 * &#64;Semaphore(value = "reports", permits = 4)   // every caller of "reports" must say 4
 * public Report build(String month) { ... }
 * </pre>
 */
public class LockLimitConflictException extends LockException {

	private final String key;

	private final int requestedLimit;

	private final int heldLimit;

	public LockLimitConflictException(String key, int requestedLimit, int heldLimit) {
		super("Semaphore '" + key + "' was asked for with " + requestedLimit + " permit(s), but its holders use "
				+ heldLimit + "; use one 'permits' value for every caller of a key");
		this.key = key;
		this.requestedLimit = requestedLimit;
		this.heldLimit = heldLimit;
	}

	public String getKey() {
		return this.key;
	}

	public int getRequestedLimit() {
		return this.requestedLimit;
	}

	public int getHeldLimit() {
		return this.heldLimit;
	}

}
