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
 * Fencing for the stores that guarded work writes to: a write carries the lock's fencing
 * token, and the store refuses it when a newer token has written already. This is the
 * last line of defence against a holder that lost its lease without noticing (paused by a
 * GC, a stopped VM, a partition) and writes after the next holder.
 * <ul>
 * <li>{@link dev.latchkey.fencing.JdbcFence}: a fence row per resource in a relational
 * database (PostgreSQL, MySQL, MariaDB, H2), advanced in the same transaction as the
 * guarded write;</li>
 * <li>{@link dev.latchkey.fencing.RedisFence}: a Redis value set by one script only when
 * its token is not older than the one stored with it.</li>
 * </ul>
 *
 * <pre class="code">
 * &#64;Exclusive("ledger:#account")
 * public void post(String account, Entry entry) {
 *     fence.run("ledger:" + account, LockContext.fencingToken(), () -&gt; ledger.insert(account, entry));
 * }
 * </pre>
 */
@NullMarked
package dev.latchkey.fencing;

import org.jspecify.annotations.NullMarked;
