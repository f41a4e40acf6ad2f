/**
 * The local unix-domain-socket backend: locks shared by the processes of one host, with no server to run. One
 * repository of the host wins the election ({@link dev.latchkey.socket.ArbiterElection}) and runs the arbiter
 * ({@link dev.latchkey.socket.SocketArbiter}), which serves the lock table ({@link dev.latchkey.socket.LockTable}) to
 * every client over a framed protocol ({@link dev.latchkey.socket.Protocol}). A client's leases are freed when its
 * process closes its connection; when the arbiter goes away, the clients elect a successor and re-assert their leases
 * there, and the successor waits for them ({@link dev.latchkey.socket.ArbiterState}).
 */
@NullMarked
package dev.latchkey.socket;

import org.jspecify.annotations.NullMarked;
