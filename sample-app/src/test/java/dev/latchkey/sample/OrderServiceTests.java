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

package dev.latchkey.sample;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.latchkey.LockLostException;
import dev.latchkey.sample.OrderService.Payment;
import dev.latchkey.test.util.TestLease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * A unit test of {@link OrderService}, with no application context and no backend: a
 * {@link TestLease} stands for the lock {@code @Exclusive} takes around
 * {@link OrderService#pay(long)}.
 */
class OrderServiceTests {

	private final OrderService orders = new OrderService(quickPayments());

	@Test
	void paymentCarriesTheFencingTokenOfTheLockItRunsUnder() {
		try (TestLease lease = TestLease.bind("order:1", 42)) {
			Payment payment = this.orders.pay(1);
			assertThat(payment.fencingToken()).isEqualTo(42);
			assertThat(payment.owner()).isEqualTo(lease.owner());
		}
	}

	@Test
	void paymentStopsWhenItsLeaseWasLost() {
		try (TestLease lease = TestLease.bind("order:2", 7)) {
			lease.lose();
			assertThatExceptionOfType(LockLostException.class).isThrownBy(() -> this.orders.pay(2));
		}
	}

	@Test
	void paymentCalledWithoutItsLockFails() {
		assertThatIllegalStateException().isThrownBy(() -> this.orders.pay(3)).withMessageContaining("No lock is held");
	}

	private static SampleProperties quickPayments() {
		SampleProperties properties = new SampleProperties();
		properties.setPaymentDuration(Duration.ZERO);
		return properties;
	}

}
