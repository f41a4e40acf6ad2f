package dev.latchkey.autoconfigure;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;

import dev.latchkey.LockHandle;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.LocksEndpoint;
import dev.latchkey.event.LockEvent;
import dev.latchkey.event.LockForceReleasedEvent;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.actuate.LocksEndpoint.HolderDescriptor;
import dev.latchkey.actuate.LocksEndpoint.LockDescriptor;
import dev.latchkey.actuate.LocksEndpoint.LocksDescriptor;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LocksEndpointAutoConfiguration}: the {@code locks} endpoint exists only when exposed and allowed,
 * and masks owners unless told otherwise.
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
			.withPropertyValues("management.endpoints.web.exposure.include=locks", "management.endpoint.locks.access=NONE")
			.run((context) -> assertThat(context).doesNotHaveBean(LocksEndpoint.class));
	}

	@Test
	void listsHeldKeysWithOwnersMasked() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=locks").run((context) -> {
			LockTemplate locks = context.getBean(LockTemplate.class);
			LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
			try (LockHandle handle = locks.exclusive("order:42").named("order").acquire()) {
				LocksDescriptor all = endpoint.locks();
				assertThat(all.backend()).isEqualTo("memory");
				assertThat(all.locks()).extracting(LockDescriptor::key).containsExactly("order:42");
				assertThat(all.thisInstance()).singleElement().satisfies((lease) -> {
					assertThat(lease.key()).isEqualTo("order:42");
					assertThat(lease.name()).isEqualTo("order");
					assertThat(lease.mode()).isEqualTo("EXCLUSIVE");
					assertThat(lease.fencingToken()).isEqualTo(handle.fencingToken());
					assertThat(lease.acquiredAt()).isBefore(Instant.now().plusSeconds(1));
					assertThat(lease.ttl()).isEqualTo("PT30S");
				});
				LockDescriptor one = endpoint.lock(new String[] { "order:42" });
				assertThat(one).isNotNull();
				assertThat(one.mode()).isEqualTo("EXCLUSIVE");
				assertThat(one.limit()).isEqualTo(1);
				assertThat(one.holders()).singleElement().satisfies((holder) -> {
					assertThat(holder.owner()).isEqualTo("******");
					assertThat(holder.fencingToken()).isEqualTo(handle.fencingToken());
					assertThat(holder.remainingTtl()).startsWith("PT");
					assertThat(holder.thisInstance()).isTrue();
				});
			}
			assertThat(endpoint.lock(new String[] { "order:42" })).isNull();
			assertThat(endpoint.locks().locks()).isEmpty();
			assertThat(endpoint.locks().thisInstance()).isEmpty();
		});
	}

	@Test
	void forceReleaseEvictsTheHolderFencesItOffAndPublishesAnEvent() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks",
					"management.endpoint.locks.access=UNRESTRICTED", "latchkey.ttl=3s",
					"latchkey.renew-interval=100ms")
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
				assertThat(endpoint.forceRelease(new String[] { "order:42" })).isNull();
				RecordedEvents events = context.getBean(RecordedEvents.class);
				assertThat(events.events).filteredOn(LockForceReleasedEvent.class::isInstance)
					.singleElement()
					.satisfies((event) -> assertThat(event.getKey()).isEqualTo("order:42"));
				assertThat(events.events).filteredOn(LockLostEvent.class::isInstance).hasSize(1);
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
	void showsOwnersWhenAllowed() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=locks", "latchkey.endpoint.show-owner=true")
			.run((context) -> {
				LockTemplate locks = context.getBean(LockTemplate.class);
				LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
				locks.semaphore("reports/daily", 2).run(() -> {
					LockDescriptor one = endpoint.lock(new String[] { "reports", "daily" });
					assertThat(one).isNotNull();
					assertThat(one.mode()).isEqualTo("SHARED");
					assertThat(one.limit()).isEqualTo(2);
					assertThat(one.holders()).extracting(HolderDescriptor::owner).containsExactly("billing@host-1:4711");
				});
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
