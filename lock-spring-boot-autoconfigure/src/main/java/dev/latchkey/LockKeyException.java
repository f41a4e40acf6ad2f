package dev.latchkey;

/**
 * Thrown at call time when a lock key cannot be made: a key template segment evaluated to {@code null}, failed to
 * evaluate, or the key is longer than {@code latchkey.max-key-length}. Nothing is locked and the guarded method is not
 * called.
 * <pre class="code">
 * &#64;Exclusive("customer:#customer.id")
 * void update(Customer customer) { ... }
 *
 * update(new Customer(null)); // LockKeyException: '#customer.id' evaluated to null
 * </pre>
 */
public class LockKeyException extends LockException {

	private static final long serialVersionUID = 1L;

	public LockKeyException(String message) {
		super(message);
	}

	public LockKeyException(String message, Throwable cause) {
		super(message, cause);
	}

}
