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

package dev.latchkey.test.util;

import org.junit.jupiter.api.Test;

import dev.latchkey.LockContext;
import dev.latchkey.LockLostException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Tests for {@link TestLease}: {@link LockContext} as guarded code sees it under a test
 * lease.
 */
class TestLeaseTests {

	@Test
	void boundLeaseIsHeldWithItsFencingToken() {
		try (TestLease lease = TestLease.bind("inventory:sku-1", 42)) {
			LockContext.assertHeld();
			assertThat(LockContext.fencingToken()).isEqualTo(42);
			assertThat(LockContext.lease()).isSameAs(lease);
			assertThat(lease.key()).isEqualTo("inventory:sku-1");
		}
		assertThat(LockContext.current()).isEmpty();
		assertThatIllegalStateException().isThrownBy(LockContext::assertHeld);
	}

	@Test
	void lostLeaseFailsTheAssertion() {
		try (TestLease lease = TestLease.bind("inventory:sku-1")) {
			lease.lose();
			assertThat(lease.isValid()).isFalse();
			assertThatExceptionOfType(LockLostException.class).isThrownBy(LockContext::assertHeld)
				.satisfies((ex) -> assertThat(ex.getMessage()).contains("inventory:sku-1"));
			assertThatExceptionOfType(LockLostException.class).isThrownBy(LockContext::fencingToken);
		}
	}

	@Test
	void leasesNestAsLocksDo() {
		try (TestLease outer = TestLease.bind("outer", 1)) {
			try (TestLease inner = TestLease.bind("inner", 2)) {
				assertThat(LockContext.fencingToken()).isEqualTo(2);
			}
			assertThat(LockContext.fencingToken()).isEqualTo(1);
			assertThat(LockContext.lease()).isSameAs(outer);
		}
	}

	@Test
	void leaseIsBoundToTheThreadThatBoundIt() throws InterruptedException {
		try (TestLease lease = TestLease.bind("k")) {
			boolean[] seenElsewhere = { true };
			Thread other = new Thread(() -> seenElsewhere[0] = LockContext.current().isPresent());
			other.start();
			other.join();
			assertThat(seenElsewhere[0]).isFalse();
		}
	}

}
