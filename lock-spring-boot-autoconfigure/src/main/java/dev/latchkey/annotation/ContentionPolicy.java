package dev.latchkey.annotation;

/**
 * What a guarded call does when the lock stays held elsewhere for the whole wait time.
 */
public enum ContentionPolicy {

	/**
	 * Throw {@link dev.latchkey.LockNotAcquiredException} (a failed {@code CompletableFuture}, an error signal for
	 * Reactor types).
	 */
	THROW,

	/**
	 * Skip the method: return {@code null} (void), {@code Optional.empty()}, a {@code CompletableFuture} completed with
	 * {@code null}, or an empty {@code Mono}/{@code Flux}. Not allowed on methods returning a primitive.
	 */
	SKIP

}
