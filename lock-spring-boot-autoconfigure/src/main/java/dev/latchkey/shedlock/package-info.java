/**
 * ShedLock on Latchkey: {@link dev.latchkey.shedlock.LatchkeyLockProvider}, a ShedLock {@code LockProvider} that
 * runs {@code @SchedulerLock} methods on Latchkey's backends, with renewal, loss reporting and fencing tokens.
 */
@NullMarked
package dev.latchkey.shedlock;

import org.jspecify.annotations.NullMarked;
