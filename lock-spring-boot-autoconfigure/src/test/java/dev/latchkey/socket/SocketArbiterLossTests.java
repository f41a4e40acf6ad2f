package dev.latchkey.socket;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.event.LockLostEvent;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the arbiter goes away, its clients learn at once that their leases are lost, not at their next renewal.
 */
class SocketArbiterLossTests {

	@TempDir
	Path temporary;

	private final List<Object> events = new CopyOnWriteArrayList<>();

	private LockTemplate template;

	@AfterEach
	void close() {
		if (this.template != null) {
			this.template.close();
		}
		SocketLockRepository.stopArbiter(this.temporary.resolve("locks"));
	}

	@Test
	void leasesAreReportedLostAsSoonAsTheArbiterStops() {
		Path directory = this.temporary.resolve("locks");
		SocketLockRepository repository = new SocketLockRepository(directory);
		// A 30 s TTL renews every 10 s: only the connection's loss can explain a report within seconds.
		this.template = new LockTemplate(repository, LockSettings.defaults().withTtl(Duration.ofSeconds(30)),
				this.events::add);
		LockHandle handle = this.template.exclusive("report").acquire();
		assertThat(repository.isArbiter()).isTrue();
		long stopped = System.nanoTime();
		SocketLockRepository.stopArbiter(directory);
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !handle.lease().isValid());
		assertThat(Duration.ofNanos(System.nanoTime() - stopped)).isLessThan(Duration.ofSeconds(5));
		assertThat(this.events).filteredOn(LockLostEvent.class::isInstance)
			.singleElement()
			.satisfies((event) -> assertThat(((LockLostEvent) event).getReason()).isEqualTo(LossReason.NOT_OWNER));
		// The next request elects a new arbiter, and the key is free there.
		// The new arbiter takes over after a short grace period: wait for it.
		try (LockHandle again = this.template.exclusive("report").waitTime(Duration.ofSeconds(5)).acquire()) {
			assertThat(again.fencingToken()).isGreaterThan(handle.fencingToken());
		}
		handle.close();
	}

}
