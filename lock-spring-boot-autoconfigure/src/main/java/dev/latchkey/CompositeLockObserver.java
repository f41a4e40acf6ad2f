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

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

/**
 * Tells several observers, in order: what {@link LockObserver#composite(LockObserver...)}
 * makes. A delegate that throws is logged and skipped, so that it never keeps the others
 * from being told.
 */
final class CompositeLockObserver implements LockObserver {

	private static final LogAccessor logger = new LogAccessor(CompositeLockObserver.class);

	private final List<LockObserver> observers;

	private CompositeLockObserver(List<LockObserver> observers) {
		this.observers = observers;
	}

	static LockObserver of(@Nullable LockObserver... observers) {
		List<LockObserver> present = new ArrayList<>(observers.length);
		for (LockObserver observer : observers) {
			if (observer != null) {
				present.add(observer);
			}
		}
		return (present.size() == 1) ? present.get(0) : new CompositeLockObserver(List.copyOf(present));
	}

	@Override
	public @Nullable Acquisition acquiring(String name, LeaseSpec spec, String backend) {
		List<Acquisition> acquisitions = collect(this.observers, (observer) -> observer.acquiring(name, spec, backend));
		return acquisitions.isEmpty() ? null : new CompositeAcquisition(acquisitions);
	}

	private static <T, R> List<R> collect(List<T> delegates, Function<T, @Nullable R> call) {
		List<R> results = new ArrayList<>(delegates.size());
		for (T delegate : delegates) {
			try {
				R result = call.apply(delegate);
				if (result != null) {
					results.add(result);
				}
			}
			catch (Throwable ex) {
				logger.warn(ex, () -> "Lock observer " + delegate + " failed");
			}
		}
		return results;
	}

	private static <T> void tellEach(List<T> delegates, Consumer<T> call) {
		for (T delegate : delegates) {
			try {
				call.accept(delegate);
			}
			catch (Throwable ex) {
				logger.warn(ex, () -> "Lock observer " + delegate + " failed");
			}
		}
	}

	@Override
	public String toString() {
		return "CompositeLockObserver" + this.observers;
	}

	private static final class CompositeAcquisition implements Acquisition {

		private final List<Acquisition> acquisitions;

		CompositeAcquisition(List<Acquisition> acquisitions) {
			this.acquisitions = acquisitions;
		}

		@Override
		public @Nullable Hold acquired(Lease lease) {
			List<Hold> holds = collect(this.acquisitions, (acquisition) -> acquisition.acquired(lease));
			return holds.isEmpty() ? null : new CompositeHold(holds);
		}

		@Override
		public void notAcquired() {
			tellEach(this.acquisitions, Acquisition::notAcquired);
		}

		@Override
		public void failed(Throwable failure) {
			tellEach(this.acquisitions, (acquisition) -> acquisition.failed(failure));
		}

	}

	private static final class CompositeHold implements Hold {

		private final List<Hold> holds;

		CompositeHold(List<Hold> holds) {
			this.holds = holds;
		}

		@Override
		public void renewed() {
			tellEach(this.holds, Hold::renewed);
		}

		@Override
		public void released(@Nullable Throwable failure) {
			tellEach(this.holds, (hold) -> hold.released(failure));
		}

		@Override
		public void lost(LockLostException exception) {
			tellEach(this.holds, (hold) -> hold.lost(exception));
		}

		@Override
		public Scope openScope() {
			List<Scope> scopes = collect(this.holds, Hold::openScope);
			if (scopes.isEmpty()) {
				return Scope.NONE;
			}
			// Closed in the reverse order of opening, as nested scopes are.
			Collections.reverse(scopes);
			return () -> tellEach(scopes, Scope::close);
		}

	}

}
