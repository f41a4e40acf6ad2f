/**
 * Operating Latchkey with Spring Boot Actuator and Micrometer: {@link dev.latchkey.actuate.LockMetrics},
 * {@link dev.latchkey.actuate.LatchkeyHealthIndicator} and the {@code locks} endpoint,
 * {@link dev.latchkey.actuate.LocksEndpoint}. Each is auto-configured only when its library is on the class path.
 */
@NullMarked
package dev.latchkey.actuate;

import org.jspecify.annotations.NullMarked;
