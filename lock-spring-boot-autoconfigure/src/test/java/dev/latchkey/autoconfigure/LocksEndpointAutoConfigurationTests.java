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

package dev.latchkey.autoconfigure;

import java.nio.file.Path;
import java.time.Duration;
import java.security.Principal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;

import dev.latchkey.LockHandle;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.LocksEndpoint;
import dev.latchkey.event.LockEvent;
import dev.latchkey.event.LockForceReleasedEvent;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.actuate.LocksEndpoint.HolderDescriptor;
import dev.latchkey.actuate.LocksEndpoint.LeaseDescriptor;
import dev.latchkey.actuate.LocksEndpoint.LockDescriptor;
import dev.latchkey.actuate.LocksEndpoint.LocksDescriptor;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LocksEndpointAutoConfiguration}: the {@code locks} endpoint exists
 * only when exposed and allowed, and masks owners unless told otherwise.
 */
class LocksEndpointAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class, LocksEndpointAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory", "latchkey.owner=billing@host-1:4711");

	@Test
	void notExposedByDefault() {
		this.contextRunner.run((context) -> assertThat(context).doesNotHaveBean(LocksEndpoint.class));
	}

	@Test
	void exposedOverTheWeb() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=health,locks")
			.run((context) -> assertThat(context).hasSingleBean(LocksEndpoint.class));
	}

	@Test
	void notAvailableWhenAccessIsNone() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.access=NONE")
			.run((context) -> assertThat(context).doesNotHaveBean(LocksEndpoint.class));
	}

	@Test
	void listsHeldKeysWithOwnersAndKeysMasked() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=locks").run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
			try (LockHandle handle = locks.exclusive("order:42").named("order").acquire()) {
				LocksDescriptor all = endpoint.locks(SecurityContext.NONE);
				assertThat(all.backend()).isEqualTo("memory");
				assertThat(all.locks()).extracting(LockDescriptor::key).containsExactly("******");
				assertThat(all.thisInstance()).singleElement().satisfies((lease) -> {
					assertThat(lease.key()).isEqualTo("******");
					assertThat(lease.name()).isEqualTo("order");
					assertThat(lease.mode()).isEqualTo("EXCLUSIVE");
					assertThat(lease.permits()).isEqualTo(1);
					assertThat(lease.owner()).isEqualTo("******");
					assertThat(lease.fencingToken()).isEqualTo(handle.fencingToken());
					assertThat(lease.acquiredAt()).isBefore(Instant.now().plusSeconds(1));
					assertThat(lease.expiresAt()).isAfter(Instant.now().plusSeconds(25))
						.isBefore(Instant.now().plusSeconds(31));
					assertThat(lease.ttl()).isEqualTo("PT30S");
					assertThat(lease.renewals()).isZero();
					assertThat(lease.waitersHere()).isZero();
					assertThat(lease.maxHold()).isNull();
					assertThat(lease.maxHoldDeadline()).isNull();
				});
				LockDescriptor one = endpoint.lock(SecurityContext.NONE, new String[] { "order:42" });
				assertThat(one).isNotNull();
				// The caller gave the key.
				assertThat(one.key()).isEqualTo("order:42");
				assertThat(one.mode()).isEqualTo("EXCLUSIVE");
				assertThat(one.permits()).isEqualTo(1);
				assertThat(one.freePermits()).isZero();
				assertThat(one.waiters()).as("the memory backend cannot tell").isNull();
				assertThat(one.holders()).singleElement().satisfies((holder) -> {
					assertThat(holder.owner()).isEqualTo("******");
					assertThat(holder.fencingToken()).isEqualTo(handle.fencingToken());
					assertThat(holder.remainingTtl()).startsWith("PT");
					assertThat(holder.thisInstance()).isTrue();
				});
			}
			assertThat(endpoint.lock(SecurityContext.NONE, new String[] { "order:42" })).isNull();
			assertThat(endpoint.locks(SecurityContext.NONE).locks()).isEmpty();
			assertThat(endpoint.locks(SecurityContext.NONE).thisInstance()).isEmpty();
		});
	}

	@Test
	void forceReleaseEvictsTheHolderFencesItOffAndPublishesAnEvent() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.access=UNRESTRICTED", "latchkey.ttl=3s", "latchkey.renew-interval=100ms")
			.withBean(RecordedEvents.class)
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
				try (LockHandle handle = locks.exclusive("order:42").acquire()) {
					assertThat(endpoint.forceRelease(new String[] { "order:42" })).isNotNull()
						.satisfies((released) -> assertThat(released.released()).isTrue());
					// The evicted holder hears of it at its next renewal.
					Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !handle.lease().isValid());
					try (LockHandle next = locks.exclusive("order:42").acquire()) {
						assertThat(next.fencingToken()).isGreaterThan(handle.fencingToken() + 1);
					}
				}
				assertThat(endpoint.forceRelease(new String[] { "order:42" }).released()).isFalse();
				RecordedEvents events = context.getBean(RecordedEvents.class);
				assertThat(events.events).filteredOn(LockForceReleasedEvent.class::isInstance)
					.singleElement()
					.satisfies((event) -> assertThat(event.getKey()).isEqualTo("order:42"));
				// The lease turns invalid just before its LockLostEvent is published, on
				// the keeper's thread.
				Awaitility.await()
					.atMost(Duration.ofSeconds(5))
					.until(() -> events.events.stream().anyMatch(LockLostEvent.class::isInstance));
				assertThat(events.events).filteredOn(LockLostEvent.class::isInstance).hasSize(1);
			});
	}

	@Test
	void showsFreePermitsAndTheMaximumHoldTimeAndItsDeadline() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks", "latchkey.max-hold=10m")
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
				try (LockHandle handle = locks.semaphore("reports", 3).acquire()) {
					LocksDescriptor all = endpoint.locks(SecurityContext.NONE);
					assertThat(all.locks()).singleElement().satisfies((lock) -> {
						assertThat(lock.permits()).isEqualTo(3);
						assertThat(lock.freePermits()).isEqualTo(2);
						assertThat(lock.waiters()).isNull();
					});
					assertThat(all.thisInstance()).singleElement().satisfies((lease) -> {
						assertThat(lease.maxHold()).isEqualTo("PT10M");
						assertThat(lease.maxHoldDeadline()).isEqualTo(lease.acquiredAt().plus(Duration.ofMinutes(10)));
					});
					assertThat(endpoint.lock(SecurityContext.NONE, new String[] { "reports" }).freePermits())
						.isEqualTo(2);
				}
			});
	}

	@Test
	void showsTheWaitersOfEveryInstanceWhereTheBackendCanTell(@TempDir Path directory) {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks", "latchkey.backend=socket",
					"latchkey.socket.directory=" + directory.resolve("locks"))
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
				ExecutorService waiters = Executors.newFixedThreadPool(2);
				try (LockHandle handle = locks.exclusive("order:42").acquire()) {
					for (int i = 0; i < 2; i++) {
						waiters.submit(() -> locks.exclusive("order:42").waitTime(Duration.ofSeconds(10)).tryRun(() -> {
						}));
					}
					Awaitility.await()
						.atMost(Duration.ofSeconds(5))
						.until(() -> endpoint.lock(SecurityContext.NONE, new String[] { "order:42" }).waiters(),
								(count) -> count != null && count == 2);
				}
				finally {
					waiters.shutdown();
					assertThat(waiters.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
				}
			});
	}

	@Test
	void forceReleaseIsOffUnlessAccessIsUnrestricted() {
		assertThat(LocksEndpoint.class.getAnnotation(Endpoint.class).defaultAccess()).isEqualTo(Access.READ_ONLY);
	}

	static class RecordedEvents implements ApplicationListener<LockEvent> {

		final List<LockEvent> events = new CopyOnWriteArrayList<>();

		@Override
		public void onApplicationEvent(LockEvent event) {
			this.events.add(event);
		}

	}

	@Test
	void listsRenewalsAndTheCallersOfThisInstanceWaitingForALease() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks", "latchkey.ttl=3s",
					"latchkey.renew-interval=100ms")
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
				ExecutorService waiters = Executors.newFixedThreadPool(2);
				try (LockHandle handle = locks.semaphore("reports", 1).acquire()) {
					for (int i = 0; i < 2; i++) {
						waiters
							.submit(() -> locks.semaphore("reports", 1).waitTime(Duration.ofSeconds(10)).tryRun(() -> {
							}));
					}
					Awaitility.await()
						.atMost(Duration.ofSeconds(5))
						.until(() -> endpoint.locks(SecurityContext.NONE).thisInstance().get(0),
								(lease) -> lease.renewals() >= 2 && lease.waitersHere() == 2);
					LeaseDescriptor lease = endpoint.locks(SecurityContext.NONE).thisInstance().get(0);
					assertThat(lease.mode()).isEqualTo("SEMAPHORE");
					assertThat(lease.permits()).isEqualTo(1);
					assertThat(lease.expiresAt()).isBefore(Instant.now().plusSeconds(4));
				}
				finally {
					waiters.shutdown();
					assertThat(waiters.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
				}
				assertThat(locks.waiterCount("reports")).isZero();
			});
	}

	@Test
	void ownersAreMaskedWhenShowValuesIsNever() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.show-values=never")
			.run((context) -> {
				assertThat(ownersSeenBy(context, AUTHORIZED)).containsOnly("******");
				assertThat(listedKeysSeenBy(context, AUTHORIZED)).containsOnly("******");
				assertThat(descriptionsSeenBy(context, AUTHORIZED)).containsOnly("******");
			});
	}

	@Test
	void ownersAreShownWhenShowValuesIsAlways() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.show-values=always")
			.run((context) -> {
				assertThat(ownersSeenBy(context, SecurityContext.NONE)).containsOnly("billing@host-1:4711");
				assertThat(listedKeysSeenBy(context, SecurityContext.NONE)).containsOnly("order:42");
				assertThat(descriptionsSeenBy(context, SecurityContext.NONE)).containsOnly("nightly import 2026-12-05");
			});
	}

	@Test
	void ownersAreShownOnlyToAuthenticatedCallersWhenAuthorized() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.show-values=when-authorized")
			.run((context) -> {
				assertThat(ownersSeenBy(context, AUTHORIZED)).containsOnly("billing@host-1:4711");
				assertThat(listedKeysSeenBy(context, AUTHORIZED)).containsOnly("order:42");
				assertThat(ownersSeenBy(context, SecurityContext.NONE)).containsOnly("******");
				assertThat(listedKeysSeenBy(context, SecurityContext.NONE)).containsOnly("******");
				assertThat(descriptionsSeenBy(context, AUTHORIZED)).containsOnly("nightly import 2026-12-05");
				assertThat(descriptionsSeenBy(context, SecurityContext.NONE)).containsOnly("******");
			});
	}

	@Test
	void ownersAreShownOnlyToCallersInTheRolesWhenAuthorizedWithRoles() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.show-values=when-authorized", "management.endpoint.locks.roles=OPS")
			.run((context) -> {
				assertThat(ownersSeenBy(context, AUTHORIZED)).containsOnly("billing@host-1:4711");
				assertThat(listedKeysSeenBy(context, AUTHORIZED)).containsOnly("order:42");
				assertThat(ownersSeenBy(context, new Caller("dev", "DEV"))).containsOnly("******");
				assertThat(listedKeysSeenBy(context, new Caller("dev", "DEV"))).containsOnly("******");
				assertThat(descriptionsSeenBy(context, AUTHORIZED)).containsOnly("nightly import 2026-12-05");
				assertThat(descriptionsSeenBy(context, new Caller("dev", "DEV"))).containsOnly("******");
			});
	}

	private static final SecurityContext AUTHORIZED = new Caller("alice", "OPS");

	/**
	 * The owners a caller sees in every part of the endpoint's answers that shows one.
	 */
	private static List<String> ownersSeenBy(AssertableApplicationContext context, SecurityContext caller) {
		LockTemplate locks = context.getBean(LockTemplate.class);
		LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
		return locks.exclusive("order:42").call(() -> {
			List<String> owners = new ArrayList<>();
			LocksDescriptor all = endpoint.locks(caller);
			all.locks().forEach((lock) -> lock.holders().forEach((holder) -> owners.add(holder.owner())));
			all.thisInstance().forEach((lease) -> owners.add(lease.owner()));
			LockDescriptor one = endpoint.lock(caller, new String[] { "order:42" });
			assertThat(one).isNotNull();
			one.holders().forEach((holder) -> owners.add(holder.owner()));
			assertThat(owners).hasSize(3);
			return owners;
		});
	}

	/**
	 * The descriptions a caller sees of a described lease in every part of the endpoint's
	 * answers that shows one; a lease held beside it without a description shows none
	 * there, masked or not.
	 */
	private static List<@Nullable String> descriptionsSeenBy(AssertableApplicationContext context,
			SecurityContext caller) {
		LockTemplate locks = context.getBean(LockTemplate.class);
		LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
		try (LockHandle plain = locks.exclusive("order:43").acquire()) {
			return locks.exclusive("order:42").description("nightly import 2026-12-05").call(() -> {
				List<@Nullable String> descriptions = new ArrayList<>();
				LocksDescriptor all = endpoint.locks(caller);
				assertThat(all.locks()).hasSize(2);
				all.locks()
					.forEach((lock) -> lock.holders()
						.stream()
						.filter((holder) -> holder.fencingToken() != plain.fencingToken())
						.forEach((holder) -> descriptions.add(holder.description())));
				all.thisInstance()
					.stream()
					.filter((lease) -> lease.fencingToken() != plain.fencingToken())
					.forEach((lease) -> descriptions.add(lease.description()));
				LockDescriptor one = endpoint.lock(caller, new String[] { "order:42" });
				assertThat(one).isNotNull();
				one.holders().forEach((holder) -> descriptions.add(holder.description()));
				assertThat(descriptions).hasSize(3);
				assertThat(all.locks()).flatExtracting(LockDescriptor::holders)
					.filteredOn((holder) -> holder.fencingToken() == plain.fencingToken())
					.singleElement()
					.satisfies((holder) -> assertThat(holder.description()).isNull());
				assertThat(all.thisInstance()).filteredOn((lease) -> lease.fencingToken() == plain.fencingToken())
					.singleElement()
					.satisfies((lease) -> assertThat(lease.description()).isNull());
				assertThat(endpoint.lock(caller, new String[] { "order:43" }).holders()).singleElement()
					.satisfies((holder) -> assertThat(holder.description()).isNull());
				return descriptions;
			});
		}
	}

	/**
	 * The keys a caller sees in the listing, of the held keys and of this instance's
	 * leases.
	 */
	private static List<String> listedKeysSeenBy(AssertableApplicationContext context, SecurityContext caller) {
		LockTemplate locks = context.getBean(LockTemplate.class);
		LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
		return locks.exclusive("order:42").call(() -> {
			List<String> keys = new ArrayList<>();
			LocksDescriptor all = endpoint.locks(caller);
			all.locks().forEach((lock) -> keys.add(lock.key()));
			all.thisInstance().forEach((lease) -> keys.add(lease.key()));
			assertThat(keys).hasSize(2);
			return keys;
		});
	}

	/**
	 * An authenticated caller with one role.
	 */
	private record Caller(String name, String role) implements SecurityContext {

		@Override
		public Principal getPrincipal() {
			return () -> this.name;
		}

		@Override
		public boolean isUserInRole(String role) {
			return this.role.equals(role);
		}

	}

	@Test
	void showsOwnersWhenAllowed() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.show-values=always")
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
				locks.semaphore("reports/daily", 2).run(() -> {
					LockDescriptor one = endpoint.lock(SecurityContext.NONE, new String[] { "reports", "daily" });
					assertThat(one).isNotNull();
					assertThat(one.mode()).isEqualTo("SEMAPHORE");
					assertThat(one.permits()).isEqualTo(2);
					assertThat(one.holders()).extracting(HolderDescriptor::owner)
						.containsExactly("billing@host-1:4711");
				});
			});
	}

	@Test
	void showsASharedKeyWithEveryHolder() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.show-values=always")
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
				try (LockHandle first = locks.shared("doc/7").acquire();
						LockHandle second = locks.shared("doc/7").acquire()) {
					LockDescriptor doc = endpoint.lock(SecurityContext.NONE, new String[] { "doc", "7" });
					assertThat(doc).isNotNull();
					assertThat(doc.mode()).isEqualTo("SHARED");
					assertThat(doc.permits()).isOne();
					assertThat(doc.holders()).extracting(HolderDescriptor::fencingToken)
						.containsExactlyInAnyOrder(first.fencingToken(), second.fencingToken());
					assertThat(endpoint.locks(SecurityContext.NONE).thisInstance())
						.filteredOn((lease) -> lease.key().equals("doc/7"))
						.hasSize(2)
						.allSatisfy((lease) -> assertThat(lease.mode()).isEqualTo("SHARED"));
				}
			});
	}

	@Test
	void backsOffWithoutActuator() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=locks")
			.withClassLoader(new FilteredClassLoader(Endpoint.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(LockTemplate.class)
				.doesNotHaveBean(LocksEndpoint.class));
	}

}
