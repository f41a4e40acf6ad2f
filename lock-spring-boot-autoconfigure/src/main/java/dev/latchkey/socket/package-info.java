/**
 * The local unix-domain-socket backend: locks shared by the processes of one host, with no server to run. The first
 * process to need a lock becomes the arbiter and serves the others over a socket in the lock directory; a client's
 * locks are released the moment its connection closes.
 */
@NullMarked
package dev.latchkey.socket;

import org.jspecify.annotations.NullMarked;
