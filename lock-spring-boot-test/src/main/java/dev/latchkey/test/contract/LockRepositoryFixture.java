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

package dev.latchkey.test.contract;

import java.time.Duration;

import dev.latchkey.LockRepository;

/**
 * What the contracts of this package ask of a test class: how to make the repository
 * under test and its peers, and keys of the current run. {@link LockRepositoryContract}
 * implements it, so a backend's test class implements {@link #createRepository()} and,
 * where the defaults do not fit, the methods it overrides:
 *
 * <pre class="code">
 * class ZookeeperLockRepositoryTests extends LockRepositoryContract implements CrossInstanceContract {
 *
 *     &#64;Override
 *     public LockRepository createRepository() {
 *         return new ZookeeperLockRepository(curator);
 *     }
 *
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public interface LockRepositoryFixture {

	/**
	 * Makes a repository on the store under test; {@link LockRepositoryContract} calls it
	 * before each test.
	 * @return a new repository
	 */
	LockRepository createRepository();

	/**
	 * Makes another repository on the same store as {@link #createRepository()}'s:
	 * another application instance that locks together with it (the same server and
	 * namespace, the same table, the same lock directory). A backend whose store lives in
	 * its repository (the memory backend) answers a view of {@link #repository()}. The
	 * tests that call it destroy what it made with
	 * {@link #destroyRepository(LockRepository)}. By default, another
	 * {@link #createRepository()}.
	 * @return a new repository on the store of the repository under test
	 */
	default LockRepository createPeerRepository() {
		return createRepository();
	}

	/**
	 * Releases what {@link #createRepository()} or {@link #createPeerRepository()} made.
	 * By default, closes a repository that is {@link AutoCloseable}.
	 * @param repository the repository to release
	 */
	default void destroyRepository(LockRepository repository) {
		if (repository instanceof AutoCloseable closeable) {
			try {
				closeable.close();
			}
			catch (Exception ex) {
				throw new IllegalStateException("Could not close " + repository, ex);
			}
		}
	}

	/**
	 * The TTL of leases that the tests let expire. The default, 300 ms, suits a backend
	 * that expires leases with millisecond precision; a backend whose leases count
	 * coarser units (etcd counts whole seconds) returns its shortest TTL.
	 * @return the short TTL
	 */
	default Duration shortTtl() {
		return Duration.ofMillis(300);
	}

	/**
	 * The repository under test, made for the current test.
	 * @return the repository
	 */
	LockRepository repository();

	/**
	 * A key unique to the current test class's run, so that a store shared between runs
	 * or builds does not disturb the tests and later runs do not trip over what this one
	 * left (leases it does not release expire).
	 * @param name a readable part
	 * @return the key
	 */
	String key(String name);

}
