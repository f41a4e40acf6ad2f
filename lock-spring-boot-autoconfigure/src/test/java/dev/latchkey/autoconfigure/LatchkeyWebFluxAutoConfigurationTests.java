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
import org.springframework.boot.test.context.runner.AbstractApplicationContextRunner;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.reactive.DispatcherHandler;

import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.web.ReactiveLockProblemDetailsExceptionHandler;
import dev.latchkey.web.ShowKey;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LatchkeyWebFluxAutoConfiguration}: which applications get the reactive
 * problem details handler. What it answers over HTTP is tested in
 * {@code ReactiveLockProblemDetailsWebTests}.
 */
class LatchkeyWebFluxAutoConfigurationTests {

	private final ReactiveWebApplicationContextRunner contextRunner = new ReactiveWebApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyWebFluxAutoConfiguration.class))
		.withPropertyValues("latchkey.backend=memory");

	@Test
	void reactiveWebApplicationGetsTheHandlerConfiguredByTheProperties() {
		this.contextRunner
			.withPropertyValues("latchkey.web.problem-details.show-key=always",
					"latchkey.web.problem-details.retry-after=1500ms")
			.run((context) -> {
				assertThat(context).hasSingleBean(ReactiveLockProblemDetailsExceptionHandler.class);
				ResponseEntity<ProblemDetail> response = context
					.getBean(ReactiveLockProblemDetailsExceptionHandler.class)
					.handleLockNotAcquired(new LockNotAcquiredException("order:42", "order:#id", Duration.ZERO, null),
							MockServerWebExchange.from(MockServerHttpRequest.post("/orders/42/pay")))
					.block();
				assertThat(response.getStatusCode().value()).isEqualTo(409);
				assertThat(response.getHeaders().getFirst("Retry-After")).isEqualTo("2");
				assertThat(response.getBody().getProperties()).containsEntry("key", "order:42")
					.containsEntry("lock", "order:#id");
			});
	}

	@Test
	void switchedOffByProperty() {
		this.contextRunner.withPropertyValues("latchkey.web.problem-details.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(ReactiveLockProblemDetailsExceptionHandler.class));
	}

	@Test
	void backsOffWithoutSpringWebFlux() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(DispatcherHandler.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(ReactiveLockProblemDetailsExceptionHandler.class));
	}

	@Test
	void backsOffInANonWebApplication() {
		assertBacksOff(new ApplicationContextRunner());
	}

	@Test
	void backsOffInAServletWebApplication() {
		assertBacksOff(new WebApplicationContextRunner());
	}

	private static void assertBacksOff(AbstractApplicationContextRunner<?, ?, ?> runner) {
		runner
			.withConfiguration(
					AutoConfigurations.of(LatchkeyAutoConfiguration.class, LatchkeyWebFluxAutoConfiguration.class))
			.withPropertyValues("latchkey.backend=memory")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(ReactiveLockProblemDetailsExceptionHandler.class));
	}

	@Test
	void usersHandlerBeanWins() {
		ReactiveLockProblemDetailsExceptionHandler own = new ReactiveLockProblemDetailsExceptionHandler(ShowKey.ALWAYS,
				List.of(), null);
		this.contextRunner.withBean("myHandler", ReactiveLockProblemDetailsExceptionHandler.class, () -> own)
			.run((context) -> assertThat(context).hasSingleBean(ReactiveLockProblemDetailsExceptionHandler.class)
				.hasBean("myHandler"));
	}

}
