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

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.Selector.Match;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.util.Assert;

import dev.latchkey.LockInfo;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;
import dev.latchkey.event.LockForceReleasedEvent;

/**
 * The {@code locks} Actuator endpoint: the keys held at the backend, and one key in
 * detail.
 * <ul>
 * <li>{@code GET /actuator/locks}: every held key the backend can list (those of all
 * instances where it can tell, else those of this instance), each with its mode, limit,
 * free permits and holders; and the leases this instance holds, with their names, mode,
 * limit, owner, fencing tokens, grant and expiry times, time-to-live, renewals, maximum
 * hold time and its deadline, and the callers of this instance waiting for the same
 * key;</li>
 * <li>{@code GET /actuator/locks/{key}}: one key, and where the backend can tell (the
 * socket backend) the requests of every instance waiting for it; {@code 404} when nobody
 * holds it;</li>
 * <li>{@code DELETE /actuator/locks/{key}}: force-release the key, evicting every holder
 * and bumping its fencing counter so that they are fenced off; a
 * {@link LockForceReleasedEvent} is published (and audited where audit is on). Off unless
 * the endpoint's access is unrestricted
 * ({@code management.endpoint.locks.access=unrestricted}); the evicted holders report
 * their leases lost at their next renewal.</li>
 * </ul>
 * Each holder shows its owner, fencing token, remaining time-to-live, whether it is this
 * instance and its description, if any. Owner names ({@code application@host:pid}),
 * descriptions and lock keys (made of method arguments, such as a customer's id) may be
 * personal data: in the listing they are masked as {@code ******} unless the endpoint's
 * {@link Show show-values} setting allows them
 * ({@code management.endpoint.locks.show-values}: {@code never} by default,
 * {@code when-authorized} for an authenticated caller in one of the {@code roles}, or
 * {@code always}), as Spring Boot's {@code env} and {@code configprops} endpoints do with
 * their values. The leases of this instance keep their names (an annotation's key
 * template), which hold no argument values. A key the caller gives
 * ({@code /actuator/locks/{key}}) is answered with that key.
 *
 * <pre class="code">
 * $ curl localhost:8080/actuator/locks/order:42
 * {"key":"order:42","mode":"EXCLUSIVE","permits":1,"freePermits":0,"holders":[{"owner":"******",
 *  "fencingToken":7,"remainingTtl":"PT29.1S","thisInstance":true}],"waiters":2}
 * </pre>
 *
 * @since 0.1.0
 */
@Endpoint(id = "locks", defaultAccess = Access.READ_ONLY)
public class LocksEndpoint {

	/**
	 * What a masked owner or key shows.
	 */
	public static final String MASK = "******";

	private final LockTemplate template;

	private final Show showOwner;

	private final Set<String> roles;

	private final @Nullable ApplicationEventPublisher events;

	/**
	 * Creates the endpoint.
	 * @param template the template whose backend to inspect
	 * @param showOwner whether to show owner names and keys rather than mask them
	 */
	public LocksEndpoint(LockTemplate template, boolean showOwner) {
		this(template, showOwner ? Show.ALWAYS : Show.NEVER, Set.of(), null);
	}

	/**
	 * Creates the endpoint.
	 * @param template the template whose backend to inspect
	 * @param showOwner whether to show owner names and keys rather than mask them
	 * @param events where to publish {@link LockForceReleasedEvent}s, or {@code null}
	 */
	public LocksEndpoint(LockTemplate template, boolean showOwner, @Nullable ApplicationEventPublisher events) {
		this(template, showOwner ? Show.ALWAYS : Show.NEVER, Set.of(), events);
	}

	/**
	 * Creates the endpoint.
	 *
	 * <pre class="code">
	 * new LocksEndpoint(locks, Show.WHEN_AUTHORIZED, Set.of("OPS"), eventPublisher);
	 * </pre>
	 * @param template the template whose backend to inspect
	 * @param showOwner when to show owner names and keys rather than mask them
	 * @param roles the roles a caller needs to see owner names and keys with
	 * {@link Show#WHEN_AUTHORIZED}; empty for any authenticated caller
	 * @param events where to publish {@link LockForceReleasedEvent}s, or {@code null}
	 */
	public LocksEndpoint(LockTemplate template, Show showOwner, Set<String> roles,
			@Nullable ApplicationEventPublisher events) {
		Assert.notNull(template, "LockTemplate must not be null");
		Assert.notNull(showOwner, "Show must not be null");
		Assert.notNull(roles, "Roles must not be null");
		this.template = template;
		this.showOwner = showOwner;
		this.roles = Set.copyOf(roles);
		this.events = events;
	}

	/**
	 * Lists the held keys.
	 * @param securityContext the caller, to decide whether owners are shown
	 * @return the backend and its held keys, ordered by key (owners and keys masked
	 * unless shown)
	 */
	@ReadOperation
	public LocksDescriptor locks(SecurityContext securityContext) {
		boolean showValues = this.showOwner.isShown(securityContext, this.roles);
		LockRepository repository = this.template.repository();
		Instant now = Instant.now();
		List<LeaseDescriptor> held = this.template.heldLeases().stream().map((lease) -> {
			Instant acquiredAt = now.minus(lease.heldFor());
			Duration maxHold = lease.maxHold().orElse(null);
			return new LeaseDescriptor(showValues ? lease.key() : MASK, lease.name(), lease.mode().name(),
					lease.permits(), showValues ? lease.owner() : MASK, lease.fencingToken(), acquiredAt,
					now.plus(lease.remainingTtl()), lease.ttl().toString(), lease.renewals(),
					this.template.waiterCount(lease.key()), format(maxHold),
					(maxHold != null) ? acquiredAt.plus(maxHold) : null,
					lease.description().map((description) -> showValues ? description : MASK).orElse(null));
		}).toList();
		return new LocksDescriptor(repository.backend(),
				repository.list().stream().map((info) -> describe(info, showValues, showValues, null)).toList(), held);
	}

	/**
	 * Describes one key. A key that contains {@code /} is given as several path segments.
	 * @param securityContext the caller, to decide whether owners are shown
	 * @param key the full lock key, prefix included, as {@link #locks(SecurityContext)}
	 * lists it
	 * @return the key's holders, or {@code null} (404) when nobody holds it
	 */
	@ReadOperation
	public @Nullable LockDescriptor lock(SecurityContext securityContext,
			@Selector(match = Match.ALL_REMAINING) String[] key) {
		boolean showOwners = this.showOwner.isShown(securityContext, this.roles);
		// The caller gave the key, so answering with it shows nothing new.
		LockRepository repository = this.template.repository();
		String lockKey = String.join("/", key);
		return repository.inspect(lockKey).map((info) -> {
			OptionalInt waiters = repository.waiters(lockKey);
			return describe(info, showOwners, true, waiters.isPresent() ? waiters.getAsInt() : null);
		}).orElse(null);
	}

	/**
	 * Force-releases one key: every holder is evicted and fenced off. Only with
	 * unrestricted access.
	 * @param key the full lock key, prefix included
	 * @return what was done: {@code released} is {@code false} when nobody held the key
	 * (then nothing is published)
	 */
	@DeleteOperation
	public ForceReleaseDescriptor forceRelease(@Selector(match = Match.ALL_REMAINING) String[] key) {
		String lockKey = String.join("/", key);
		LockRepository repository = this.template.repository();
		if (!repository.forceRelease(lockKey)) {
			// An answer rather than null: Actuator turns a null from a delete operation
			// into 204, not 404.
			return new ForceReleaseDescriptor(lockKey, false);
		}
		if (this.events != null) {
			this.events.publishEvent(
					new LockForceReleasedEvent(this, lockKey, repository.backend(), this.template.settings().owner()));
		}
		return new ForceReleaseDescriptor(lockKey, true);
	}

	private LockDescriptor describe(LockInfo info, boolean showOwners, boolean showKey, @Nullable Integer waiters) {
		String self = this.template.settings().owner();
		List<HolderDescriptor> holders = info.holders()
			.stream()
			.map((holder) -> new HolderDescriptor(showOwners ? holder.owner() : MASK, holder.fencingToken(),
					format(holder.remainingTtl()), holder.owner().equals(self),
					(holder.description() == null || showOwners) ? holder.description() : MASK))
			.toList();
		return new LockDescriptor(showKey ? info.key() : MASK, info.mode().name(), info.permits(), info.freePermits(),
				holders, waiters);
	}

	private static @Nullable String format(@Nullable Duration duration) {
		return (duration != null) ? duration.toString() : null;
	}

	/**
	 * The held keys of a backend, and the leases this instance holds.
	 *
	 * @param backend the backend's name
	 * @param locks the held keys, ordered by key
	 * @param thisInstance the leases this instance holds and renews, ordered by key
	 */
	public record LocksDescriptor(String backend, List<LockDescriptor> locks,
			List<LeaseDescriptor> thisInstance) implements OperationResponseBody {
	}

	/**
	 * A lease this instance holds.
	 *
	 * @param key the lock key, prefix included, or {@value LocksEndpoint#MASK} when keys
	 * are masked
	 * @param name the lock's name (the key template of an annotation)
	 * @param mode {@code EXCLUSIVE}, {@code SHARED} or {@code SEMAPHORE}
	 * @param permits the number of holders the key allows: 1, or the semaphore's permits
	 * @param owner this instance's owner name, or {@value LocksEndpoint#MASK} when owners
	 * are masked
	 * @param fencingToken the fencing token of the grant
	 * @param acquiredAt when the lease was granted (by this instance's clock)
	 * @param expiresAt when the backend expires the lease unless it is renewed again, as
	 * this instance estimates it from its last renewal (by this instance's clock; the
	 * backend's clock decides)
	 * @param ttl the lease's time-to-live at the backend (ISO-8601), renewed while held
	 * @param renewals how many times the lease has been renewed
	 * @param waitersHere how many callers of this instance wait for the same key now
	 * @param maxHold the lease's maximum hold time (ISO-8601), or {@code null} when it
	 * has no limit
	 * @param maxHoldDeadline when the lease reaches its maximum hold time and is lost and
	 * given back (by this instance's clock), or {@code null} when it has no limit
	 * @param description the lease's description, {@value LocksEndpoint#MASK} when owners
	 * are masked, or {@code null} when it has none
	 */
	public record LeaseDescriptor(String key, String name, String mode, int permits, String owner, long fencingToken,
			Instant acquiredAt, Instant expiresAt, String ttl, long renewals, int waitersHere, @Nullable String maxHold,
			@Nullable Instant maxHoldDeadline, @Nullable String description) {
	}

	/**
	 * The outcome of a force-release.
	 *
	 * @param key the lock key
	 * @param released whether holders were evicted; {@code false} when nobody held the
	 * key
	 */
	public record ForceReleaseDescriptor(String key, boolean released) implements OperationResponseBody {
	}

	/**
	 * One held key.
	 *
	 * @param key the lock key, prefix included, or {@value LocksEndpoint#MASK} in the
	 * listing when keys are masked
	 * @param mode {@code EXCLUSIVE}, {@code SHARED} or {@code SEMAPHORE}
	 * @param permits the number of holders allowed at once
	 * @param freePermits how many more holders the key takes now (0 for an exclusive key)
	 * @param holders the current holders
	 * @param waiters how many requests of every instance wait for the key, where the
	 * backend can tell (the socket backend) and only when one key is asked for;
	 * {@code null} otherwise
	 */
	public record LockDescriptor(String key, String mode, int permits, int freePermits, List<HolderDescriptor> holders,
			@Nullable Integer waiters) implements OperationResponseBody {
	}

	/**
	 * One holder of a key.
	 *
	 * @param owner the owner name, or {@value LocksEndpoint#MASK} when owners are masked
	 * @param fencingToken the fencing token of the holder's grant
	 * @param remainingTtl the time until the backend expires the lease (ISO-8601), or
	 * {@code null} when the backend does not expire leases by time
	 * @param thisInstance whether this application instance is the holder
	 * @param description what the holder said it does, {@value LocksEndpoint#MASK} when
	 * owners are masked, or {@code null} when it gave no description
	 */
	public record HolderDescriptor(String owner, long fencingToken, @Nullable String remainingTtl, boolean thisInstance,
			@Nullable String description) {
	}

}
