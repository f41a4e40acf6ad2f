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
 * Operating Latchkey with Spring Boot Actuator and Micrometer: the observations of
 * acquisitions and holds ({@link dev.latchkey.actuate.ObservationLockObserver}, with
 * their conventions and {@link dev.latchkey.actuate.LockObservationDocumentation}), the
 * meters made from lock events ({@link dev.latchkey.actuate.LockMetrics}),
 * {@link dev.latchkey.actuate.LatchkeyHealthIndicator}, the {@code locks} endpoint
 * ({@link dev.latchkey.actuate.LocksEndpoint}) and
 * {@link dev.latchkey.actuate.LockAuditListener}. Each is auto-configured only when its
 * library is on the class path.
 */
@NullMarked
package dev.latchkey.actuate;

import org.jspecify.annotations.NullMarked;
