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

import java.time.Instant;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.stereotype.Service;

import dev.latchkey.Lease;
import dev.latchkey.LockContext;
import dev.latchkey.annotation.Exclusive;

/**
 * Pays orders, one payment per order at a time across every instance: the
 * {@code @Exclusive} key is evaluated from the method's argument, so two different orders
 * are paid in parallel.
 */
@Service
public class OrderService {

	private static final Log logger = LogFactory.getLog(OrderService.class);

	private final SampleProperties properties;

	public OrderService(SampleProperties properties) {
		this.properties = properties;
	}

	/**
	 * Pays an order. A call made while the same order is being paid fails at once with
	 * {@link dev.latchkey.LockNotAcquiredException} ({@code waitTime = 0}).
	 * @param id the order
	 * @return the payment, with the fencing token a payment store would check
	 */
	@Exclusive(value = "order:#id", waitTime = 0)
	public Payment pay(long id) {
		Lease lease = LockContext.lease();
		logger.info("Paying order " + id + " under lock '" + lease.key() + "' (fencing token " + lease.fencingToken()
				+ ")");
		SimulatedWork.take(this.properties.getPaymentDuration());
		// A store that remembers the highest token it has seen per order rejects a stale
		// holder's write.
		return new Payment(id, LockContext.fencingToken(), lease.owner(), Instant.now());
	}

	/**
	 * A completed payment.
	 *
	 * @param orderId the order
	 * @param fencingToken the fencing token of the lock the payment ran under
	 * @param owner the instance that held the lock
	 * @param paidAt when the payment completed
	 */
	public record Payment(long orderId, long fencingToken, String owner, Instant paidAt) {
	}

}
