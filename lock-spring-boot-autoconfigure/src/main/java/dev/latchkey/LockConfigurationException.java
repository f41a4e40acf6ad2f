package dev.latchkey;

import org.jspecify.annotations.Nullable;

/**
 * Thrown at application start when a lock annotation or setting is wrong: a key template that does not parse or names
 * an unknown parameter, an unreadable duration, a policy that does not fit the method. The message names the method or
 * property, and {@link #getAction()} says what to change; Spring Boot prints both through its failure analysis.
 * <pre class="code">
 * &#64;Exclusive("order:#orderId") // no parameter called orderId: the application does not start
 * public Receipt pay(long id) { ... }
 * </pre>
 */
public class LockConfigurationException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String action;

	public LockConfigurationException(String message, String action) {
		this(message, action, null);
	}

	public LockConfigurationException(String message, String action, @Nullable Throwable cause) {
		super(message, cause);
		this.action = action;
	}

	/**
	 * What the user should change.
	 * @return the suggested action
	 */
	public String getAction() {
		return this.action;
	}

}
