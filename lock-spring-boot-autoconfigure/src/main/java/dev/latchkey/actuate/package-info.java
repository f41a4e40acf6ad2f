/**
 * Operating Latchkey with Spring Boot Actuator and Micrometer: the observations of acquisitions and holds
 * ({@link dev.latchkey.actuate.ObservationLockObserver}, with their conventions and
 * {@link dev.latchkey.actuate.LockObservationDocumentation}), the meters made from lock events
 * ({@link dev.latchkey.actuate.LockMetrics}), {@link dev.latchkey.actuate.LatchkeyHealthIndicator}, the {@code locks}
 * endpoint ({@link dev.latchkey.actuate.LocksEndpoint}) and {@link dev.latchkey.actuate.LockAuditListener}. Each is
 * auto-configured only when its library is on the class path.
 */
@NullMarked
package dev.latchkey.actuate;

import org.jspecify.annotations.NullMarked;
