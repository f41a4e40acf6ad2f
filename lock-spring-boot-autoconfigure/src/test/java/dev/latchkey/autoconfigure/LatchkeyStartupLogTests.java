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

package dev.latchkey.autoconfigure;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.latchkey.LockRepository;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one INFO line at startup that names the backend and why it was chosen.
 */
@ExtendWith(OutputCaptureExtension.class)
class LatchkeyStartupLogTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class));

	@TempDir
	Path temporary;

	@Test
	void givenNothingConfiguredThenTheSocketBackendIsNamedWithWhyAndItsDirectory(CapturedOutput output) {
		Path directory = this.temporary.resolve("locks");
		this.contextRunner.withPropertyValues("latchkey.socket.directory=" + directory).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(output).contains("INFO")
				.containsOnlyOnce("Latchkey: using the socket backend (latchkey.backend=auto, no"
						+ " RedisConnectionFactory bean, DataSource bean or latchkey.etcd.endpoints configured); lock directory "
						+ directory.toAbsolutePath());
		});
	}

	@Test
	void givenABackendAskedForByNameThenThePropertyIsTheReason(CapturedOutput output) {
		this.contextRunner.withPropertyValues("latchkey.backend=memory")
			.run((context) -> assertThat(output)
				.contains("Latchkey: using the memory backend (latchkey.backend=memory)"));
	}

	@Test
	void givenAConnectionFactoryThenAutoNamesRedisAndItsNamespace(CapturedOutput output) {
		this.contextRunner.withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.run((context) -> assertThat(output).contains("Latchkey: using the redis backend (latchkey.backend=auto,"
					+ " a RedisConnectionFactory bean is configured); namespace latchkey"));
	}

	@Test
	void givenTheApplicationsOwnRepositoryThenItIsNamed(CapturedOutput output) {
		this.contextRunner.withBean("myRepository", LockRepository.class, MemoryLockRepository::new)
			.run((context) -> assertThat(output).contains("Latchkey: using the memory backend (the application's own"
					+ " LockRepository bean, dev.latchkey.memory.MemoryLockRepository)"));
	}

}
