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

package dev.latchkey.test;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockInfo;
import dev.latchkey.LockRepository;
import dev.latchkey.ReleaseSubscription;

/**
 * A {@link LockRepository} that passes every call to another one: the base of the test
 * doubles that change or observe a few calls of a real backend and leave the rest alone.
 *
 * <pre class="code">
 * LockRepository counting = new ForwardingLockRepository(repository) {
 *
 *     &#64;Override
 *     public OptionalLong tryAcquire(LeaseSpec lease) {
 *         attempts.incrementAndGet();
 *         return super.tryAcquire(lease);
 *     }
 *
 * };
 * </pre>
 * <p>
 * It offers only the {@link LockRepository} interface, so it hides extra abilities of the
 * backend it wraps (such as {@code QueueingLockRepository}) unless a subclass adds them.
 * It does not pass {@link #tryAcquireAll} on: the interface's default takes the keys one
 * by one with this class's {@link #tryAcquire}, so a subclass that observes or changes
 * that method sees every key; one that wants the wrapped backend's own
 * {@code tryAcquireAll} overrides it.
 */
public class ForwardingLockRepository implements LockRepository {

	private final LockRepository delegate;

	public ForwardingLockRepository(LockRepository delegate) {
		this.delegate = delegate;
	}

	/**
	 * The repository calls are passed to.
	 * @return the wrapped repository
	 */
	protected LockRepository delegate() {
		return this.delegate;
	}

	@Override
	public String backend() {
		return this.delegate.backend();
	}

	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		return this.delegate.tryAcquire(lease);
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		return this.delegate.tryAcquirePermit(lease);
	}

	@Override
	public OptionalLong tryAcquireShared(LeaseSpec lease) {
		return this.delegate.tryAcquireShared(lease);
	}

	@Override
	public OptionalLong tryAcquireWaiting(LeaseSpec lease) {
		return this.delegate.tryAcquireWaiting(lease);
	}

	@Override
	public void stopWaiting(LeaseSpec lease) {
		this.delegate.stopWaiting(lease);
	}

	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		return this.delegate.renew(leases);
	}

	@Override
	public boolean release(LeaseSpec lease) {
		return this.delegate.release(lease);
	}

	@Override
	public boolean release(LeaseSpec lease, LeaseSpec waiter) {
		return this.delegate.release(lease, waiter);
	}

	@Override
	public boolean keepsWaitersInLine() {
		return this.delegate.keepsWaitersInLine();
	}

	@Override
	public boolean handsOver(LeaseSpec lease) {
		return this.delegate.handsOver(lease);
	}

	@Override
	public OptionalLong handOver(LeaseSpec lease, LeaseSpec waiter) {
		return this.delegate.handOver(lease, waiter);
	}

	@Override
	public boolean forceRelease(String key) {
		return this.delegate.forceRelease(key);
	}

	@Override
	public Optional<LockInfo> inspect(String key) {
		return this.delegate.inspect(key);
	}

	@Override
	public OptionalInt waiters(String key) {
		return this.delegate.waiters(key);
	}

	@Override
	public List<LockInfo> list() {
		return this.delegate.list();
	}

	@Override
	public boolean wakesWaitersOfItsOwnReleases() {
		return this.delegate.wakesWaitersOfItsOwnReleases();
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		return this.delegate.subscribe(key, onRelease);
	}

	@Override
	public ReleaseSubscription subscribeToLoss(Runnable onPossibleLoss) {
		return this.delegate.subscribeToLoss(onPossibleLoss);
	}

}
