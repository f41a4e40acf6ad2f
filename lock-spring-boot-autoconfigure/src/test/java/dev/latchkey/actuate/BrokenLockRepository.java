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
