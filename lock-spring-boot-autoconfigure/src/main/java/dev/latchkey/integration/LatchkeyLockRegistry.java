/*
 * Copyright 2026-present the original author or authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *      https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

package dev.latchkey.integration;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.integration.support.locks.DistributedLock;
import org.springframework.integration.support.locks.ExpirableLockRegistry;
import org.springframework.integration.support.locks.LockRegistry;
import org.springframework.integration.support.locks.RenewableLockRegistry;
import org.springframework.util.Assert;

import dev.latchkey.LockTemplate;

/**
 * A Spring Integration {@link LockRegistry} on Latchkey: the locks it gives are exclusive
 * Latchkey leases on the configured backend, renewed while held, so components that take
 * a {@code LockRegistry} (aggregators, the {@code LockRegistryLeaderInitiator},
 * {@code executeLocked}) run on Latchkey's backends, with its loss reporting and fencing
 * tokens.
 *
 * <pre class="code">
 * &#64;Bean
 * LatchkeyLockRegistry lockRegistry(LockTemplate locks) {
 *     return new LatchkeyLockRegistry(locks);
 * }
 *
 * registry.executeLocked("invoice:" + id, Duration.ofSeconds(5), () -&gt; invoices.send(id));
 * </pre>
 * <p>
 * Spring Boot makes one when Spring Integration is on the class path and the application
 * has no {@link LockRegistry} of its own. The locks behave as Spring Integration's own
 * distributed locks do:
 * <ul>
 * <li>{@link #obtain} gives the same lock for the same key; the key is
 * {@code keyPrefix + lockKey.toString()}, after {@code latchkey.key-prefix};</li>
 * <li>a lock belongs to the thread that took it, and is reentrant for that thread: only
 * the outermost {@code unlock} releases the lease; {@code unlock} by another thread
 * throws {@link IllegalStateException};</li>
 * <li>threads of one registry queue for a key locally, and registries (processes) exclude
 * each other through the backend;</li>
 * <li>{@code lock()} and {@code tryLock} take the lease with the template's TTL
 * ({@code latchkey.ttl}), or the TTL given to {@link DistributedLock#lock(Duration)} and
 * {@link DistributedLock#tryLock(Duration, Duration)}; Latchkey renews it every third of
 * the TTL;</li>
 * <li>an {@code unlock} that finds the lease lost throws
 * {@link java.util.ConcurrentModificationException}, as Spring Integration's registries
 * do when a lock expired in the store;</li>
 * <li>a failing backend throws {@link org.springframework.dao.CannotAcquireLockException}
 * from {@code lock} and {@code tryLock};</li>
 * <li>{@code newCondition()} is not supported.</li>
 * </ul>
 * While a lock is held, its lease is the current one of its thread, so guarded code can
 * pass {@link dev.latchkey.LockContext#fencingToken()} to the store it writes.
 *
 * @since 0.1.0
 */
public class LatchkeyLockRegistry
		implements ExpirableLockRegistry<DistributedLock>, RenewableLockRegistry<DistributedLock> {

	private final LockTemplate locks;

	private final String keyPrefix;

	private final Map<String, LatchkeyLock> registry = new ConcurrentHashMap<>();

	/**
	 * Makes a registry whose keys are the lock keys as given.
	 * @param locks the template, on the backend to use
	 */
	public LatchkeyLockRegistry(LockTemplate locks) {
		this(locks, "");
	}

	/**
	 * Makes a registry whose keys start with a prefix, so that registries for different
	 * purposes on one backend never share a lock (Spring Integration's
	 * {@code registryKey}).
	 * @param locks the template, on the backend to use
	 * @param keyPrefix what to put before every lock key, for example {@code "orders:"}
	 */
	public LatchkeyLockRegistry(LockTemplate locks, String keyPrefix) {
		Assert.notNull(locks, "LockTemplate must not be null");
		Assert.notNull(keyPrefix, "Key prefix must not be null");
		this.locks = locks;
		this.keyPrefix = keyPrefix;
	}

	/**
	 * The lock for a key.
	 * @param lockKey the key; its {@code toString()} names the lock
	 * @return the lock, the same for the same key
	 */
	@Override
	public LatchkeyLock obtain(Object lockKey) {
		Assert.notNull(lockKey, "Lock key must not be null");
		String key = this.keyPrefix + lockKey;
		return this.registry.computeIfAbsent(key, (k) -> new LatchkeyLock(this.locks, k));
	}

	/**
	 * Forgets locks that no thread holds and that were last taken more than {@code age}
	 * milliseconds ago; a later {@link #obtain} makes a new one.
	 * @param age the age in milliseconds
	 */
	@Override
	public void expireUnusedOlderThan(long age) {
		long now = System.currentTimeMillis();
		this.registry.values().removeIf((lock) -> lock.isUnusedSince(now - age));
	}

	/**
	 * Checks that the current thread holds the lock and that its lease is valid. Latchkey
	 * renews held leases itself, every third of their TTL, so there is nothing to
	 * schedule.
	 * @param lockKey the key
	 * @throws IllegalStateException if the current thread does not hold the lock, or its
	 * lease was lost
	 */
	@Override
	public void renewLock(Object lockKey) {
		obtain(lockKey).checkHeldAndValid();
	}

	/**
	 * Like {@link #renewLock(Object)}: a lease keeps the TTL it was taken with. To choose
	 * a TTL, take the lock with {@link DistributedLock#lock(Duration)} or
	 * {@link DistributedLock#tryLock(Duration, Duration)}.
	 * @param lockKey the key
	 * @param ttl the TTL, which must be the lease's own
	 * @throws IllegalStateException if the current thread does not hold the lock, or its
	 * lease was lost
	 * @throws UnsupportedOperationException if the TTL is not the lease's
	 */
	@Override
	public void renewLock(Object lockKey, Duration ttl) {
		Assert.notNull(ttl, "TTL must not be null");
		Duration leaseTtl = obtain(lockKey).checkHeldAndValid();
		if (!leaseTtl.equals(ttl)) {
			throw new UnsupportedOperationException("Lock '" + this.keyPrefix + lockKey + "' was taken with a TTL of "
					+ leaseTtl + ", which Latchkey renews; a lease's TTL cannot be changed to " + ttl);
		}
	}

	@Override
	public String toString() {
		return "LatchkeyLockRegistry[" + this.locks.repository().backend()
				+ (this.keyPrefix.isEmpty() ? "" : ", keyPrefix=" + this.keyPrefix) + "]";
	}

}
