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
 * The backend contract: the tests a {@link dev.latchkey.LockRepository} passes, split by
 * ability. {@link dev.latchkey.test.contract.LockRepositoryContract} (the SPI) is a class
 * to extend; {@link dev.latchkey.test.contract.CrossInstanceContract},
 * {@link dev.latchkey.test.contract.QueueingLockRepositoryContract} and
 * {@link dev.latchkey.test.contract.LossSignalContract} are interfaces to implement
 * beside it, each where the backend has the ability.
 */
@NullMarked
package dev.latchkey.test.contract;

import org.jspecify.annotations.NullMarked;
