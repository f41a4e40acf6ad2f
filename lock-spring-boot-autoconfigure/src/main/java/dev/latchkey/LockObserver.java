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

import org.jspecify.annotations.Nullable;

/**
 * Observes acquisitions, holds, renewals and losses of a {@link LockTemplate} as they
 * happen: Latchkey's application events are published by one
 * ({@code dev.latchkey.event.EventPublishingLockObserver}), and instrumentation that
 * measures time itself (Micrometer observations and the tracing spans made of them) is
 * another ({@code dev.latchkey.actuate.ObservationLockObserver}). An observer is told at
 * the start, so it can time and trace the acquisition and the hold; several are combined
 * with {@link #composite(LockObserver...)}.
 * <p>
 * Reentrant acquisitions are not observed. An observer that returns {@code null} observes
 * nothing, so an observer with nowhere to report costs one call per acquisition. Spring
 * Boot publishes the events, and observes with Micrometer when the application has an
 * {@code ObservationRegistry}; with {@code LockTemplate} alone:
 *
 * <pre class="code">
 * LockObserver observer = (name, spec, backend) -&gt; {
 *     long start = System.nanoTime();
 *     return new LockObserver.Acquisition() {
 *         public LockObserver.Hold acquired(Lease lease) {
 *             log.info(name + " waited " + (System.nanoTime() - start) + " ns");
 *             return null;
 *         }
 *         public void notAcquired() { }
 *         public void failed(Throwable failure) { }
 *     };
 * };
 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults(), observer);
 * </pre>
 * <p>
 * Implementations must be thread-safe and must not throw: a failing observer is logged
 * and ignored.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface LockObserver {

	/**
	 * Called when a caller starts to acquire a lock, before the first attempt.
	 * @param name the lock's name (the key template of an annotation): never the
	 * evaluated key
	 * @param spec the lease asked for: key (prefix included), mode, limit, owner and TTL
	 * @param backend the backend's name
	 * @return the observation of this acquisition, or {@code null} to observe nothing
	 */
	@Nullable Acquisition acquiring(String name, LeaseSpec spec, String backend);

	/**
	 * An observer that tells each of the given observers, in order; one that throws is
	 * logged and does not keep the next from being told.
	 *
	 * <pre class="code">
	 * LockObserver observer = LockObserver.composite(new ObservationLockObserver(observationRegistry),
	 *         new EventPublishingLockObserver(applicationEventPublisher));
	 * </pre>
	 * @param observers the observers; {@code null} elements are skipped
	 * @return an observer of all of them
	 */
	static LockObserver composite(@Nullable LockObserver... observers) {
		return CompositeLockObserver.of(observers);
	}

	/**
	 * One acquisition under observation; exactly one of its methods is called.
	 */
	interface Acquisition {

		/**
		 * The lock was granted.
		 * @param lease the granted lease
		 * @return the observation of the hold that starts now, or {@code null} to observe
		 * nothing
		 */
		@Nullable Hold acquired(Lease lease);

		/**
		 * The lock stayed held elsewhere for the whole wait time, or the waiting thread
		 * was interrupted.
		 */
		void notAcquired();

		/**
		 * The backend failed.
		 * @param failure the exception the caller gets
		 */
		void failed(Throwable failure);

	}

	/**
	 * One hold under observation: from the grant until the lease is released (after its
	 * minimum hold time, if any) or lost. Exactly one of {@link #released(Throwable)} and
	 * {@link #lost(LockLostException)} is called, unless the template is closed while the
	 * lease is held.
	 */
	interface Hold {

		/**
		 * The lease was renewed at the backend. Called on the renewal thread, after each
		 * successful renewal while the lease is held; the default does nothing.
		 */
		default void renewed() {
		}

		/**
		 * The lease was released, or releasing it failed (it then expires at the
		 * backend).
		 * @param failure the release's failure, or {@code null}
		 */
		void released(@Nullable Throwable failure);

		/**
		 * The lease was lost.
		 * @param exception why, as the holder is told
		 */
		void lost(LockLostException exception);

		/**
		 * Makes the hold current on this thread while synchronous guarded work runs (a
		 * {@code LockTemplate} run or call, an annotated method that returns a plain
		 * value), so that what the work observes, its tracing spans for example, nests
		 * under the hold. Closed on the same thread when the work returns, before the
		 * release. Asynchronous work is never given a scope. The default makes nothing
		 * current.
		 * @return the scope to close when the work returns
		 */
		default Scope openScope() {
			return Scope.NONE;
		}

	}

	/**
	 * What {@link Hold#openScope()} made current, undone by {@link #close()}.
	 */
	@FunctionalInterface
	interface Scope extends AutoCloseable {

		/**
		 * A scope that made nothing current.
		 */
		Scope NONE = () -> {
		};

		@Override
		void close();

	}

}
