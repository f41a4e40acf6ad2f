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

import java.util.concurrent.ThreadFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link BackendThreads}: the backends' threads follow Spring Boot's
 * {@code spring.threads.virtual.enabled}.
 */
class BackendThreadsTests {

	@Test
	void daemonPlatformThreadsByDefault() throws Exception {
		Thread thread = newThread(new MockEnvironment());
		assertThat(thread.getName()).startsWith("latchkey-test-");
		assertThat(thread.isDaemon()).isTrue();
		assertThat(isVirtual(thread)).isFalse();
	}

	@Test
	@EnabledForJreRange(min = JRE.JAVA_21)
	void virtualThreadsWhenTheApplicationEnablesThem() throws Exception {
		Thread thread = newThread(new MockEnvironment().withProperty("spring.threads.virtual.enabled", "true"));
		assertThat(thread.getName()).startsWith("latchkey-test-");
		assertThat(isVirtual(thread)).isTrue();
	}

	@Test
	@EnabledForJreRange(max = JRE.JAVA_20)
	void platformThreadsBeforeJava21EvenWhenEnabled() throws Exception {
		Thread thread = newThread(new MockEnvironment().withProperty("spring.threads.virtual.enabled", "true"));
		assertThat(thread.getName()).startsWith("latchkey-test-");
		assertThat(thread.isDaemon()).isTrue();
		assertThat(isVirtual(thread)).isFalse();
	}

	private static Thread newThread(MockEnvironment environment) {
		ThreadFactory threads = BackendThreads.threadFactory(environment, "latchkey-test-");
		return threads.newThread(() -> {
		});
	}

	// Thread.isVirtual() is Java 21 API; the library compiles for Java 17.
	private static boolean isVirtual(Thread thread) throws Exception {
		try {
			return (boolean) Thread.class.getMethod("isVirtual").invoke(thread);
		}
		catch (NoSuchMethodException ex) {
			return false;
		}
	}

}
