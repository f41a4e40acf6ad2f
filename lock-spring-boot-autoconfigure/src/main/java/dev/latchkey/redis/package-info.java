/**
 * The Redis backend: locks shared through the application's own Redis (standalone, Sentinel or Cluster), with one
 * round trip to acquire, one to release, and a shared pub/sub subscription that wakes waiters.
 */
@NullMarked
package dev.latchkey.redis;

import org.jspecify.annotations.NullMarked;
