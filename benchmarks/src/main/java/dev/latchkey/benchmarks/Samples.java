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

package dev.latchkey.benchmarks;

import java.util.Arrays;

/**
 * One thread's samples (wait times in nanoseconds, say), kept without locking by the
 * thread that takes them, and merged, sorted, once every thread is done.
 *
 * <pre class="code">
 * Samples waits = new Samples(1 &lt;&lt; 18);
 * waits.add(System.nanoTime() - asked);
 * long[] sorted = Samples.merge(waits, otherThreadsWaits);
 * </pre>
 */
final class Samples {

	private final int limit;

	private long[] values = new long[1024];

	private int size;

	/**
	 * Creates an empty set of samples.
	 * @param limit the most samples kept; later ones are dropped
	 */
	Samples(int limit) {
		this.limit = limit;
	}

	void add(long value) {
		if (this.size == this.limit) {
			return;
		}
		if (this.size == this.values.length) {
			this.values = Arrays.copyOf(this.values, this.size * 2);
		}
		this.values[this.size++] = value;
	}

	static long[] merge(Samples... all) {
		long[] merged = new long[Arrays.stream(all).mapToInt((samples) -> samples.size).sum()];
		int at = 0;
		for (Samples samples : all) {
			System.arraycopy(samples.values, 0, merged, at, samples.size);
			at += samples.size;
		}
		Arrays.sort(merged);
		return merged;
	}

}
