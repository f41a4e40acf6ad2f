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
import org.springframework.test.context.TestPropertySource;

import dev.latchkey.LockTemplate;
import dev.latchkey.socket.SocketLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend named in a properties file of the test's own ({@code @TestPropertySource}
 * locations) is the test's choice too, unlike the same file imported by the application's
 * configuration ({@link IsolatedBackendTests}).
 */
@SpringBootTest(classes = TestApplication.class,
		properties = "latchkey.socket.directory=${java.io.tmpdir}/latchkey-test-support-${random.uuid}")
@TestPropertySource(locations = "classpath:dev/latchkey/test/context/socket-backend.properties")
class NamedBackendInAPropertiesFileTests {

	@Autowired
	private LockTemplate locks;

	@Test
	void backendIsTheNamedOne() {
		assertThat(this.locks.repository()).isInstanceOf(SocketLockRepository.class);
	}

}
