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

import java.util.List;

/**
 * The live threads of this JVM as a user sees them in a thread dump: by name.
 */
public final class LiveThreads {

	private LiveThreads() {
	}

	/**
	 * The names of the live threads whose name starts with a prefix.
	 * @param prefix the prefix
	 * @return their names, sorted
	 */
	public static List<String> named(String prefix) {
		return Thread.getAllStackTraces()
			.keySet()
			.stream()
			.filter(Thread::isAlive)
			.map(Thread::getName)
			.filter((name) -> name.startsWith(prefix))
			.sorted()
			.toList();
	}

}
