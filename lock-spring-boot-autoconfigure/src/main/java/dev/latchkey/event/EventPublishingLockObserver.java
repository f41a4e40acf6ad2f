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

package dev.latchkey.event;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.core.log.LogAccessor;
import org.springframework.util.Assert;

import dev.latchkey.Lease;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockLostException;
import dev.latchkey.LockObserver;

/**
 * Publishes a {@link LockEvent} for every acquisition, contention, backend failure,
 * renewal, release and loss that a {@code LockTemplate} observes, synchronously on the
 * thread where it happens. The event's source is this observer. A listener that throws is
 * logged and ignored: it never breaks locking.
 * <p>
 * Spring Boot gives the template one for the application context; by hand:
 *
 * <pre class="code">
 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults(),
 *         new EventPublishingLockObserver(applicationEventPublisher));
 * </pre>
 *
 * @since 0.1.0
 */
public class EventPublishingLockObserver implements LockObserver {

	private static final LogAccessor logger = new LogAccessor(EventPublishingLockObserver.class);

	private final ApplicationEventPublisher publisher;

	/**
	 * Creates an observer that publishes to the given publisher.
	 * @param publisher where to publish the events, usually the application context
	 */
	public EventPublishingLockObserver(ApplicationEventPublisher publisher) {
		Assert.notNull(publisher, "ApplicationEventPublisher must not be null");
		this.publisher = publisher;
	}

	@Override
	public Acquisition acquiring(String name, LeaseSpec spec, String backend) {
		return new PublishingAcquisition(name, spec, backend, System.nanoTime());
	}

	private void publish(LockEvent event) {
		try {
			this.publisher.publishEvent(event);
		}
		catch (Throwable ex) {
			// A listener must never break locking. The event's name, not its key (which
			// may be personal data).
			logger.warn(ex, () -> "Listener of " + event.getClass().getSimpleName() + " of lock '" + event.getName()
					+ "' failed");
		}
	}

	private final class PublishingAcquisition implements Acquisition {

		private final String name;

		private final LeaseSpec spec;

		private final String backend;

		private final long startNanos;

		PublishingAcquisition(String name, LeaseSpec spec, String backend, long startNanos) {
			this.name = name;
			this.spec = spec;
			this.backend = backend;
			this.startNanos = startNanos;
		}

		private Duration waited() {
			return Duration.ofNanos(System.nanoTime() - this.startNanos);
		}

		@Override
		public Hold acquired(Lease lease) {
			Duration waited = waited();
			publish(new LockAcquiredEvent(EventPublishingLockObserver.this, lease.key(), lease.name(), this.backend,
					lease.owner(), lease.fencingToken(), waited, Duration.ZERO)
				.withMode(lease.mode()));
			return new PublishingHold(lease, this.backend, waited);
		}

		@Override
		public void notAcquired() {
			publish(new LockNotAcquiredEvent(EventPublishingLockObserver.this, this.spec.key(), this.name, this.backend,
					this.spec.owner(), 0, waited(), Duration.ZERO)
				.withMode(this.spec.mode()));
		}

		@Override
		public void failed(Throwable failure) {
			// Other failures (a semaphore asked for with another limit, say) are the
			// caller's mistake, not the backend's: they have no event.
			if (failure instanceof LockBackendException backendFailure) {
				publish(new LockAcquireFailedEvent(EventPublishingLockObserver.this, this.spec.key(), this.name,
						this.backend, this.spec.owner(), waited(), backendFailure)
					.withMode(this.spec.mode()));
			}
		}

	}

	private final class PublishingHold implements Hold {

		private final Lease lease;

		private final String backend;

		private final Duration waited;

		PublishingHold(Lease lease, String backend, Duration waited) {
			this.lease = lease;
			this.backend = backend;
			this.waited = waited;
		}

		@Override
		public void renewed() {
			publish(new LockRenewedEvent(EventPublishingLockObserver.this, this.lease.key(), this.lease.name(),
					this.backend, this.lease.owner(), this.lease.fencingToken(), this.waited, this.lease.heldFor())
				.withMode(this.lease.mode()));
		}

		@Override
		public void released(@Nullable Throwable failure) {
			// A release that failed has no event: the lease expires at the backend.
			if (failure == null) {
				publish(new LockReleasedEvent(EventPublishingLockObserver.this, this.lease.key(), this.lease.name(),
						this.backend, this.lease.owner(), this.lease.fencingToken(), this.waited, this.lease.heldFor())
					.withMode(this.lease.mode()));
			}
		}

		@Override
		public void lost(LockLostException exception) {
			publish(new LockLostEvent(EventPublishingLockObserver.this, this.lease.key(), this.lease.name(),
					this.backend, this.lease.owner(), this.lease.fencingToken(), this.waited, this.lease.heldFor(),
					exception)
				.withMode(this.lease.mode()));
		}

	}

}
