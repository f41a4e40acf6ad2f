package dev.latchkey.web;

/**
 * When a problem detail shows the lock key, which is made of method arguments and may be personal data, next to the
 * lock's name, which never is. Follows Spring Boot's {@code show-values} convention.
 */
public enum ShowKey {

	/**
	 * Never show the key.
	 */
	NEVER,

	/**
	 * Show the key to an authenticated caller; with roles configured, only to one in at least one of them.
	 */
	WHEN_AUTHORIZED,

	/**
	 * Always show the key.
	 */
	ALWAYS

}
