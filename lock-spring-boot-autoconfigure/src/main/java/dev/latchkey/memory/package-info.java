/**
 * The in-JVM backend: the reference implementation of the {@link dev.latchkey.LockRepository} contract.
 */
@NullMarked
package dev.latchkey.memory;

import org.jspecify.annotations.NullMarked;
