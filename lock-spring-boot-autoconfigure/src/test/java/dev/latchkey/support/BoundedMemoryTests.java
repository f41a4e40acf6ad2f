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

package dev.latchkey.support;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link BoundedMemory}.
 */
class BoundedMemoryTests {

	@Test
	void remembersUntilRemoved() {
		BoundedMemory<String, Integer> memory = new BoundedMemory<>(3);
		memory.put("a", 1);
		memory.put("a", 2);
		assertThat(memory.contains("a")).isTrue();
		assertThat(memory.get("a")).isEqualTo(2);
		assertThat(memory.remove("a")).isEqualTo(2);
		assertThat(memory.contains("a")).isFalse();
		assertThat(memory.get("a")).isNull();
		assertThat(memory.remove("a")).isNull();
	}

	@Test
	void forgetsEverythingWhenANewEntryWouldPassTheLimit() {
		BoundedMemory<String, Boolean> memory = new BoundedMemory<>(3);
		memory.put("a", true);
		memory.put("b", true);
		memory.put("c", true);
		// Full: a key it holds is only updated.
		memory.put("b", false);
		assertThat(memory.size()).isEqualTo(3);
		assertThat(memory.get("b")).isFalse();
		memory.put("d", true);
		assertThat(memory.size()).isEqualTo(1);
		assertThat(memory.contains("d")).isTrue();
		assertThat(memory.contains("a")).isFalse();
	}

	@Test
	void neverHoldsMoreThanItsLimit() {
		BoundedMemory<Integer, Boolean> memory = new BoundedMemory<>(100);
		for (int i = 0; i < 10_000; i++) {
			memory.put(i, true);
			assertThat(memory.size()).isBetween(1, 100);
		}
	}

	@Test
	void refusesALimitBelowOne() {
		assertThatIllegalArgumentException().isThrownBy(() -> new BoundedMemory<>(0))
			.withMessageContaining("limit of a BoundedMemory must be positive");
	}

}
