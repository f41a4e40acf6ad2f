/**
 * Latchkey in web applications: lock exceptions answered as RFC 9457 problem details, in Spring MVC
 * ({@link dev.latchkey.web.LockProblemDetailsExceptionHandler}) and Spring WebFlux
 * ({@link dev.latchkey.web.ReactiveLockProblemDetailsExceptionHandler}), both auto-configured.
 */
@NullMarked
package dev.latchkey.web;

import org.jspecify.annotations.NullMarked;
