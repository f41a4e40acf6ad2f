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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchkey.LostLeaseReleaseTests.HangingRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of what the release at the end of a minimum hold time may hold up: that release
 * can take a whole request timeout when the backend does not answer for its key, and it
 * must not delay the renewal of the leases still held. What the user sees of the hold's
 * end is unchanged: the lease is no longer valid once its work is done, and the release
 * is observed once the backend answered.
 */
@Timeout(30)
class MinimumHoldReleaseTests {

	private final CountDownLatch unblock = new CountDownLatch(1);

	private final HangingRepository repository = new HangingRepository(this.unblock);

	private final LockSettings settings = LockSettings.defaults()
		.withOwner("minimum-hold-release")
		.withTtl(Duration.ofSeconds(1))
		.withRenewInterval(Duration.ofMillis(100));

	private final List<String> released = new CopyOnWriteArrayList<>();

	private final LockTemplate template = new LockTemplate(this.repository, this.settings, this::observe);

	@AfterEach
	void close() {
		this.unblock.countDown();
		this.template.close();
	}

	@Test
	void minimumHoldsWhoseReleasesHangDelayNoRenewalOfTheLeasesStillHeld() throws Exception {
		// Only the keys 'slow:*' hang on release (their shard is down, say); the rest of
		// the backend answers.
		this.repository.hangReleases = (lease) -> lease.key().startsWith("slow:");
		LockHandle held = this.template.exclusive("held").acquire();
		// As many holds ending at once as the lease keeper has threads.
		LockHandle first = this.template.exclusive("slow:1").minHold(Duration.ofMillis(200)).acquire();
		LockHandle second = this.template.exclusive("slow:2").minHold(Duration.ofMillis(200)).acquire();
		first.close();
		second.close();
		assertThat(first.lease().isValid()).as("a lease whose work is done, in its minimum hold").isFalse();
		assertThat(second.lease().isValid()).as("a lease whose work is done, in its minimum hold").isFalse();
		Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> this.repository.releasing.getCount() == 0);
		// The release at the end of a hold hangs; the other lease is renewed all along,
		// for twice its TTL.
		long renewalsThen = held.lease().renewals();
		Thread.sleep(2000);
		assertThat(held.lease().isValid()).as("the held lease, renewed meanwhile").isTrue();
		assertThat(held.lease().renewals()).isGreaterThan(renewalsThen + 10);
		assertThat(this.released).as("released while the backend has not answered").isEmpty();
		assertThat(this.template.lostLeaseCount()).isZero();
		// Once the backend answers, each hold's end is observed as a release.
		this.unblock.countDown();
		Awaitility.await()
			.atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(this.released).containsExactlyInAnyOrder("slow:1", "slow:2"));
		held.close();
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> this.released.contains("held"));
	}

	private LockObserver.Acquisition observe(String name, LeaseSpec spec, String backend) {
		return new LockObserver.Acquisition() {

			@Override
			public LockObserver.Hold acquired(Lease lease) {
				return new LockObserver.Hold() {

					@Override
					public void released(@Nullable Throwable failure) {
						MinimumHoldReleaseTests.this.released.add(spec.key());
					}

					@Override
					public void lost(LockLostException exception) {
						// The test fails on the lost lease count.
					}

				};
			}

			@Override
			public void notAcquired() {
				// Every key is free.
			}

			@Override
			public void failed(Throwable failure) {
				// The acquisition then throws.
			}

		};
	}

}
