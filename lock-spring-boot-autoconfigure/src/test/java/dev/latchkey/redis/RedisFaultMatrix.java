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

package dev.latchkey.redis;

import java.nio.file.Path;
import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LockRepository;
import dev.latchkey.test.FaultMatrix;

/**
 * The {@link FaultMatrix} on the Redis backend, whatever Redis the subclass starts (a
 * server, a Cluster): the repository on the subclass's connection factory, and what the
 * Redis backend promises under the faults.
 */
abstract class RedisFaultMatrix extends FaultMatrix {

	private @Nullable LettuceConnectionFactory connectionFactory;

	private @Nullable RedisLockRepository repository;

	/**
	 * Starts the test's Redis for one test.
	 * @param temporary a temporary directory of the test's own
	 * @return a started connection factory for it, with a short command timeout
	 */
	abstract LettuceConnectionFactory startRedis(Path temporary);

	/**
	 * Stops what {@link #startRedis} started.
	 */
	abstract void stopRedis();

	@Override
	protected final void startBackend(Path temporary) {
		this.connectionFactory = startRedis(temporary);
		this.repository = new RedisLockRepository(this.connectionFactory, NAMESPACE);
	}

	@Override
	protected final void stopBackend() {
		if (this.repository != null) {
			this.repository.close();
		}
		if (this.connectionFactory != null) {
			this.connectionFactory.destroy();
		}
		stopRedis();
	}

	@Override
	protected LockRepository repository() {
		return this.repository;
	}

	@Override
	protected boolean freesKeyOfCrashedHolderAtOnce() {
		return false;
	}

	@Override
	protected boolean honoursFairLocks() {
		return true;
	}

	@Override
	protected Duration crashRecoveryBound() {
		// The lease's TTL on Redis's clock (its owner record's); the waiter finds the
		// expiry by polling.
		return TTL.plusSeconds(2);
	}

}
