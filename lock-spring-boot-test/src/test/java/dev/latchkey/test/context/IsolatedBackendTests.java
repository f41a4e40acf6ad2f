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

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import dev.latchkey.LockTemplate;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With this module on the class path and no configuration, a test context locks in an
 * in-memory backend of its own, even when the application's configuration names another
 * backend (here, a file imported as an application's {@code application.properties} would
 * be, naming the host's socket backend).
 */
@SpringBootTest(classes = TestApplication.class,
		properties = "spring.config.import=classpath:dev/latchkey/test/context/socket-backend.properties")
class IsolatedBackendTests {

	@Autowired
	private LockTemplate locks;

	@Test
	void backendIsTheInMemoryOne() {
		assertThat(this.locks.repository()).isInstanceOf(MemoryLockRepository.class);
		assertThat(this.locks.repository().backend()).isEqualTo("memory");
	}

}
