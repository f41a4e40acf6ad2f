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

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;

import dev.latchkey.annotation.Exclusive;

/**
 * An application with two locking beans, one calling the other under its lock, as the
 * tests of this package's test support see it.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class TestApplication {

	@Bean
	Shelves shelves() {
		return new Shelves();
	}

	@Bean
	Warehouse warehouse(Shelves shelves) {
		return new Warehouse(shelves);
	}

	static class Shelves {

		@Exclusive("shelf:#shelf")
		public void restock(String shelf) {
		}

	}

	static class Warehouse {

		private final Shelves shelves;

		Warehouse(Shelves shelves) {
			this.shelves = shelves;
		}

		@Exclusive("shelf:#from")
		public void move(String from, String to) {
			this.shelves.restock(to);
		}

	}

}
