package dev.latchkey;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A {@link LockRepository} for tests that passes everything to another one, except that it can be told to fail the
 * way a backend fails: to report every renewed lease as lost (another owner "stole" it), or to throw from
 * {@link #renew(Collection)}. It records renewals and releases.
 */
class FaultyLockRepository implements LockRepository {

	private final LockRepository delegate;

	private volatile boolean stealLeases;

	private volatile RuntimeException renewFailure;

	final AtomicInteger renewCalls = new AtomicInteger();

	final List<LeaseSpec> releases = new CopyOnWriteArrayList<>();

	FaultyLockRepository(LockRepository delegate) {
		this.delegate = delegate;
	}

	/**
	 * From now on, every renewal answers that each lease is no longer held. The leases stay at the backend.
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
	public Set<String> renew(Collection<LeaseSpec> leases) {
		this.renewCalls.incrementAndGet();
		RuntimeException failure = this.renewFailure;
		if (failure != null) {
			throw failure;
		}
		if (this.stealLeases) {
			return leases.stream().map(LeaseSpec::token).collect(Collectors.toSet());
		}
		return this.delegate.renew(leases);
	}

	@Override
	public boolean release(LeaseSpec lease) {
		this.releases.add(lease);
		return this.delegate.release(lease);
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
	public List<LockInfo> list() {
		return this.delegate.list();
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		return this.delegate.subscribe(key, onRelease);
	}

}
