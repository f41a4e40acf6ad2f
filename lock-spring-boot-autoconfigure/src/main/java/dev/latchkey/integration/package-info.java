/**
 * Spring Integration on Latchkey: {@link dev.latchkey.integration.LatchkeyLockRegistry}, a {@code LockRegistry}
 * whose locks are Latchkey leases, renewed while held.
 */
@NullMarked
package dev.latchkey.integration;

import org.jspecify.annotations.NullMarked;
