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

import dev.latchkey.actuate.LockObservationDocumentation.HoldHighCardinalityKeyNames;
import dev.latchkey.actuate.LockObservationDocumentation.LowCardinalityKeyNames;

/**
 * The default {@link LockHoldObservationConvention}: the name {@code latchkey.hold}, the
 * contextual (span) name {@code hold <lock name>}, the low-cardinality key values
 * {@code name}, {@code backend} and, once it ended, {@code outcome}, and the
 * high-cardinality key value {@code latchkey.fencing.token} (spans only). The evaluated
 * key is left out (see {@link LockObservationContext#getKey()}).
 *
 * <pre class="code">
 * new ObservationLockObserver(registry, null, new DefaultLockHoldObservationConvention());
 * </pre>
 *
 * @since 0.1.0
 */
public class DefaultLockHoldObservationConvention implements LockHoldObservationConvention {

	@Override
	public String getName() {
		return LockObservationDocumentation.HOLD.getName();
	}

	@Override
	public String getContextualName(LockHoldContext context) {
		return "hold " + context.getLockName();
	}

	@Override
	public KeyValues getLowCardinalityKeyValues(LockHoldContext context) {
		return LowCardinalityKeyNames.of(context);
	}

	@Override
	public KeyValues getHighCardinalityKeyValues(LockHoldContext context) {
		return KeyValues
			.of(HoldHighCardinalityKeyNames.FENCING_TOKEN.withValue(Long.toString(context.getFencingToken())));
	}

}
