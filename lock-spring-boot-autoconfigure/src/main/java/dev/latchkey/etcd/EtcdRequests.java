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

package dev.latchkey.etcd;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

import dev.latchkey.LockBackendException;
import dev.latchkey.support.FailureMessages;

/**
 * Sends one request to etcd and waits for its answer within the request timeout; a
 * failure becomes a {@link LockBackendException} that says what was being done.
 */
final class EtcdRequests {

	static final String BACKEND = "etcd";

	private final Duration timeout;

	EtcdRequests(Duration timeout) {
		Assert.isTrue(timeout != null && !timeout.isNegative() && !timeout.isZero(),
				"Request timeout must be positive");
		this.timeout = timeout;
	}

	Duration timeout() {
		return this.timeout;
	}

	<T> T call(Supplier<String> action, Supplier<CompletableFuture<T>> request) {
		return call(null, action, request);
	}

	/**
	 * Sends a request about one key and waits for its answer. A failure's message says
	 * what failed without the key (which may be personal data): the key is the
	 * exception's {@code getKey()}, and the template adds the lock's name.
	 */
	<T> T call(@Nullable String key, Supplier<String> action, Supplier<CompletableFuture<T>> request) {
		CompletableFuture<T> future;
		try {
			future = request.get();
		}
		catch (RuntimeException ex) {
			throw failed(key, action, ex);
		}
		try {
			return future.get(this.timeout.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (TimeoutException ex) {
			future.cancel(true);
			throw new LockBackendException(BACKEND, key,
					action.get() + " at the etcd backend failed: no answer within " + this.timeout.toMillis()
							+ " ms (are the endpoints reachable, and does the cluster have a" + " quorum?)",
					ex);
		}
		catch (ExecutionException ex) {
			throw failed(key, action, (ex.getCause() != null) ? ex.getCause() : ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			future.cancel(true);
			throw new LockBackendException(BACKEND, key, action.get() + " at the etcd backend was interrupted", ex);
		}
	}

	static LockBackendException closed() {
		return new LockBackendException(BACKEND, "etcd lock repository is closed", null);
	}

	private static LockBackendException failed(@Nullable String key, Supplier<String> action, Throwable failure) {
		return new LockBackendException(BACKEND, key,
				action.get() + " at the etcd backend failed: " + FailureMessages.reason(failure), failure);
	}

	/**
	 * Whether etcd answered that it does not know the lease (it expired or was revoked).
	 */
	static boolean isLeaseNotFound(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof EtcdException etcd && etcd.getErrorCode() == ErrorCode.NOT_FOUND
					&& String.valueOf(etcd.getMessage()).contains("lease not found")) {
				return true;
			}
			if (cause.getCause() == cause) {
				break;
			}
		}
		return false;
	}

}
