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

import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.Semaphore;

/**
 * The guarded bean of {@link AspectOverheadBenchmark}: trivial work, so that what is
 * measured is the locking around it.
 */
public class Orders {

	/**
	 * The work with no lock, called on the proxy: measures the proxy alone.
	 * @param id the order
	 * @return a value derived from the order, so the call cannot be optimized away
	 */
	public long look(long id) {
		return id * 31 + 7;
	}

	/**
	 * The same work under an exclusive lock per order.
	 * @param id the order
	 * @return a value derived from the order
	 */
	@Exclusive("order:#id")
	public long pay(long id) {
		return id * 31 + 7;
	}

	/**
	 * The same work under the exclusive locks of two accounts, taken together.
	 * @param from one account
	 * @param to the other account
	 * @return a value derived from the accounts
	 */
	@Exclusive({ "account:#from", "account:#to" })
	public long transfer(long from, long to) {
		return from * 31 + to;
	}

	/**
	 * The same work under a permit of a semaphore.
	 * @param id the report
	 * @return a value derived from the report
	 */
	@Semaphore(value = "reports", permits = 4)
	public long report(long id) {
		return id * 31 + 7;
	}

}
