package dev.latchkey.web;

import java.net.URI;
import java.security.Principal;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.util.Assert;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.latchkey.LockLostException;
import dev.latchkey.LockNotAcquiredException;

/**
 * Answers Latchkey's exceptions in Spring MVC as RFC 9457 problem details ({@code application/problem+json}):
 * <ul>
 * <li>{@link LockNotAcquiredException}: {@code 409 Conflict}, type {@value #NOT_ACQUIRED_TYPE}, with a
 * {@code Retry-After} header when a retry delay is configured ({@code 503} when the waiting thread was
 * interrupted);</li>
 * <li>{@link LockLostException}: {@code 503 Service Unavailable}, type {@value #LOST_TYPE}: the work ran without its
 * lock for a while and may be incomplete.</li>
 * </ul>
 * The detail names the lock by its name (an annotation's key template, {@code order:#id}), never by its key
 * ({@code order:42}), which is made of arguments and may be personal data; the key is added as the property
 * {@code key} only as {@link ShowKey} allows.
 * <p>
 * Ordered last ({@link Ordered#LOWEST_PRECEDENCE}), and registered after the application's own beans: an
 * {@code @ExceptionHandler} of the application's, in a controller or in a {@code @ControllerAdvice}, that handles
 * these exceptions (or a supertype of them) wins. Auto-configured for Spring MVC unless
 * {@code latchkey.web.problem-details.enabled=false}; a bean of this type of your own replaces it:
 * <pre class="code">
 * &#64;Bean
 * LockProblemDetailsExceptionHandler lockProblemDetailsExceptionHandler() {
 *     return new LockProblemDetailsExceptionHandler(ShowKey.ALWAYS, List.of(), Duration.ofSeconds(2));
 * }
 * </pre>
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

	private final ShowKey showKey;

	private final List<String> roles;

	private final @Nullable Duration retryAfter;

	/**
	 * Makes a handler.
	 * @param showKey when to add the lock key to the problem
	 * @param roles roles of which a caller needs one to see the key with {@link ShowKey#WHEN_AUTHORIZED}; any
	 * authenticated caller when empty
	 * @param retryAfter the delay to put in {@code Retry-After} when a lock is held elsewhere, or {@code null} for no
	 * header
	 */
	public LockProblemDetailsExceptionHandler(ShowKey showKey, Collection<String> roles,
			@Nullable Duration retryAfter) {
		Assert.notNull(showKey, "ShowKey must not be null");
		Assert.notNull(roles, "Roles must not be null");
		Assert.isTrue(retryAfter == null || !retryAfter.isNegative(), "Retry-After must not be negative");
		this.showKey = showKey;
		this.roles = List.copyOf(roles);
		this.retryAfter = retryAfter;
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
		if (ex.isInterrupted()) {
			ProblemDetail problem = problem(HttpStatus.SERVICE_UNAVAILABLE, NOT_ACQUIRED_TYPE, "Lock wait interrupted",
					"The wait for lock '" + ex.getName() + "' was interrupted; the request did not run", ex.getName());
			addKey(problem, ex.getKey(), request);
			return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body(problem);
		}
		String detail = ex.getWaitTime().isZero() ? "Lock '" + ex.getName() + "' is held elsewhere"
				: "Lock '" + ex.getName() + "' stayed held elsewhere for the whole wait time of " + ex.getWaitTime();
		ProblemDetail problem = problem(HttpStatus.CONFLICT, NOT_ACQUIRED_TYPE, "Lock held elsewhere",
				detail + "; try again later", ex.getName());
		problem.setProperty("waitTime", ex.getWaitTime().toString());
		addKey(problem, ex.getKey(), request);
		ResponseEntity.BodyBuilder response = ResponseEntity.status(HttpStatus.CONFLICT);
		if (this.retryAfter != null) {
			// Whole seconds (RFC 9110), rounded up so that a retry never comes before the configured delay.
			long seconds = this.retryAfter.plusNanos(999_999_999).getSeconds();
			response.header(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
		}
		return response.body(problem);
	}

	/**
	 * Answers a lock lost while the request's work ran with {@code 503 Service Unavailable}.
	 * @param ex the exception
	 * @param request the request
	 * @return the problem
	 */
	@ExceptionHandler
	public ResponseEntity<ProblemDetail> handleLockLost(LockLostException ex, HttpServletRequest request) {
		String reason = switch (ex.getReason()) {
			case NOT_OWNER -> "the backend no longer held its lease";
			case RENEWAL_FAILED -> "its lease could not be renewed in time";
			case EXPIRED_BEFORE_RELEASE -> "its lease had expired when the work finished";
		};
		ProblemDetail problem = problem(HttpStatus.SERVICE_UNAVAILABLE, LOST_TYPE, "Lock lost",
				"Lock '" + ex.getName() + "' was lost while the request ran (" + reason
						+ "); its work may be incomplete",
				ex.getName());
		problem.setProperty("reason", ex.getReason().name().toLowerCase(Locale.ROOT));
		addKey(problem, ex.getKey(), request);
		return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body(problem);
	}

	private static ProblemDetail problem(HttpStatus status, String type, String title, String detail, String name) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
		problem.setType(URI.create(type));
		problem.setTitle(title);
		problem.setProperty("lock", name);
		return problem;
	}

	private void addKey(ProblemDetail problem, String key, HttpServletRequest request) {
		if (isKeyShown(request)) {
			problem.setProperty("key", key);
		}
	}

	/**
	 * Whether the lock key may be shown to the caller of a request.
	 * @param request the request
	 * @return {@code true} to add the key to the problem
	 */
	protected boolean isKeyShown(HttpServletRequest request) {
		return switch (this.showKey) {
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
		return this.roles.isEmpty() || this.roles.stream().anyMatch(request::isUserInRole);
	}

}
