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

package dev.latchkey;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import dev.latchkey.test.ForwardingLockRepository;

/**
 * A {@link LockRepository} for tests that passes everything to another one, except that
 * it can be told to fail the way a backend fails: to report every renewed lease as lost
 * (another owner "stole" it), or to throw from {@link #renew(Collection)} or
 * {@link #release(LeaseSpec)}. It records renewals and releases.
 */
class FaultyLockRepository extends ForwardingLockRepository {

	private volatile boolean stealLeases;

	private volatile RuntimeException renewFailure;

	private volatile RuntimeException releaseFailure;

	final AtomicInteger renewCalls = new AtomicInteger();

	final List<LeaseSpec> releases = new CopyOnWriteArrayList<>();

	FaultyLockRepository(LockRepository delegate) {
		super(delegate);
	}

	/**
	 * From now on, every renewal answers that each lease is no longer held. The leases
	 * stay at the backend.
	 */
	void stealLeases() {
		this.stealLeases = true;
	}

	/**
	 * From now on, every renewal throws.
	 * @param failure the exception to throw
	 */
	void failRenewals(RuntimeException failure) {
		this.renewFailure = failure;
	}

	/**
	 * From now on, every release throws (and releases nothing).
	 * @param failure the exception to throw
	 */
	void failReleases(RuntimeException failure) {
		this.releaseFailure = failure;
	}

	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		this.renewCalls.incrementAndGet();
		RuntimeException failure = this.renewFailure;
		if (failure != null) {
			throw failure;
		}
		if (this.stealLeases) {
			return leases.stream().map(LeaseSpec::token).collect(Collectors.toSet());
		}
		return delegate().renew(leases);
	}

	@Override
	public boolean release(LeaseSpec lease) {
		this.releases.add(lease);
		RuntimeException failure = this.releaseFailure;
		if (failure != null) {
			throw failure;
		}
		return delegate().release(lease);
	}

}
