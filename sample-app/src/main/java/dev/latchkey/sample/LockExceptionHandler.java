package dev.latchkey.sample;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.latchkey.LockNotAcquiredException;

/**
 * Turns a lock held elsewhere into {@code 409 Conflict}, with the key and how long the call waited.
 */
@RestControllerAdvice
public class LockExceptionHandler {

	@ExceptionHandler
	public ProblemDetail lockNotAcquired(LockNotAcquiredException ex) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT, ex.getMessage());
		problem.setTitle("Lock held elsewhere");
		problem.setProperty("key", ex.getKey());
		problem.setProperty("waitTime", ex.getWaitTime().toString());
		return problem;
	}

}
