/**
 * The etcd v3 backend: locks shared through an etcd cluster, with one transaction to acquire and one to release, the
 * revision of the grant as fencing token, one kept-alive etcd lease per time-to-live class, and watches that wake
 * waiters.
 */
@NullMarked
package dev.latchkey.etcd;

import org.jspecify.annotations.NullMarked;
