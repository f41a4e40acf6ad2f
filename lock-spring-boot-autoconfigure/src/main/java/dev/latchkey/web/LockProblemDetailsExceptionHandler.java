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

import java.security.Principal;
import java.time.Duration;
import java.util.Collection;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.latchkey.LockLostException;
import dev.latchkey.LockNotAcquiredException;

/**
 * Answers Latchkey's exceptions in Spring MVC as RFC 9457 problem details
 * ({@code application/problem+json}):
 * <ul>
 * <li>{@link LockNotAcquiredException}: {@code 409 Conflict}, type
 * {@value #NOT_ACQUIRED_TYPE}, with a {@code Retry-After} header when a retry delay is
 * configured ({@code 503} when the waiting thread was interrupted);</li>
 * <li>{@link LockLostException}: {@code 503 Service Unavailable}, type
 * {@value #LOST_TYPE}: the work ran without its lock for a while and may be
 * incomplete.</li>
 * </ul>
 * The detail names the lock by its name (an annotation's key template,
 * {@code order:#id}), never by its key ({@code order:42}), which is made of arguments and
 * may be personal data; the key is added as the property {@code key} only as
 * {@link ShowKey} allows.
 * <p>
 * Ordered last ({@link Ordered#LOWEST_PRECEDENCE}), and registered after the
 * application's own beans: an {@code @ExceptionHandler} of the application's, in a
 * controller or in a {@code @ControllerAdvice}, that handles these exceptions (or a
 * supertype of them) wins. Auto-configured for Spring MVC unless
 * {@code latchkey.web.problem-details.enabled=false}; a bean of this type of your own
 * replaces it:
 *
 * <pre class="code">
 * &#64;Bean
 * LockProblemDetailsExceptionHandler lockProblemDetailsExceptionHandler() {
 *     return new LockProblemDetailsExceptionHandler(ShowKey.ALWAYS, List.of(), Duration.ofSeconds(2));
 * }
 * </pre>
 * <p>
 * Spring WebFlux applications get the same answers from
 * {@link ReactiveLockProblemDetailsExceptionHandler}.
 *
 * @since 0.1.0
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
public class LockProblemDetailsExceptionHandler {

	/**
	 * The problem type of a lock held elsewhere.
	 */
	public static final String NOT_ACQUIRED_TYPE = "urn:latchkey:problem:lock-not-acquired";

	/**
	 * The problem type of a lock lost while the request's work ran.
	 */
	public static final String LOST_TYPE = "urn:latchkey:problem:lock-lost";

	private final LockProblems problems;

	/**
	 * Makes a handler.
	 * @param showKey when to add the lock key to the problem
	 * @param roles roles of which a caller needs one to see the key with
	 * {@link ShowKey#WHEN_AUTHORIZED}; any authenticated caller when empty
	 * @param retryAfter the delay to put in {@code Retry-After} when a lock is held
	 * elsewhere, or {@code null} for no header
	 */
	public LockProblemDetailsExceptionHandler(ShowKey showKey, Collection<String> roles,
			@Nullable Duration retryAfter) {
		this.problems = new LockProblems(showKey, roles, retryAfter);
	}

	/**
	 * Answers a lock held elsewhere with {@code 409 Conflict}.
	 * @param ex the exception
	 * @param request the request
	 * @return the problem
	 */
	@ExceptionHandler
	public ResponseEntity<ProblemDetail> handleLockNotAcquired(LockNotAcquiredException ex,
			HttpServletRequest request) {
		return this.problems.notAcquired(ex, isKeyShown(request));
	}

	/**
	 * Answers a lock lost while the request's work ran with
	 * {@code 503 Service Unavailable}.
	 * @param ex the exception
	 * @param request the request
	 * @return the problem
	 */
	@ExceptionHandler
	public ResponseEntity<ProblemDetail> handleLockLost(LockLostException ex, HttpServletRequest request) {
		return this.problems.lost(ex, isKeyShown(request));
	}

	/**
	 * Whether the lock key may be shown to the caller of a request.
	 * @param request the request
	 * @return {@code true} to add the key to the problem
	 */
	protected boolean isKeyShown(HttpServletRequest request) {
		return switch (this.problems.showKey()) {
			case NEVER -> false;
			case ALWAYS -> true;
			case WHEN_AUTHORIZED -> isAuthorized(request);
		};
	}

	private boolean isAuthorized(HttpServletRequest request) {
		Principal principal = request.getUserPrincipal();
		if (principal == null) {
			return false;
		}
		List<String> roles = this.problems.roles();
		return roles.isEmpty() || roles.stream().anyMatch(request::isUserInRole);
	}

}
