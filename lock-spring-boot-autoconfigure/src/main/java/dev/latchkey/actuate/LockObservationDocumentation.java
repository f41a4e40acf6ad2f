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
import io.micrometer.common.docs.KeyName;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;
import io.micrometer.observation.docs.ObservationDocumentation;

/**
 * Latchkey's two observations and their key values. With Micrometer's
 * {@code DefaultMeterObservationHandler} (as Spring Boot configures it) each becomes a
 * timer of its name, tagged with the low-cardinality key values and {@code error}, plus a
 * long task timer {@code <name>.active}; with a tracer each becomes a span.
 *
 * <pre class="code">
 * Observation acquire = LockObservationDocumentation.ACQUIRE.observation(null,
 *         new DefaultLockAcquireObservationConvention(), () -&gt; context, registry);
 * </pre>
 *
 * @since 0.1.0
 */
public enum LockObservationDocumentation implements ObservationDocumentation {

	/**
	 * Acquiring a lock: from the first attempt until it is granted, the wait time ends or
	 * the backend fails.
	 */
	ACQUIRE {

		@Override
		public Class<? extends ObservationConvention<? extends Observation.Context>> getDefaultConvention() {
			return DefaultLockAcquireObservationConvention.class;
		}

		@Override
		public String getName() {
			return "latchkey.acquire";
		}

		@Override
		public KeyName[] getLowCardinalityKeyNames() {
			return LowCardinalityKeyNames.values();
		}

	},

	/**
	 * Holding a lock: from the grant until the lease is released or lost.
	 */
	HOLD {

		@Override
		public Class<? extends ObservationConvention<? extends Observation.Context>> getDefaultConvention() {
			return DefaultLockHoldObservationConvention.class;
		}

		@Override
		public String getName() {
			return "latchkey.hold";
		}

		@Override
		public KeyName[] getLowCardinalityKeyNames() {
			return LowCardinalityKeyNames.values();
		}

		@Override
		public KeyName[] getHighCardinalityKeyNames() {
			return HoldHighCardinalityKeyNames.values();
		}

	};

	/**
	 * The low-cardinality key values of both observations (metric tags and span
	 * attributes).
	 */
	public enum LowCardinalityKeyNames implements KeyName {

		/**
		 * The lock's name (the key template of an annotation), never the evaluated key.
		 */
		NAME {
			@Override
			public String asString() {
				return "name";
			}
		},

		/**
		 * The backend's name.
		 */
		BACKEND {
			@Override
			public String asString() {
				return "backend";
			}
		},

		/**
		 * How it ended: {@code acquired}, {@code contended}, {@code failed};
		 * {@code released}, {@code lost}. Absent while the observation runs (so the long
		 * task timer has no such tag).
		 */
		OUTCOME {
			@Override
			public String asString() {
				return "outcome";
			}
		};

		static KeyValues of(LockObservationContext context) {
			String outcome = context.getOutcome();
			KeyValues values = KeyValues.of(NAME.withValue(context.getLockName()),
					BACKEND.withValue(context.getBackend()));
			return (outcome != null) ? values.and(OUTCOME.withValue(outcome)) : values;
		}

	}

	/**
	 * The high-cardinality key values of the hold observation (span attributes only).
	 */
	public enum HoldHighCardinalityKeyNames implements KeyName {

		/**
		 * The fencing token of the grant.
		 */
		FENCING_TOKEN {
			@Override
			public String asString() {
				return "latchkey.fencing.token";
			}
		}

	}

}
