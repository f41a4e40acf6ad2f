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

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.servlet.DispatcherServlet;

import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.web.LockProblemDetailsExceptionHandler;
import dev.latchkey.web.ShowKey;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LatchkeyWebMvcAutoConfiguration}: which applications get the problem
 * details handler. What it answers over HTTP is tested in
 * {@code LockProblemDetailsWebTests}.
 */
class LatchkeyWebMvcAutoConfigurationTests {

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyWebMvcAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory");

	@Test
	void servletWebApplicationGetsTheHandlerWithDefaultsThatHideTheKey() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(LockProblemDetailsExceptionHandler.class);
			LockProblemDetailsExceptionHandler handler = context.getBean(LockProblemDetailsExceptionHandler.class);
			var response = handler.handleLockNotAcquired(
					new LockNotAcquiredException("order:42", "order:#id", Duration.ZERO, null),
					new MockHttpServletRequest());
			assertThat(response.getStatusCode().value()).isEqualTo(409);
			assertThat(response.getHeaders().containsHeader("Retry-After")).isFalse();
			assertThat(response.getBody().getProperties()).containsEntry("lock", "order:#id").doesNotContainKey("key");
		});
	}

	@Test
	void propertiesConfigureTheHandler() {
		this.contextRunner
			.withPropertyValues("latchkey.web.problem-details.show-key=always",
					"latchkey.web.problem-details.retry-after=1500ms")
			.run((context) -> {
				var response = context.getBean(LockProblemDetailsExceptionHandler.class)
					.handleLockNotAcquired(new LockNotAcquiredException("order:42", "order:#id", Duration.ZERO, null),
							new MockHttpServletRequest());
				assertThat(response.getHeaders().getFirst("Retry-After")).isEqualTo("2");
				assertThat(response.getBody().getProperties()).containsEntry("key", "order:42");
			});
	}

	@Test
	void switchedOffByProperty() {
		this.contextRunner.withPropertyValues("latchkey.web.problem-details.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(LockProblemDetailsExceptionHandler.class));
	}

	@Test
	void backsOffWithoutSpringMvc() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(DispatcherServlet.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(LockProblemDetailsExceptionHandler.class));
	}

	@Test
	void backsOffInANonWebApplication() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyWebMvcAutoConfiguration.class))
			.withPropertyValues("latchkey.backend=memory")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(LockProblemDetailsExceptionHandler.class));
	}

	@Test
	void backsOffInAReactiveWebApplication() {
		new ReactiveWebApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyWebMvcAutoConfiguration.class))
			.withPropertyValues("latchkey.backend=memory")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(LockProblemDetailsExceptionHandler.class));
	}

	@Test
	void usersHandlerBeanWins() {
		LockProblemDetailsExceptionHandler own = new LockProblemDetailsExceptionHandler(ShowKey.ALWAYS, List.of(),
				null);
		this.contextRunner.withBean("myHandler", LockProblemDetailsExceptionHandler.class, () -> own)
			.run((context) -> assertThat(context).hasSingleBean(LockProblemDetailsExceptionHandler.class)
				.hasBean("myHandler"));
	}

}
