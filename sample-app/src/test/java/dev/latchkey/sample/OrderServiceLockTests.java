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

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import dev.latchkey.test.context.LockRecorder;
import dev.latchkey.test.context.LockRecorder.Entry;
import dev.latchkey.test.context.LockRecorder.Kind;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The README's application test: {@link OrderService} in the application, on the isolated
 * in-memory backend of {@code lock-spring-boot-test}, and the {@link LockRecorder}
 * telling which key {@code pay} locked.
 */
@SpringBootTest(properties = "sample.payment-duration=10ms")
class OrderServiceLockTests {

	@Autowired
	OrderService orders;

	@Autowired
	LockRecorder locks;

	@Test
	void payingLocksTheOrder() {
		this.orders.pay(5);
		// The scheduled cleanup job may lock meanwhile: assert on this order's key.
		assertThat(this.locks.acquiredKeys()).containsOnlyOnce("order:5");
		assertThat(this.locks.entries("order:5")).extracting(Entry::kind, Entry::method)
			.containsExactly(tuple(Kind.ACQUIRED, "OrderService.pay"), tuple(Kind.RELEASED, "OrderService.pay"));
	}

}
