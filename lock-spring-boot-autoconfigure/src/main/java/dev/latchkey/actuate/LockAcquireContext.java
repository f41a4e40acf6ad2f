package dev.latchkey.actuate;

import dev.latchkey.LeaseMode;

/**
 * The context of a {@code latchkey.acquire} observation: from the first attempt until the lock is granted, the wait
 * time ends ({@code contended}) or the backend fails ({@code failed}).
 * <pre class="code">
 * class MyAcquireConvention extends DefaultLockAcquireObservationConvention {
 *     &#64;Override
 *     public String getContextualName(LockAcquireContext context) {
 *         return "wait for " + context.getLockName();
 *     }
 * }
 * </pre>
 */
public class LockAcquireContext extends LockObservationContext {

	/**
	 * Creates the context of one acquisition.
	 * @param lockName the lock's name
	 * @param key the lock key, prefix included
	 * @param backend the backend's name
	 * @param mode the lease mode
	 * @param limit the number of holders allowed at once
	 */
	public LockAcquireContext(String lockName, String key, String backend, LeaseMode mode, int limit) {
		super(lockName, key, backend, mode, limit);
	}

}
