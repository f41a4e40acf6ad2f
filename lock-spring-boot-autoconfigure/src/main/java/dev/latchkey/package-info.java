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
 * Latchkey's public API: the {@link dev.latchkey.LockRepository} SPI that every backend
 * implements, {@link dev.latchkey.LockTemplate} for programmatic locking,
 * {@link dev.latchkey.LockContext} for the guarded code,
 * {@link dev.latchkey.LockObserver} for what happens to locks, and the exceptions.
 * Package-private beside them, the engine the template drives: the lease keeper
 * (renewal), the waiter, and the lifecycle of a granted lease.
 */
@NullMarked
package dev.latchkey;

import org.jspecify.annotations.NullMarked;
