package dev.latchkey.actuate;

import io.micrometer.common.KeyValues;

import dev.latchkey.actuate.LockObservationDocumentation.HoldHighCardinalityKeyNames;
import dev.latchkey.actuate.LockObservationDocumentation.LowCardinalityKeyNames;

/**
 * The default {@link LockHoldObservationConvention}: the name {@code latchkey.hold}, the contextual (span) name
 * {@code hold <lock name>}, the low-cardinality key values {@code name}, {@code backend} and, once it ended,
 * {@code outcome}, and the high-cardinality key value {@code latchkey.fencing.token} (spans only). The evaluated key is
 * left out (see {@link LockObservationContext#getKey()}).
 * <pre class="code">
 * new ObservationLockObserver(registry, null, new DefaultLockHoldObservationConvention());
 * </pre>
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
		return KeyValues.of(HoldHighCardinalityKeyNames.FENCING_TOKEN.withValue(Long.toString(context.getFencingToken())));
	}

}
