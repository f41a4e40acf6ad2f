package dev.latchkey.actuate;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and key values of the {@code latchkey.hold} observation. Implement it (or extend
 * {@link DefaultLockHoldObservationConvention}) and declare it as a bean to change them:
 * <pre class="code">
 * &#64;Bean
 * LockHoldObservationConvention lockHoldObservationConvention() {
 *     return new DefaultLockHoldObservationConvention() {
 *         &#64;Override
 *         public String getContextualName(LockHoldContext context) {
 *             return "holding " + context.getLockName();
 *         }
 *     };
 * }
 * </pre>
 */
public interface LockHoldObservationConvention extends ObservationConvention<LockHoldContext> {

	@Override
	default boolean supportsContext(Observation.Context context) {
		return context instanceof LockHoldContext;
	}

}
