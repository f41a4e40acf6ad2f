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
import org.springframework.test.context.ActiveProfiles;

import dev.latchkey.LockTemplate;
import dev.latchkey.jdbc.JdbcLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample's 'jdbc' profile runs on the JDBC backend, with the table created by the
 * schema initialization.
 */
// The backend is named here too: only a test's own properties replace the in-memory
// backend of lock-spring-boot-test, not a profile's configuration.
@SpringBootTest(properties = { "latchkey.backend=jdbc",
		"spring.datasource.url=jdbc:h2:mem:latchkey-sample-jdbc-test;DB_CLOSE_DELAY=-1" })
@ActiveProfiles("jdbc")
class SampleApplicationJdbcProfileTests {

	@Autowired
	private LockTemplate locks;

	@Test
	void jdbcProfileLocksInTheDatabase() {
		assertThat(this.locks.repository()).isInstanceOf(JdbcLockRepository.class);
		String holder = this.locks.exclusive("order:7")
			.call(() -> this.locks.repository()
				.inspect("latchkey-sample:order:7")
				.orElseThrow()
				.holders()
				.get(0)
				.owner());
		assertThat(holder).startsWith("latchkey-sample@");
		assertThat(this.locks.repository().inspect("latchkey-sample:order:7")).isEmpty();
	}

}
