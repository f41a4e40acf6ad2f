/**
 * Latchkey's public API: the {@link dev.latchkey.LockRepository} SPI that every backend implements,
 * {@link dev.latchkey.LockTemplate} for programmatic locking, {@link dev.latchkey.LockContext} for the guarded
 * code, {@link dev.latchkey.LockObserver} for what happens to locks, and the exceptions. Package-private beside them,
 * the engine the template drives: the lease keeper (renewal), the waiter, and the lifecycle of a granted lease.
 */
@NullMarked
package dev.latchkey;

import org.jspecify.annotations.NullMarked;
