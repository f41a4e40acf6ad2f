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
 * Helpers that backends share: the local listeners of release notifications, the choice
 * of a failure's message, the expiry sweep of the backends that keep their leases alive
 * in bulk, and the bounded memory of what a repository only remembers to save requests.
 * The core never uses this package.
 */
@NullMarked
package dev.latchkey.support;

import org.jspecify.annotations.NullMarked;
