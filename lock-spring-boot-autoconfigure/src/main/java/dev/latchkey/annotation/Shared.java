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
 * Runs the annotated method under a shared lock: the read side of a read/write lock whose
 * write side is {@link Exclusive @Exclusive} on the same key. Any number of calls hold
 * the key at once, across every instance that shares the backend, but none while an
 * {@code @Exclusive} call holds it.
 *
 * <pre class="code">
 * &#64;Shared("doc:#id")
 * public Document read(long id) { ... }
 *
 * &#64;Exclusive("doc:#id")
 * public void write(long id, String text) { ... }
 * </pre>
 * <p>
 * Writers are preferred: once an {@code @Exclusive} call waits for the key, new
 * {@code @Shared} calls wait behind it, so a steady stream of readers never starves a
 * writer. Each grant has a fencing token, rising across both modes. A nested
 * {@code @Shared} call on a key the call chain already holds, shared or exclusive,
 * re-enters the lock; a nested {@code @Exclusive} call on a key held shared cannot
 * upgrade it and waits for itself until its wait time runs out.
 * <p>
 * The key is a template, written as for {@link Exclusive @Exclusive}; the attributes mean
 * the same, and unset ones fall back to the {@code latchkey.*} properties. Not every
 * backend has read/write locks (see the README): on one without, a call fails with a
 * {@code LockConfigurationException} naming the backend.
 *
 * @since 0.1.0
 */
@Target({ ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Shared {

	/**
	 * Alias for {@link #key()}.
	 * @return the key template
	 */
	@AliasFor("key")
	String value() default "";

	/**
	 * The key template, for example {@code "doc:#id"}: the key of the {@code @Exclusive}
	 * methods it shares with.
	 * @return the key template
	 */
	@AliasFor("value")
	String key() default "";

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
	 * sooner: writers stay out for that long. 0 (the default) releases at once.
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
	 * back, so that a waiting writer may run. Must be positive and no shorter than
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
	 * What happens to the running work when its lease is lost.
	 * @return the lost policy
	 */
	LostPolicy onLost() default LostPolicy.DEFAULT;

}
