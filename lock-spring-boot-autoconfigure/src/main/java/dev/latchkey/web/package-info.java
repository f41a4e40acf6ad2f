/**
 * Latchkey in web applications: lock exceptions answered as RFC 9457 problem details
 * ({@link dev.latchkey.web.LockProblemDetailsExceptionHandler}), auto-configured for Spring MVC.
 */
@NullMarked
package dev.latchkey.web;

import org.jspecify.annotations.NullMarked;
