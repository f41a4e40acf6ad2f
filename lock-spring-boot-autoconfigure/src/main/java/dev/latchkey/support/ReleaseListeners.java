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

package dev.latchkey.support;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.core.log.LogAccessor;

import dev.latchkey.ReleaseSubscription;

/**
 * The local listeners of release notifications, by key: what a backend's
 * {@link dev.latchkey.LockRepository#subscribe(String, Runnable)} hands out and its
 * release path (or its one shared subscription to the server) calls.
 *
 * <pre class="code">
 * private final ReleaseListeners listeners = new ReleaseListeners();
 *
 * public ReleaseSubscription subscribe(String key, Runnable onRelease) {
 *     return this.listeners.add(key, onRelease);
 * }
 *
 * private void onReleaseMessage(String key) {
 *     this.listeners.released(key);
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public final class ReleaseListeners {

	private static final LogAccessor logger = new LogAccessor(ReleaseListeners.class);

	private final Map<String, List<Runnable>> listeners = new ConcurrentHashMap<>();

	/**
	 * Adds a listener of a key's releases.
	 * @param key the lock key
	 * @param onRelease called on each release of the key
	 * @return the subscription, whose closing removes the listener
	 */
	public ReleaseSubscription add(String key, Runnable onRelease) {
		// A wrapper per subscription, so that the same Runnable subscribed twice is
		// unsubscribed once at a time.
		Runnable subscription = onRelease::run;
		this.listeners.compute(key, (k, existing) -> {
			List<Runnable> subscribed = (existing != null) ? existing : new CopyOnWriteArrayList<>();
			subscribed.add(subscription);
			return subscribed;
		});
		return () -> this.listeners.computeIfPresent(key, (k, subscribed) -> {
			subscribed.remove(subscription);
			return subscribed.isEmpty() ? null : subscribed;
		});
	}

	/**
	 * Calls the listeners of a key. A listener that throws is logged and does not keep
	 * the others from being called.
	 * @param key the released key
	 */
	public void released(String key) {
		List<Runnable> subscribed = this.listeners.get(key);
		if (subscribed != null) {
			for (Runnable listener : subscribed) {
				try {
					listener.run();
				}
				catch (RuntimeException ex) {
					// The key stays out of the warning (it may be personal data).
					logger.warn(ex, "Release listener failed");
				}
			}
		}
	}

}
