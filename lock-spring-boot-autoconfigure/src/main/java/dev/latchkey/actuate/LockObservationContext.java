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

import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;

import dev.latchkey.LeaseMode;

/**
 * What an observation of a lock knows: the lock's name, its key, the backend, the mode
 * and permits, and once it ends its outcome. Subclassed for the two observations,
 * {@link LockAcquireContext} and {@link LockHoldContext}, so that a convention can tell
 * them apart.
 *
 * @since 0.1.0
 */
public abstract class LockObservationContext extends Observation.Context {

	private final String lockName;

	private final String key;

	private final String backend;

	private final LeaseMode mode;

	private final int permits;

	private volatile @Nullable String outcome;

	LockObservationContext(String lockName, String key, String backend, LeaseMode mode, int permits) {
		this.lockName = lockName;
		this.key = key;
		this.backend = backend;
		this.mode = mode;
		this.permits = permits;
	}

	/**
	 * The lock's name: the key template of an annotation, or the name given to
	 * {@link dev.latchkey.LockOperation#named(String)}. Bounded in number, so fit for
	 * metric tags.
	 * @return the lock's name
	 */
	public String getLockName() {
		return this.lockName;
	}

	/**
	 * The evaluated lock key, prefix included. It is made of method arguments, so it is
	 * unbounded in number and may hold personal data: the default conventions leave it
	 * out of key values.
	 * @return the lock key
	 */
	public String getKey() {
		return this.key;
	}

	/**
	 * The backend's name.
	 * @return the backend, for example {@code redis}
	 */
	public String getBackend() {
		return this.backend;
	}

	/**
	 * Whether the key is locked exclusively or as a semaphore permit.
	 * @return the mode
	 */
	public LeaseMode getMode() {
		return this.mode;
	}

	/**
	 * How many holders the key allows at once: 1, or the permits of a semaphore.
	 * @return the number of permits
	 */
	public int getPermits() {
		return this.permits;
	}

	/**
	 * How the observed phase ended: {@code acquired}, {@code contended} or {@code failed}
	 * for an acquisition, {@code released} or {@code lost} for a hold.
	 * @return the outcome, or {@code null} while the observation runs
	 */
	public @Nullable String getOutcome() {
		return this.outcome;
	}

	void setOutcome(String outcome) {
		this.outcome = outcome;
	}

}
