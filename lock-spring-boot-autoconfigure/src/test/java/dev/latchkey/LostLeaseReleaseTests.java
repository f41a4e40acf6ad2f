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

package dev.latchkey;

import java.time.Duration;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.test.ForwardingLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of what giving back a lost lease may hold up: a lost lease is given back at the
 * backend (best effort) after the work has been told, and that release can take a whole
 * request timeout when the backend is down. It must delay neither the news of other
 * losses nor the renewal of the leases still held.
 */
@Timeout(30)
class LostLeaseReleaseTests {

	private final CountDownLatch unblock = new CountDownLatch(1);

	private final HangingRepository repository = new HangingRepository(this.unblock);

	private final LockSettings settings = LockSettings.defaults()
		.withOwner("lost-lease-release")
		.withTtl(Duration.ofSeconds(1))
		.withRenewInterval(Duration.ofMillis(100));

	private final LockTemplate template = new LockTemplate(this.repository, this.settings, null);

	@AfterEach
	void close() {
		this.unblock.countDown();
		this.template.close();
	}

	@Test
	void leasesLostWhileTheBackendHangsAreEachReportedAtTheirDeadlineNotAfterTheOthersReleases() throws Exception {
		// The backend stops answering (a paused server): renewals and releases hang.
		this.repository.hangRenewals = true;
		this.repository.hangReleases = (lease) -> true;
		LockHandle first = this.template.exclusive("paused:1").acquire();
		LockHandle second = this.template.exclusive("paused:2").acquire();
		LockHandle third = this.template.exclusive("paused:3").acquire();
		CompletableFuture<Long> firstLost = lostAt(first);
		CompletableFuture<Long> secondLost = lostAt(second);
		CompletableFuture<Long> thirdLost = lostAt(third);
		long deadline = System.nanoTime() + third.lease().remainingTtl().toNanos();
		long reported = Math.max(firstLost.get(5, TimeUnit.SECONDS),
				Math.max(secondLost.get(5, TimeUnit.SECONDS), thirdLost.get(5, TimeUnit.SECONDS)));
		assertThat(Duration.ofNanos(reported - deadline))
			.as("the last loss reported after the latest deadline, while the first lost lease's release hangs")
			.isLessThan(Duration.ofMillis(400));
		assertThat(this.unblock.getCount()).as("the backend still hangs").isOne();
	}

	@Test
	void aLostLeaseWhoseReleaseHangsDelaysNoRenewalOfTheLeasesStillHeld() throws Exception {
		// Only the key 'slow' hangs on release (its shard is down, say); the rest of the
		// backend answers.
		this.repository.hangReleases = (lease) -> lease.key().equals("slow");
		LockHandle limited = this.template.exclusive("slow").maxHold(Duration.ofMillis(200)).acquire();
		LockHandle held = this.template.exclusive("held").acquire();
		Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> this.repository.releasing.getCount() == 0);
		assertThat(limited.lease().isValid()).isFalse();
		// The release of the lost lease hangs; the other lease is renewed all along, for
		// twice its TTL.
		long renewalsThen = held.lease().renewals();
		Thread.sleep(2000);
		assertThat(held.lease().isValid()).as("the held lease, renewed meanwhile").isTrue();
		assertThat(held.lease().renewals()).isGreaterThan(renewalsThen + 10);
		assertThat(this.template.lostLeaseCount()).isOne();
		assertThat(this.unblock.getCount()).as("the lost lease's release still hangs").isOne();
		held.close();
	}

	private static CompletableFuture<Long> lostAt(LockHandle handle) {
		CompletableFuture<Long> lost = new CompletableFuture<>();
		handle.onLost((exception) -> lost.complete(System.nanoTime()));
		return lost;
	}

	/**
	 * A memory backend whose renewals, and the releases it is told to, hang until the
	 * test ends.
	 */
	static final class HangingRepository extends ForwardingLockRepository {

		final CountDownLatch releasing = new CountDownLatch(1);

		private final CountDownLatch unblock;

		volatile boolean hangRenewals;

		volatile Predicate<LeaseSpec> hangReleases = (lease) -> false;

		HangingRepository(CountDownLatch unblock) {
			super(new MemoryLockRepository());
			this.unblock = unblock;
		}

		@Override
		public Set<String> renew(Collection<LeaseSpec> leases) {
			if (this.hangRenewals) {
				await();
			}
			return super.renew(leases);
		}

		@Override
		public boolean release(LeaseSpec lease) {
			if (this.hangReleases.test(lease)) {
				this.releasing.countDown();
				await();
			}
			return super.release(lease);
		}

		private void await() {
			try {
				this.unblock.await(30, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}
