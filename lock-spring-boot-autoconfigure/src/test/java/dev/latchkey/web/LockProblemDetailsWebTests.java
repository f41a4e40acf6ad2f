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

package dev.latchkey.web;

import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.tomcat.autoconfigure.servlet.TomcatServletWebServerAutoConfiguration;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.boot.webmvc.autoconfigure.DispatcherServletAutoConfiguration;
import org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration;
import org.springframework.boot.webmvc.autoconfigure.error.ErrorMvcAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.client.RestClient;

import dev.latchkey.LockHandle;
import dev.latchkey.LockLostException;
import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;
import dev.latchkey.autoconfigure.LatchkeyWebMvcAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lock exceptions answered over HTTP by a real Spring MVC application on Tomcat: given an
 * order being paid, when it is paid again, then {@code 409 Conflict} as a problem detail;
 * the application's own handler wins; and with
 * {@code latchkey.web.problem-details.enabled=false} Spring MVC handles the exception as
 * before.
 */
@ExtendWith(OutputCaptureExtension.class)
class LockProblemDetailsWebTests {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	private @Nullable ConfigurableApplicationContext context;

	@AfterEach
	void stop() {
		if (this.context != null) {
			this.context.close();
		}
	}

	@Test
	void givenAnOrderBeingPaidWhenItIsPaidAgainThenConflictNamingTheLockNotTheKeyAndNoErrorLogged(
			CapturedOutput output) {
		RestClient http = start(OrderApplication.class);
		ResponseEntity<Map<String, Object>> response;
		try (LockHandle held = lockOrder(42)) {
			response = http.post().uri("/orders/42/pay").retrieve().toEntity(JSON);
		}
		assertThat(response.getStatusCode().value()).isEqualTo(409);
		assertThat(response.getHeaders().getContentType()).hasToString("application/problem+json");
		assertThat(response.getHeaders().containsHeader("Retry-After")).isFalse();
		assertThat(response.getBody()).containsEntry("type", "urn:latchkey:problem:lock-not-acquired")
			.containsEntry("title", "Lock held elsewhere")
			.containsEntry("status", 409)
			.containsEntry("detail", "Lock 'order:#id' is held elsewhere; try again later")
			.containsEntry("instance", "/orders/42/pay")
			.containsEntry("lock", "order:#id")
			.containsEntry("waitTime", "PT0S")
			.doesNotContainKey("key");
		assertThat(response.getBody().toString()).doesNotContain("order:42");
		assertThat(http.post().uri("/orders/42/pay").retrieve().toEntity(String.class).getBody()).isEqualTo("paid 42");
		assertThat(output.getAll()).doesNotContain("ERROR").doesNotContain("LockNotAcquiredException");
	}

	@Test
	void givenShowKeyAndRetryAfterThenTheConflictHasTheKeyAndTheHeader() {
		RestClient http = start(OrderApplication.class, "latchkey.web.problem-details.show-key=always",
				"latchkey.web.problem-details.retry-after=2s");
		ResponseEntity<Map<String, Object>> response;
		try (LockHandle held = lockOrder(7)) {
			response = http.post().uri("/orders/7/pay").retrieve().toEntity(JSON);
		}
		assertThat(response.getStatusCode().value()).isEqualTo(409);
		assertThat(response.getHeaders().getFirst("Retry-After")).isEqualTo("2");
		assertThat(response.getBody()).containsEntry("key", "order:7").containsEntry("lock", "order:#id");
	}

	@Test
	void whenTheLockIsLostWhileTheRequestRunsThenServiceUnavailable() {
		RestClient http = start(OrderApplication.class);
		ResponseEntity<Map<String, Object>> response = http.post().uri("/orders/5/ship").retrieve().toEntity(JSON);
		assertThat(response.getStatusCode().value()).isEqualTo(503);
		assertThat(response.getHeaders().getContentType()).hasToString("application/problem+json");
		assertThat(response.getBody()).containsEntry("type", "urn:latchkey:problem:lock-lost")
			.containsEntry("title", "Lock lost")
			.containsEntry("lock", "order:#id")
			.containsEntry("reason", "renewal_failed")
			.doesNotContainKey("key");
	}

	@Test
	void givenTheApplicationsOwnAdviceForTheExceptionThenItWins() {
		RestClient http = start(OrderApplicationWithItsOwnHandler.class);
		assertThat(this.context.getBeansOfType(LockProblemDetailsExceptionHandler.class)).hasSize(1);
		ResponseEntity<String> response;
		try (LockHandle held = lockOrder(42)) {
			response = http.post().uri("/orders/42/pay").retrieve().toEntity(String.class);
		}
		assertThat(response.getStatusCode().value()).isEqualTo(429);
		assertThat(response.getBody()).isEqualTo("busy: order:42");
		// Its other exception is still answered by Latchkey.
		assertThat(http.post().uri("/orders/5/ship").retrieve().toBodilessEntity().getStatusCode().value())
			.isEqualTo(503);
	}

	@Test
	void givenTheHandlerSwitchedOffThenTheExceptionIsLeftToSpringMvc(CapturedOutput output) {
		RestClient http = start(OrderApplication.class, "latchkey.web.problem-details.enabled=false");
		assertThat(this.context.getBeansOfType(LockProblemDetailsExceptionHandler.class)).isEmpty();
		ResponseEntity<Map<String, Object>> response;
		try (LockHandle held = lockOrder(42)) {
			response = http.post().uri("/orders/42/pay").retrieve().toEntity(JSON);
		}
		assertThat(response.getStatusCode().value()).isEqualTo(500);
		// What the handler spares an application: an ERROR with a stack trace for every
		// contended request.
		assertThat(output.getAll()).contains("ERROR").contains("LockNotAcquiredException");
	}

	private RestClient start(Class<?> application, String... properties) {
		this.context = new SpringApplicationBuilder(application)
			.properties("server.port=0", "latchkey.backend=memory", "spring.main.banner-mode=off")
			.properties(properties)
			.run();
		int port = ((WebServerApplicationContext) this.context).getWebServer().getPort();
		return RestClient.builder()
			.baseUrl("http://localhost:" + port)
			// Answer 4xx and 5xx as a response to assert on, not as an exception.
			.defaultStatusHandler((status) -> true, (request, response) -> {
			})
			.build();
	}

	private LockHandle lockOrder(long id) {
		return this.context.getBean(LockTemplate.class).exclusive("order:" + id).acquire();
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ LatchkeyAutoConfiguration.class, LatchkeyWebMvcAutoConfiguration.class,
			TomcatServletWebServerAutoConfiguration.class, DispatcherServletAutoConfiguration.class,
			WebMvcAutoConfiguration.class, ErrorMvcAutoConfiguration.class,
			HttpMessageConvertersAutoConfiguration.class, JacksonAutoConfiguration.class })
	@Import({ Orders.class, OrderController.class })
	static class OrderApplication {

	}

	@Configuration(proxyBeanMethods = false)
	@Import({ OrderApplication.class, BusyHandler.class })
	static class OrderApplicationWithItsOwnHandler {

	}

	public static class Orders {

		@Exclusive("order:#id")
		public String pay(long id) {
			return "paid " + id;
		}

		@Exclusive("order:#id")
		public String ship(long id) {
			// Stands for a lease lost while the work ran (the lost-lock contract has
			// tests of its own).
			throw new LockLostException("order:" + id, "order:#id", LossReason.RENEWAL_FAILED, null);
		}

	}

	@RestController
	public static class OrderController {

		private final Orders orders;

		OrderController(Orders orders) {
			this.orders = orders;
		}

		@PostMapping("/orders/{id}/pay")
		public String pay(@PathVariable long id) {
			return this.orders.pay(id);
		}

		@PostMapping("/orders/{id}/ship")
		public String ship(@PathVariable long id) {
			return this.orders.ship(id);
		}

	}

	/**
	 * An application's own handler, with no order of its own, as most are written.
	 */
	@RestControllerAdvice
	public static class BusyHandler {

		@ExceptionHandler
		public ResponseEntity<String> busy(LockNotAcquiredException ex) {
			return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS).body("busy: " + ex.getKey());
		}

	}

}
