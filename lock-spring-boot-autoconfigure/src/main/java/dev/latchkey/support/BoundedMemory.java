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

import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * What a repository remembers about keys or leases only to save the backend requests:
 * entries it may forget at any time, at the price of a request more, never of a wrong
 * answer. It holds at most its limit of entries, and forgets all of them at once when a
 * new one would pass it: entries that are never removed (a lease that ended without a
 * release, say) cannot make it grow without bound, and no eviction order is kept per
 * entry.
 *
 * <pre class="code">
 * BoundedMemory&lt;String, Boolean&gt; contendedKeys = new BoundedMemory&lt;&gt;(10_000);
 * contendedKeys.put(key, true);     // refused while waiting: the key is contended
 * if (contendedKeys.contains(key)) {
 *     // read the key's wake line with the attempt
 * }
 * </pre>
 *
 * @param <K> the key of an entry
 * @param <V> what is remembered for it
 * @since 0.1.0
 */
public final class BoundedMemory<K, V> {

	private final ConcurrentHashMap<K, V> entries = new ConcurrentHashMap<>();

	private final int limit;

	/**
	 * Makes an empty memory.
	 * @param limit the most entries it holds; above it, all are forgotten
	 */
	public BoundedMemory(int limit) {
		Assert.isTrue(limit > 0, "The limit of a BoundedMemory must be positive");
		this.limit = limit;
	}

	/**
	 * Remembers a value for a key, first forgetting every entry when the memory is full.
	 * @param key the key
	 * @param value what to remember for it
	 */
	public void put(K key, V value) {
		if (this.entries.size() >= this.limit && !this.entries.containsKey(key)) {
			this.entries.clear();
		}
		this.entries.put(key, value);
	}

	/**
	 * What is remembered for a key.
	 * @param key the key
	 * @return its value, or {@code null} when there is none (never remembered, removed or
	 * forgotten)
	 */
	public @Nullable V get(K key) {
		return this.entries.get(key);
	}

	/**
	 * Whether something is remembered for a key.
	 * @param key the key
	 * @return whether it has an entry
	 */
	public boolean contains(K key) {
		return this.entries.containsKey(key);
	}

	/**
	 * Forgets a key.
	 * @param key the key
	 * @return what was remembered for it, or {@code null}
	 */
	public @Nullable V remove(K key) {
		return this.entries.remove(key);
	}

	/**
	 * How many entries the memory holds.
	 * @return the number of entries, at most the limit
	 */
	public int size() {
		return this.entries.size();
	}

}
