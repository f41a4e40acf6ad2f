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

package dev.latchkey.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.TimeUnit;

import org.springframework.core.annotation.AliasFor;

/**
 * Runs the annotated method under an exclusive lock: one call per key at a time, across
 * every instance that shares the backend.
 *
 * <pre class="code">
 * &#64;Exclusive("order:#id")
 * public Receipt pay(long id) { ... }
 *
 * &#64;Exclusive(value = "nightly-report", onContention = ContentionPolicy.SKIP, minHoldString = "${jobs.min-hold:30s}")
 * &#64;Scheduled(cron = "0 0 2 * * *")
 * public void nightlyReport() { ... }
 * </pre>
 * <p>
 * The key is a template: literal text stays as written; {@code #name},
 * {@code #name.property} and {@code #p0} runs are evaluated against the method arguments;
 * {@code #{...}} holds any expression; {@code ##} is a literal {@code #}. Templates are
 * checked when the application starts. The lease is held until the method returns, or
 * until the returned {@code CompletableFuture}, {@code CompletionStage}, {@code Mono} or
 * {@code Flux} completes, fails or is cancelled. A nested call on the same key in the
 * same call chain re-enters the lock.
 * <p>
 * Several templates lock several keys at once, each with its own fencing token:
 *
 * <pre class="code">
 * &#64;Exclusive({ "account:#from", "account:#to" })
 * public void transfer(String from, String to, long cents) {
 *     ledger.debit(from, cents, LockContext.fencingToken("account:" + from));
 *     ledger.credit(to, cents, LockContext.fencingToken("account:" + to));
 * }
 * </pre>
 * <p>
 * Numeric attributes use {@link #timeUnit()}; their {@code ...String} variants take a
 * number in that unit, a duration such as {@code "500ms"} or {@code "PT2S"}, or a
 * {@code ${...}} placeholder. Unset attributes fall back to the {@code latchkey.*}
 * properties.
 *
 * @since 0.1.0
 */
@Target({ ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Exclusive {

	/**
	 * Alias for {@link #key()}.
	 * @return the key templates
	 */
	@AliasFor("key")
	String[] value() default {};

	/**
	 * The key template, for example {@code "order:#id"}, or several to hold at once, for
	 * example {@code { "account:#from", "account:#to" }}: all of them or none, taken in a
	 * canonical order whatever the order written (see
	 * {@link dev.latchkey.LockTemplate#exclusive(String, String...)}).
	 * @return the key templates
	 */
	@AliasFor("value")
	String[] key() default {};

	/**
	 * The name used for this lock in events and metrics; defaults to the key template
	 * (the templates joined by commas when there are several). Never contains evaluated
	 * arguments.
	 * @return the lock's name
	 */
	String name() default "";

	/**
	 * What the holder does, stored with the lease and shown beside its owner by
	 * {@code LockTemplate.inspect} and the {@code locks} endpoint, to every instance
	 * (masked as owners are): a template like the key's, for example
	 * {@code "import of #day"}, checked when the application starts and evaluated at each
	 * call. It must evaluate to at most 200 characters on one line (no control
	 * characters), or the call fails with a {@code LockKeyException}. Empty (the default)
	 * for none.
	 * @return the description template
	 */
	String description() default "";

	/**
	 * How long to wait for the lock before applying {@link #onContention()}; 0 makes a
	 * single attempt; negative means {@code latchkey.wait-time}.
	 * @return the wait time in {@link #timeUnit()}
	 */
	long waitTime() default -1;

	/**
	 * {@link #waitTime()} as a string: a number, a duration or a placeholder.
	 * @return the wait time, or empty to use {@link #waitTime()}
	 */
	String waitTimeString() default "";

	/**
	 * The lease's time-to-live at the backend; renewed while the method runs. Negative
	 * means {@code latchkey.ttl}.
	 * @return the time-to-live in {@link #timeUnit()}
	 */
	long ttl() default -1;

	/**
	 * {@link #ttl()} as a string: a number, a duration or a placeholder.
	 * @return the time-to-live, or empty to use {@link #ttl()}
	 */
	String ttlString() default "";

	/**
	 * The least time the lock stays held after the method started, even if it returns
	 * sooner: a scheduled job that finishes fast still blocks other instances for that
	 * long. 0 (the default) releases at once.
	 * @return the minimum hold time in {@link #timeUnit()}
	 */
	long minHold() default 0;

	/**
	 * {@link #minHold()} as a string: a number, a duration or a placeholder.
	 * @return the minimum hold time, or empty to use {@link #minHold()}
	 */
	String minHoldString() default "";

	/**
	 * The longest the lock is held, renewals included: at that limit renewal stops, the
	 * lease is lost ({@code LossReason.MAX_HOLD_EXCEEDED}: a {@code LockLostEvent}, and
	 * the work is interrupted or cancelled as {@link #onLost()} says) and it is given
	 * back, so that another instance may run. Must be positive and no shorter than
	 * {@link #minHold()}; negative (the default) means {@code latchkey.max-hold}.
	 * @return the maximum hold time in {@link #timeUnit()}
	 */
	long maxHold() default -1;

	/**
	 * {@link #maxHold()} as a string: a number, a duration or a placeholder.
	 * @return the maximum hold time, or empty to use {@link #maxHold()}
	 */
	String maxHoldString() default "";

	/**
	 * The unit of the numeric attributes and of unit-less numbers in their string
	 * variants.
	 * @return the time unit
	 */
	TimeUnit timeUnit() default TimeUnit.MILLISECONDS;

	/**
	 * What the call does when the lock stays held elsewhere for the whole wait time.
	 * @return the contention policy
	 */
	ContentionPolicy onContention() default ContentionPolicy.THROW;

	/**
	 * Whether the lock is fair: granted to its waiters strictly in the order they asked,
	 * across every instance, where the backend keeps a queue of waiters (the socket
	 * backend, etcd, Redis, and the memory backend within its JVM). An unfair lock goes
	 * to whichever waiter asks first once it is free: fewer requests and faster
	 * hand-offs, but a busy instance may take it again and again.
	 *
	 * <pre class="code">
	 * &#64;Exclusive(value = "ledger", fair = true, waitTimeString = "30s")
	 * public void post(Entry entry) { ... }
	 * </pre>
	 * <p>
	 * {@code false} (the default) leaves it to {@code latchkey.fair}. On a backend
	 * without a queue (JDBC) {@code fair = true} fails the application's start with a
	 * {@code LockConfigurationException} that names the method and the backends that
	 * honour it.
	 * @return whether the lock is fair
	 */
	boolean fair() default false;

	/**
	 * What happens to the running work when its lease is lost.
	 * @return the lost policy
	 */
	LostPolicy onLost() default LostPolicy.DEFAULT;

}
