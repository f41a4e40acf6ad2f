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

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and key values of the {@code latchkey.acquire} observation. Implement it (or
 * extend {@link DefaultLockAcquireObservationConvention}) and declare it as a bean to
 * change them:
 *
 * <pre class="code">
 * &#64;Bean
 * LockAcquireObservationConvention lockAcquireObservationConvention() {
 *     return new DefaultLockAcquireObservationConvention() {
 *         &#64;Override
 *         public KeyValues getLowCardinalityKeyValues(LockAcquireContext context) {
 *             return super.getLowCardinalityKeyValues(context).and("mode", context.getMode().name());
 *         }
 *     };
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public interface LockAcquireObservationConvention extends ObservationConvention<LockAcquireContext> {

	@Override
	default boolean supportsContext(Observation.Context context) {
		return context instanceof LockAcquireContext;
	}

}
