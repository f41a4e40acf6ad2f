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

package dev.latchkey.test.context;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import dev.latchkey.LockHandle;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.context.LockRecorder.Entry;
import dev.latchkey.test.context.LockRecorder.Kind;
import dev.latchkey.test.context.TestApplication.Shelves;
import dev.latchkey.test.context.TestApplication.Warehouse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The {@link LockRecorder} every test context gets: grants, releases and losses in order,
 * with the method that took each lock, emptied before each test method.
 */
@SpringBootTest(classes = TestApplication.class, properties = "latchkey.renew-interval=100ms")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LockRecorderTests {

	@Autowired
	private LockRecorder recorder;

	@Autowired
	private Warehouse warehouse;

	@Autowired
	private Shelves shelves;

	@Autowired
	private LockTemplate locks;

	@Test
	@Order(1)
	void recordsGrantsAndReleasesInOrderWithTheirMethods() {
		this.shelves.restock("a");
		this.warehouse.move("a", "b");
		this.locks.exclusive("by-code").run(() -> {
		});
		assertThat(this.recorder.acquiredKeys()).containsExactly("shelf:a", "shelf:a", "shelf:b", "by-code");
		assertThat(this.recorder.entries()).extracting(Entry::kind, Entry::key, Entry::method)
			.containsExactly(tuple(Kind.ACQUIRED, "shelf:a", "TestApplication.Shelves.restock"),
					tuple(Kind.RELEASED, "shelf:a", "TestApplication.Shelves.restock"),
					tuple(Kind.ACQUIRED, "shelf:a", "TestApplication.Warehouse.move"),
					tuple(Kind.ACQUIRED, "shelf:b", "TestApplication.Shelves.restock"),
					tuple(Kind.RELEASED, "shelf:b", "TestApplication.Shelves.restock"),
					tuple(Kind.RELEASED, "shelf:a", "TestApplication.Warehouse.move"),
					tuple(Kind.ACQUIRED, "by-code", null), tuple(Kind.RELEASED, "by-code", null));
		assertThat(this.recorder.entries(Kind.ACQUIRED)).extracting(Entry::name)
			.containsExactly("shelf:#shelf", "shelf:#from", "shelf:#shelf", "by-code");
		assertThat(this.recorder.entries(Kind.ACQUIRED)).extracting(Entry::fencingToken)
			.allSatisfy((token) -> assertThat(token).isPositive());
	}

	@Test
	@Order(2)
	void startsEmptyInTheNextTest() {
		assertThat(this.recorder.entries()).isEmpty();
	}

	@Test
	@Order(3)
	void recordsALoss() {
		try (LockHandle handle = this.locks.exclusive("evicted").acquire()) {
			assertThat(this.locks.repository().forceRelease(handle.lease().key())).isTrue();
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !this.recorder.lostKeys().isEmpty());
		}
		catch (RuntimeException ex) {
			// Releasing a lost lease may report it; the recorder is what is asserted.
		}
		assertThat(this.recorder.lostKeys()).containsExactly("evicted");
		assertThat(this.recorder.entries()).extracting(Entry::kind).startsWith(Kind.ACQUIRED, Kind.LOST);
	}

}
