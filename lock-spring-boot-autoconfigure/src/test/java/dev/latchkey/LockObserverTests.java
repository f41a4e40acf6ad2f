package dev.latchkey;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LockObserver#composite(LockObserver...)}.
 */
class LockObserverTests {

	private final List<String> told = new CopyOnWriteArrayList<>();

	@Test
	void everyObserverIsToldInOrderEvenWhenOneBetweenThemThrows() {
		LockObserver failing = (name, spec, backend) -> {
			throw new IllegalStateException("broken observer");
		};
		LockObserver observer = LockObserver.composite(recording("first"), failing, null, recording("second"));
		try (LockTemplate locks = new LockTemplate(new MemoryLockRepository(), LockSettings.defaults(), observer)) {
			locks.exclusive("report").named("report").run(() -> this.told.add("work"));
		}
		assertThat(this.told).containsExactly("first acquiring", "second acquiring", "first acquired",
				"second acquired", "first scope", "second scope", "work", "second scope closed", "first scope closed",
				"first released", "second released");
	}

	@Test
	void aCompositeOfObserversThatObserveNothingObservesNothing() {
		LockObserver observer = LockObserver.composite((name, spec, backend) -> null, (name, spec, backend) -> null);
		assertThat(observer.acquiring("report", LeaseSpec.exclusive("report", "owner", "token",
				LockSettings.defaults().ttl()), "memory")).isNull();
	}

	private LockObserver recording(String which) {
		return (name, spec, backend) -> {
			this.told.add(which + " acquiring");
			return new LockObserver.Acquisition() {

				@Override
				public LockObserver.Hold acquired(Lease lease) {
					LockObserverTests.this.told.add(which + " acquired");
					return new LockObserver.Hold() {

						@Override
						public void released(@Nullable Throwable failure) {
							LockObserverTests.this.told.add(which + " released");
						}

						@Override
						public void lost(LockLostException exception) {
							LockObserverTests.this.told.add(which + " lost");
						}

						@Override
						public LockObserver.Scope openScope() {
							LockObserverTests.this.told.add(which + " scope");
							return () -> LockObserverTests.this.told.add(which + " scope closed");
						}

					};
				}

				@Override
				public void notAcquired() {
					LockObserverTests.this.told.add(which + " not acquired");
				}

				@Override
				public void failed(Throwable failure) {
					LockObserverTests.this.told.add(which + " failed");
				}

			};
		};
	}

}
