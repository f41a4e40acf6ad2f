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

package dev.latchkey.redis;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.latchkey.LockHandle;
import dev.latchkey.LockTemplate;
import dev.latchkey.actuate.LatchkeyHealthIndicator;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;
import dev.latchkey.autoconfigure.LatchkeyHealthContributorAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code latchkey} health indicator against a real Redis server of the test's own:
 * given the application's Redis connection factory, then {@code latchkey} is UP while the
 * server runs, and DOWN with the failure once it is stopped.
 */
@Timeout(60)
class RedisHealthTests {

	@TempDir
	Path temporary;

	@Test
	void upWhileRedisRunsAndDownWithTheFailureOnceItIsStopped() {
		RedisServerProcess server = RedisServerProcess.start(this.temporary);
		try {
			new ApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class,
						LatchkeyAutoConfiguration.class, LatchkeyHealthContributorAutoConfiguration.class))
				.withPropertyValues("spring.data.redis.url=" + server.url(), "spring.data.redis.timeout=500ms",
						"latchkey.health.timeout=3s")
				.run((context) -> {
					LatchkeyHealthIndicator indicator = context.getBean(LatchkeyHealthIndicator.class);
					LockTemplate locks = context.getBean(LockTemplate.class);
					try (LockHandle handle = locks.exclusive("order:42").acquire()) {
						Health up = indicator.health(true);
						assertThat(up.getStatus()).isEqualTo(Status.UP);
						assertThat(up.getDetails()).containsEntry("backend", "redis")
							.containsEntry("heldLeases", 1)
							.containsEntry("lostLeases", 0L);
						server.close();
						Health down = indicator.health(true);
						assertThat(down.getStatus()).isEqualTo(Status.DOWN);
						assertThat(down.getDetails()).containsEntry("backend", "redis").containsKey("error");
						assertThat((String) down.getDetails().get("error")).contains("LockBackendException",
								"at the Redis backend failed");
					}
				});
		}
		finally {
			server.close();
		}
	}

}
