package dev.latchkey.actuate;

import io.micrometer.common.KeyValues;

import dev.latchkey.actuate.LockObservationDocumentation.LowCardinalityKeyNames;

/**
 * The default {@link LockAcquireObservationConvention}: the name {@code latchkey.acquire}, the contextual (span) name
 * {@code acquire <lock name>}, and the low-cardinality key values {@code name}, {@code backend} and, once it ended,
 * {@code outcome}. The evaluated key is left out (see {@link LockObservationContext#getKey()}).
 * <pre class="code">
 * new ObservationLockObserver(registry, new DefaultLockAcquireObservationConvention(), null);
 * </pre>
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
