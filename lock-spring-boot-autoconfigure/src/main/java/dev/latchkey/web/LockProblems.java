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

package dev.latchkey.web;

import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.util.Assert;

import dev.latchkey.LockLostException;
import dev.latchkey.LockNotAcquiredException;

/**
 * The problem details of Latchkey's exceptions, the same for Spring MVC and Spring
 * WebFlux: status, type, title, detail, properties and {@code Retry-After}. Whether the
 * caller may see the key is the web stack's to decide.
 */
final class LockProblems {

	private final ShowKey showKey;

	private final List<String> roles;

	private final @Nullable Duration retryAfter;

	LockProblems(ShowKey showKey, Collection<String> roles, @Nullable Duration retryAfter) {
		Assert.notNull(showKey, "ShowKey must not be null");
		Assert.notNull(roles, "Roles must not be null");
		Assert.isTrue(retryAfter == null || !retryAfter.isNegative(), "Retry-After must not be negative");
		this.showKey = showKey;
		this.roles = List.copyOf(roles);
		this.retryAfter = retryAfter;
	}

	ShowKey showKey() {
		return this.showKey;
	}

	List<String> roles() {
		return this.roles;
	}

	ResponseEntity<ProblemDetail> notAcquired(LockNotAcquiredException ex, boolean keyShown) {
		if (ex.isInterrupted()) {
			ProblemDetail problem = problem(HttpStatus.SERVICE_UNAVAILABLE,
					LockProblemDetailsExceptionHandler.NOT_ACQUIRED_TYPE, "Lock wait interrupted",
					"The wait for lock '" + ex.getName() + "' was interrupted; the request did not run", ex.getName());
			addKey(problem, ex.getKey(), keyShown);
			return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body(problem);
		}
		String detail = ex.getWaitTime().isZero() ? "Lock '" + ex.getName() + "' is held elsewhere"
				: "Lock '" + ex.getName() + "' stayed held elsewhere for the whole wait time of " + ex.getWaitTime();
		ProblemDetail problem = problem(HttpStatus.CONFLICT, LockProblemDetailsExceptionHandler.NOT_ACQUIRED_TYPE,
				"Lock held elsewhere", detail + "; try again later", ex.getName());
		problem.setProperty("waitTime", ex.getWaitTime().toString());
		addKey(problem, ex.getKey(), keyShown);
		ResponseEntity.BodyBuilder response = ResponseEntity.status(HttpStatus.CONFLICT);
		if (this.retryAfter != null) {
			// Whole seconds (RFC 9110), rounded up so that a retry never comes before the
			// configured delay.
			long seconds = this.retryAfter.plusNanos(999_999_999).getSeconds();
			response.header(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
		}
		return response.body(problem);
	}

	ResponseEntity<ProblemDetail> lost(LockLostException ex, boolean keyShown) {
		String reason = switch (ex.getReason()) {
			case NOT_OWNER -> "the backend no longer held its lease";
			case RENEWAL_FAILED -> "its lease could not be renewed in time";
			case EXPIRED_BEFORE_RELEASE -> "its lease had expired when the work finished";
			case MAX_HOLD_EXCEEDED -> "it was held for its maximum hold time";
		};
		ProblemDetail problem = problem(HttpStatus.SERVICE_UNAVAILABLE, LockProblemDetailsExceptionHandler.LOST_TYPE,
				"Lock lost", "Lock '" + ex.getName() + "' was lost while the request ran (" + reason
						+ "); its work may be incomplete",
				ex.getName());
		problem.setProperty("reason", ex.getReason().name().toLowerCase(Locale.ROOT));
		addKey(problem, ex.getKey(), keyShown);
		return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body(problem);
	}

	private static ProblemDetail problem(HttpStatus status, String type, String title, String detail, String name) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
		problem.setType(URI.create(type));
		problem.setTitle(title);
		problem.setProperty("lock", name);
		return problem;
	}

	private static void addKey(ProblemDetail problem, String key, boolean keyShown) {
		if (keyShown) {
			problem.setProperty("key", key);
		}
	}

}
