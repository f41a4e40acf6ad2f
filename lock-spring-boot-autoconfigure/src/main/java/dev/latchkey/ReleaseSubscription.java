package dev.latchkey;

/**
 * A subscription to the release notifications of one key, returned by
 * {@link LockRepository#subscribe(String, Runnable)}. Closing it stops the notifications.
 * <pre class="code">
 * try (ReleaseSubscription subscription = repository.subscribe("order:42", latch::countDown)) {
 *     latch.await(1, TimeUnit.SECONDS);
 * }
 * </pre>
 */
@FunctionalInterface
public interface ReleaseSubscription extends AutoCloseable {

	/**
	 * A subscription that never notifies, for backends that cannot tell when a key is released. Waiters then rely on
	 * polling alone.
	 */
	ReleaseSubscription NONE = () -> {
	};

	/**
	 * Stops the notifications. Never throws.
	 */
	@Override
	void close();

}
