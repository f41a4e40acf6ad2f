/*
 * Copyright 2026-present the original author or authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *      https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/**
 * The local unix-domain-socket backend: locks shared by the processes of one host, with
 * no server to run. One repository of the host wins the election
 * ({@link dev.latchkey.socket.ArbiterElection}) and runs the arbiter
 * ({@link dev.latchkey.socket.SocketArbiter}), which serves the lock table
 * ({@link dev.latchkey.socket.LockTable}) to every client over a framed protocol
 * ({@link dev.latchkey.socket.Protocol}). A client's leases are freed when its process
 * closes its connection; when the arbiter goes away, the clients elect a successor and
 * re-assert their leases there, and the successor waits for them
 * ({@link dev.latchkey.socket.ArbiterState}).
 */
@NullMarked
package dev.latchkey.socket;

import org.jspecify.annotations.NullMarked;
