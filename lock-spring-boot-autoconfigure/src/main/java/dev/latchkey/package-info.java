/**
 * Latchkey's public API: the {@link dev.latchkey.LockRepository} SPI that every backend implements,
 * {@link dev.latchkey.LockTemplate} for programmatic locking, {@link dev.latchkey.LockContext} for the guarded
 * code, and the exceptions.
 */
@NullMarked
package dev.latchkey;

import org.jspecify.annotations.NullMarked;
