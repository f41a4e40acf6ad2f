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
		assertThat(observer.acquiring("report",
				LeaseSpec.exclusive("report", "owner", "token", LockSettings.defaults().ttl()), "memory"))
			.isNull();
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
