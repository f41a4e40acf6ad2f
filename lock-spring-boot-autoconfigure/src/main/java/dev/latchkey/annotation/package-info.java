/**
 * Annotations that put a method under a lock: {@link dev.latchkey.annotation.Exclusive} and
 * {@link dev.latchkey.annotation.Semaphore}, and the policies they take.
 */
@NullMarked
package dev.latchkey.annotation;

import org.jspecify.annotations.NullMarked;
