package dev.latchkey.actuate;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and key values of the {@code latchkey.acquire} observation. Implement it (or extend
 * {@link DefaultLockAcquireObservationConvention}) and declare it as a bean to change them:
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
 */
public interface LockAcquireObservationConvention extends ObservationConvention<LockAcquireContext> {

	@Override
	default boolean supportsContext(Observation.Context context) {
		return context instanceof LockAcquireContext;
	}

}
