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
import java.util.Set;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.util.ClassUtils;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ServerWebExchange;

import dev.latchkey.LockLostException;
import dev.latchkey.LockNotAcquiredException;

/**
 * Answers Latchkey's exceptions from Spring WebFlux controllers as RFC 9457 problem
 * details, exactly as {@link LockProblemDetailsExceptionHandler} does for Spring MVC:
 * {@code 409 Conflict} for {@link LockNotAcquiredException} (with {@code Retry-After}
 * when configured), {@code 503 Service Unavailable} for {@link LockLostException}, the
 * lock named by its name and its key shown only as {@link ShowKey} allows.
 * <p>
 * With {@link ShowKey#WHEN_AUTHORIZED}, the caller is the exchange's principal; with
 * roles configured, it needs one of them as a Spring Security authority ({@code ROLE_} +
 * the role, or the role itself when it already starts with {@code ROLE_}).
 * <p>
 * Ordered last, so the application's own handlers for these exceptions win.
 * Auto-configured for Spring WebFlux unless
 * {@code latchkey.web.problem-details.enabled=false}; a bean of this type of your own
 * replaces it:
 *
 * <pre class="code">
 * &#64;Bean
 * ReactiveLockProblemDetailsExceptionHandler lockProblemDetailsExceptionHandler() {
 *     return new ReactiveLockProblemDetailsExceptionHandler(ShowKey.NEVER, List.of(), Duration.ofSeconds(2));
 * }
 * </pre>
 *
 * @since 0.1.0
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
public class ReactiveLockProblemDetailsExceptionHandler {

	private static final boolean SPRING_SECURITY_PRESENT = ClassUtils.isPresent(
			"org.springframework.security.core.Authentication",
			ReactiveLockProblemDetailsExceptionHandler.class.getClassLoader());

	private final LockProblems problems;

	/**
	 * Makes a handler.
	 * @param showKey when to add the lock key to the problem
	 * @param roles roles of which a caller needs one to see the key with
	 * {@link ShowKey#WHEN_AUTHORIZED}; any authenticated caller when empty
	 * @param retryAfter the delay to put in {@code Retry-After} when a lock is held
	 * elsewhere, or {@code null} for no header
	 */
	public ReactiveLockProblemDetailsExceptionHandler(ShowKey showKey, Collection<String> roles,
			@Nullable Duration retryAfter) {
		this.problems = new LockProblems(showKey, roles, retryAfter);
	}

	/**
	 * Answers a lock held elsewhere with {@code 409 Conflict}.
	 * @param ex the exception
	 * @param exchange the exchange
	 * @return the problem
	 */
	@ExceptionHandler
	public Mono<ResponseEntity<ProblemDetail>> handleLockNotAcquired(LockNotAcquiredException ex,
			ServerWebExchange exchange) {
		return isKeyShown(exchange).map((shown) -> this.problems.notAcquired(ex, shown));
	}

	/**
	 * Answers a lock lost while the request's work ran with
	 * {@code 503 Service Unavailable}.
	 * @param ex the exception
	 * @param exchange the exchange
	 * @return the problem
	 */
	@ExceptionHandler
	public Mono<ResponseEntity<ProblemDetail>> handleLockLost(LockLostException ex, ServerWebExchange exchange) {
		return isKeyShown(exchange).map((shown) -> this.problems.lost(ex, shown));
	}

	/**
	 * Whether the lock key may be shown to the caller of an exchange.
	 * @param exchange the exchange
	 * @return {@code true} to add the key to the problem
	 */
	protected Mono<Boolean> isKeyShown(ServerWebExchange exchange) {
		return switch (this.problems.showKey()) {
			case NEVER -> Mono.just(false);
			case ALWAYS -> Mono.just(true);
			case WHEN_AUTHORIZED -> exchange.getPrincipal().map(this::isAuthorized).defaultIfEmpty(false);
		};
	}

	private boolean isAuthorized(Principal principal) {
		List<String> roles = this.problems.roles();
		if (roles.isEmpty()) {
			return true;
		}
		return SPRING_SECURITY_PRESENT && SpringSecurityRoles.hasAnyRole(principal, roles);
	}

	/**
	 * Reads roles from Spring Security, loaded only when it is on the class path.
	 */
	private static final class SpringSecurityRoles {

		private static final String ROLE_PREFIX = "ROLE_";

		static boolean hasAnyRole(Principal principal, List<String> roles) {
			if (!(principal instanceof Authentication authentication)) {
				return false;
			}
			Set<String> authorities = authentication.getAuthorities()
				.stream()
				.map(GrantedAuthority::getAuthority)
				.collect(Collectors.toSet());
			return roles.stream()
				.map((role) -> role.startsWith(ROLE_PREFIX) ? role : ROLE_PREFIX + role)
				.anyMatch(authorities::contains);
		}

	}

}
