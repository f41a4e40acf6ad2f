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
import java.util.UUID;

import org.jspecify.annotations.Nullable;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockObserver;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

/**
 * Helpers the contracts share.
 */
final class Contracts {

	/**
	 * The TTL of leases the tests hold for the whole test.
	 */
	static final Duration LONG_TTL = Duration.ofSeconds(30);

	private Contracts() {
	}

	/**
	 * A template on a repository, renewing every 100 ms and polling as given.
	 * @param repository the repository
	 * @param owner the template's owner name
	 * @param initialPoll the first poll interval of a waiter
	 * @param maxPoll the longest poll interval of a waiter
	 * @return the template, to close
	 */
	static LockTemplate template(LockRepository repository, String owner, Duration initialPoll, Duration maxPoll) {
		return template(repository, owner, initialPoll, maxPoll, null);
	}

	/**
	 * A template on a repository, renewing every 100 ms, polling as given, and telling an
	 * observer.
	 * @param repository the repository
	 * @param owner the template's owner name
	 * @param initialPoll the first poll interval of a waiter
	 * @param maxPoll the longest poll interval of a waiter
	 * @param observer what hears of acquisitions and holds, or {@code null}
	 * @return the template, to close
	 */
	static LockTemplate template(LockRepository repository, String owner, Duration initialPoll, Duration maxPoll,
			@Nullable LockObserver observer) {
		return new LockTemplate(repository, settings(owner, initialPoll, maxPoll), observer);
	}

	/**
	 * A template on a repository, renewing every 100 ms and polling as given, whose
	 * exclusive locks are fair or not.
	 * @param repository the repository
	 * @param owner the template's owner name
	 * @param initialPoll the first poll interval of a waiter
	 * @param maxPoll the longest poll interval of a waiter
	 * @param fair whether exclusive locks are fair ({@code latchkey.fair})
	 * @return the template, to close
	 */
	static LockTemplate template(LockRepository repository, String owner, Duration initialPoll, Duration maxPoll,
			boolean fair) {
		return new LockTemplate(repository, settings(owner, initialPoll, maxPoll).withFair(fair), null);
	}

	private static LockSettings settings(String owner, Duration initialPoll, Duration maxPoll) {
		return LockSettings.defaults()
			.withTtl(LONG_TTL)
			.withRenewInterval(Duration.ofMillis(100))
			.withOwner(owner)
			.withPollIntervals(initialPoll, maxPoll);
	}

	static LeaseSpec exclusive(String key, String owner, Duration ttl) {
		return LeaseSpec.exclusive(key, owner, UUID.randomUUID().toString(), ttl);
	}

	static LeaseSpec semaphore(String key, int limit, String owner, Duration ttl) {
		return LeaseSpec.semaphore(key, limit, owner, UUID.randomUUID().toString(), ttl);
	}

	static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
