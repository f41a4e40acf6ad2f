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

package dev.latchkey;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.annotation.Exclusive;
import dev.latchkey.interceptor.LockAnnotationBeanPostProcessor;
import dev.latchkey.memory.MemoryLockRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests that the messages of the exceptions a caller meets name the lock, not its key: an
 * annotation's key is made of method arguments and may be personal data, and messages end
 * up in logs. The key stays available through {@code getKey()}.
 */
class LockExceptionMessageTests {

	@Test
	void notAcquiredAndLostNameTheLock() {
		LockNotAcquiredException notAcquired = new LockNotAcquiredException("customer:alice@example.com",
				"customer:#email", Duration.ZERO, null);
		assertThat(notAcquired).hasMessage("Lock 'customer:#email' is held elsewhere");
		assertThat(notAcquired.getKey()).isEqualTo("customer:alice@example.com");
		assertThat(new LockNotAcquiredException("customer:alice@example.com", "customer:#email", Duration.ofSeconds(2),
				null))
			.hasMessage("Lock 'customer:#email' stayed held elsewhere for the whole wait time of PT2S");
		assertThat(new LockNotAcquiredException("customer:alice@example.com", "customer:#email", Duration.ZERO,
				new InterruptedException()))
			.hasMessage("Interrupted while waiting for lock 'customer:#email'");
		LockLostException lost = new LockLostException("customer:alice@example.com", "customer:#email",
				LossReason.NOT_OWNER, null);
		assertThat(lost).hasMessage("Lock 'customer:#email' was lost: the backend no longer holds this lease");
		assertThat(lost.getKey()).isEqualTo("customer:alice@example.com");
	}

	@Test
	void anAnnotatedMethodHeldElsewhereFailsWithoutItsArgumentsInTheMessage() {
		try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext(
				AnnotatedConfiguration.class)) {
			LockTemplate locks = context.getBean(LockTemplate.class);
			Customers customers = context.getBean(Customers.class);
			// Held by another thread: the same thread would re-enter it.
			locks.exclusive("customer:alice@example.com").run(() -> {
				CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
					try {
						customers.update("alice@example.com");
						return null;
					}
					catch (LockNotAcquiredException ex) {
						return ex;
					}
				});
				assertThat(other.join()).isInstanceOfSatisfying(LockNotAcquiredException.class, (ex) -> {
					assertThat(ex).hasMessage("Lock 'customer:#email' is held elsewhere");
					assertThat(ex.getKey()).isEqualTo("customer:alice@example.com");
				});
			});
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class AnnotatedConfiguration {

		@Bean(destroyMethod = "close")
		LockTemplate lockTemplate() {
			return new LockTemplate(new MemoryLockRepository(), LockSettings.defaults());
		}

		@Bean
		static LockAnnotationBeanPostProcessor lockAnnotationBeanPostProcessor(
				ObjectProvider<LockTemplate> lockTemplate) {
			return new LockAnnotationBeanPostProcessor(lockTemplate::getObject);
		}

		@Bean
		Customers customers() {
			return new Customers();
		}

	}

	static class Customers {

		@Exclusive(key = "customer:#email")
		public void update(String email) {
		}

	}

}
