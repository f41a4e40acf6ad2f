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

package dev.latchkey.actuate;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockInfo;
import dev.latchkey.LockRepository;
import dev.latchkey.ReleaseSubscription;

/**
 * A backend that is down: every call fails, or, with a delay, hangs that long first.
 */
public class BrokenLockRepository implements LockRepository {

	private final Duration delay;

	public BrokenLockRepository() {
		this(Duration.ZERO);
	}

	public BrokenLockRepository(Duration delay) {
		this.delay = delay;
	}

	@Override
	public String backend() {
		return "broken";
	}

	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		throw fail();
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		throw fail();
	}

	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		throw fail();
	}

	@Override
	public boolean release(LeaseSpec lease) {
		throw fail();
	}

	@Override
	public boolean forceRelease(String key) {
		throw fail();
	}

	@Override
	public Optional<LockInfo> inspect(String key) {
		throw fail();
	}

	@Override
	public List<LockInfo> list() {
		throw fail();
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		return ReleaseSubscription.NONE;
	}

	private LockBackendException fail() {
		if (!this.delay.isZero()) {
			try {
				Thread.sleep(this.delay.toMillis());
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		return new LockBackendException(backend(), "Connection refused", null);
	}

}
