/**
 * Parts shared by every backend: the lease keeper that renews leases, the waiter that waits for a
 * release, and the owner identity.
 */
@NullMarked
package dev.latchkey.support;

import org.jspecify.annotations.NullMarked;
