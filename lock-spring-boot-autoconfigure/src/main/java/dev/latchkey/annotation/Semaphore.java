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
 * Runs the annotated method under one permit of a counting semaphore: at most
 * {@link #permits()} calls per key at once, across every instance that shares the
 * backend.
 *
 * <pre class="code">
 * &#64;Semaphore(value = "reports", permits = 4)
 * public Report build(String month) { ... }
 *
 * &#64;Semaphore(value = "export:#tenant", permitsString = "${exports.per-tenant:2}", waitTime = 5, timeUnit = TimeUnit.SECONDS)
 * public Export export(String tenant) { ... }
 * </pre>
 * <p>
 * The key is a template: literal text stays as written; {@code #name},
 * {@code #name.property} and {@code #p0} runs are evaluated against the method arguments;
 * {@code #{...}} holds any expression; {@code ##} is a literal {@code #}. Templates are
 * checked when the application starts. The lease is held until the method returns, or
 * until the returned {@code CompletableFuture}, {@code CompletionStage}, {@code Mono} or
 * {@code Flux} completes, fails or is cancelled. A nested call on the same key in the
 * same call chain re-enters (it uses the permit already held).
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
public @interface Semaphore {

	/**
	 * Alias for {@link #key()}.
	 * @return the key template
	 */
	@AliasFor("key")
	String value() default "";

	/**
	 * The key template, for example {@code "reports"} or {@code "export:#tenant"}.
	 * @return the key template
	 */
	@AliasFor("value")
	String key() default "";

	/**
	 * The number of permits: how many calls may hold the semaphore at once. Required,
	 * here or in {@link #permitsString()}.
	 * @return the number of permits
	 */
	int permits() default -1;

	/**
	 * {@link #permits()} as a string: a number or a placeholder such as
	 * {@code "${reports.parallelism:4}"}.
	 * @return the number of permits, or empty to use {@link #permits()}
	 */
	String permitsString() default "";

	/**
	 * The name used for this lock in events and metrics; defaults to the key template.
	 * Never contains evaluated arguments.
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
	 * How long to wait for a permit before applying {@link #onContention()}; 0 makes a
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
	 * The permit's time-to-live at the backend; renewed while the method runs. Negative
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
	 * What the call does when all permits stay held for the whole wait time.
	 * @return the contention policy
	 */
	ContentionPolicy onContention() default ContentionPolicy.THROW;

	/**
	 * What happens to the running work when its lease is lost.
	 * @return the lost policy
	 */
	LostPolicy onLost() default LostPolicy.DEFAULT;

}
