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

package dev.latchkey.test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.latchkey.LockTemplate;

/**
 * Hand-offs of one key between the callers of several instances, for the tests that count
 * what each hand-off costs a backend.
 */
public final class HandOffs {

	private HandOffs() {
	}

	/**
	 * Runs threads of each instance's template, each taking the key in turn until so many
	 * grants were made; returns once every thread has stopped. <pre class="code">
	 * int granted = HandOffs.take(templates, 3, "hand-off", 600);
	 * </pre>
	 * @param templates a template per instance
	 * @param threadsPerInstance the threads of each instance
	 * @param key the lock key
	 * @param handOffs how many grants to make (a few more are made, by the threads that
	 * were waiting when the count was reached)
	 * @return the grants made
	 * @throws InterruptedException if interrupted while the threads run
	 */
	public static int take(List<LockTemplate> templates, int threadsPerInstance, String key, int handOffs)
			throws InterruptedException {
		AtomicInteger grants = new AtomicInteger();
		List<Thread> threads = new ArrayList<>();
		for (LockTemplate template : templates) {
			for (int t = 0; t < threadsPerInstance; t++) {
				Thread thread = new Thread(() -> {
					while (grants.get() < handOffs) {
						template.exclusive(key).run(grants::incrementAndGet);
					}
				});
				thread.start();
				threads.add(thread);
			}
		}
		for (Thread thread : threads) {
			thread.join();
		}
		return grants.get();
	}

}
