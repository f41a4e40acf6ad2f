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

package dev.latchkey.actuate;

import io.micrometer.common.KeyValues;

import dev.latchkey.actuate.LockObservationDocumentation.LowCardinalityKeyNames;

/**
 * The default {@link LockAcquireObservationConvention}: the name
 * {@code latchkey.acquire}, the contextual (span) name {@code acquire <lock name>}, and
 * the low-cardinality key values {@code name}, {@code backend} and, once it ended,
 * {@code outcome}. The evaluated key is left out (see
 * {@link LockObservationContext#getKey()}).
 *
 * <pre class="code">
 * new ObservationLockObserver(registry, new DefaultLockAcquireObservationConvention(), null);
 * </pre>
 *
 * @since 0.1.0
 */
public class DefaultLockAcquireObservationConvention implements LockAcquireObservationConvention {

	@Override
	public String getName() {
		return LockObservationDocumentation.ACQUIRE.getName();
	}

	@Override
	public String getContextualName(LockAcquireContext context) {
		return "acquire " + context.getLockName();
	}

	@Override
	public KeyValues getLowCardinalityKeyValues(LockAcquireContext context) {
		return LowCardinalityKeyNames.of(context);
	}

}
