package dev.latchkey.sample;

import java.time.Duration;

/**
 * Stands in for real work (a call to a payment provider, a slow query) by sleeping.
 */
final class SimulatedWork {

	private SimulatedWork() {
	}

	static void take(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			// Latchkey interrupts the work when its lease is lost: stop at once.
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
	}

}
