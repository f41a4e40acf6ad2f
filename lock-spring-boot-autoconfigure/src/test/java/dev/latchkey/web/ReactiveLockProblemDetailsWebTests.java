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

import java.time.Duration;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.http.codec.autoconfigure.CodecsAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.reactor.netty.autoconfigure.NettyReactiveWebServerAutoConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.boot.webflux.autoconfigure.HttpHandlerAutoConfiguration;
import org.springframework.boot.webflux.autoconfigure.WebFluxAutoConfiguration;
import org.springframework.boot.webflux.autoconfigure.error.ErrorWebFluxAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.latchkey.LockHandle;
import dev.latchkey.LockLostException;
import dev.latchkey.LockTemplate;
import dev.latchkey.LossReason;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;
import dev.latchkey.autoconfigure.LatchkeyWebFluxAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lock exceptions answered over HTTP by a real Spring WebFlux application on Reactor
 * Netty, whose controller returns the {@code Mono} of an {@code @Exclusive} method: given
 * an order being paid, when it is paid again, then {@code 409 Conflict} as the same
 * problem detail Spring MVC applications get; a lost lock is {@code 503}; the key is
 * shown only as configured; and with {@code latchkey.web.problem-details.enabled=false}
 * WebFlux handles the exception as before.
 */
@ExtendWith(OutputCaptureExtension.class)
class ReactiveLockProblemDetailsWebTests {

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
		WebTestClient http = start();
		try (LockHandle held = lockOrder(42)) {
			http.post()
				.uri("/orders/42/pay")
				.exchange()
				.expectStatus()
				.isEqualTo(409)
				.expectHeader()
				.contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectHeader()
				.doesNotExist("Retry-After")
				.expectBody()
				.jsonPath("$.type")
				.isEqualTo("urn:latchkey:problem:lock-not-acquired")
				.jsonPath("$.title")
				.isEqualTo("Lock held elsewhere")
				.jsonPath("$.status")
				.isEqualTo(409)
				.jsonPath("$.detail")
				.isEqualTo("Lock 'order:#id' is held elsewhere; try again later")
				.jsonPath("$.instance")
				.isEqualTo("/orders/42/pay")
				.jsonPath("$.lock")
				.isEqualTo("order:#id")
				.jsonPath("$.waitTime")
				.isEqualTo("PT0S")
				.jsonPath("$.key")
				.doesNotExist();
		}
		http.post()
			.uri("/orders/42/pay")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.isEqualTo("paid 42");
		assertThat(output.getAll()).doesNotContain("ERROR").doesNotContain("LockNotAcquiredException");
	}

	@Test
	void givenShowKeyAndRetryAfterThenTheConflictHasTheKeyAndTheHeader() {
		WebTestClient http = start("latchkey.web.problem-details.show-key=always",
				"latchkey.web.problem-details.retry-after=2s");
		try (LockHandle held = lockOrder(7)) {
			http.post()
				.uri("/orders/7/pay")
				.exchange()
				.expectStatus()
				.isEqualTo(409)
				.expectHeader()
				.valueEquals("Retry-After", "2")
				.expectBody()
				.jsonPath("$.key")
				.isEqualTo("order:7")
				.jsonPath("$.lock")
				.isEqualTo("order:#id");
		}
	}

	@Test
	void givenShowKeyWhenAuthorizedThenOnlyACallerInTheRoleSeesTheKey() {
		WebTestClient http = start("latchkey.web.problem-details.show-key=when-authorized",
				"latchkey.web.problem-details.roles=ops");
		try (LockHandle held = lockOrder(9)) {
			http.post().uri("/orders/9/pay").exchange().expectBody().jsonPath("$.key").doesNotExist();
			http.post()
				.uri("/orders/9/pay")
				.header(CallerFilter.ROLES, "USER")
				.exchange()
				.expectBody()
				.jsonPath("$.key")
				.doesNotExist();
			http.post()
				.uri("/orders/9/pay")
				.header(CallerFilter.ROLES, "ROLE_ops")
				.exchange()
				.expectBody()
				.jsonPath("$.key")
				.isEqualTo("order:9");
		}
	}

	@Test
	void whenTheLockIsLostWhileTheRequestRunsThenServiceUnavailable() {
		WebTestClient http = start();
		http.post()
			.uri("/orders/5/ship")
			.exchange()
			.expectStatus()
			.isEqualTo(503)
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody()
			.jsonPath("$.type")
			.isEqualTo("urn:latchkey:problem:lock-lost")
			.jsonPath("$.title")
			.isEqualTo("Lock lost")
			.jsonPath("$.lock")
			.isEqualTo("order:#id")
			.jsonPath("$.reason")
			.isEqualTo("renewal_failed")
			.jsonPath("$.key")
			.doesNotExist();
	}

	@Test
	void givenTheHandlerSwitchedOffThenTheExceptionIsLeftToWebFlux() {
		WebTestClient http = start("latchkey.web.problem-details.enabled=false");
		assertThat(this.context.getBeansOfType(ReactiveLockProblemDetailsExceptionHandler.class)).isEmpty();
		try (LockHandle held = lockOrder(42)) {
			http.post().uri("/orders/42/pay").exchange().expectStatus().isEqualTo(500);
		}
	}

	private WebTestClient start(String... properties) {
		this.context = new SpringApplicationBuilder(OrderApplication.class).web(WebApplicationType.REACTIVE)
			.properties("server.port=0", "latchkey.backend=memory", "spring.main.banner-mode=off")
			.properties(properties)
			.run();
		int port = ((WebServerApplicationContext) this.context).getWebServer().getPort();
		return WebTestClient.bindToServer()
			.baseUrl("http://localhost:" + port)
			// The first request warms up Reactor Netty, which takes a while on a busy
			// machine.
			.responseTimeout(Duration.ofSeconds(30))
			.build();
	}

	private LockHandle lockOrder(long id) {
		return this.context.getBean(LockTemplate.class).exclusive("order:" + id).acquire();
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ LatchkeyAutoConfiguration.class, LatchkeyWebFluxAutoConfiguration.class,
			NettyReactiveWebServerAutoConfiguration.class, HttpHandlerAutoConfiguration.class,
			WebFluxAutoConfiguration.class, ErrorWebFluxAutoConfiguration.class, CodecsAutoConfiguration.class,
			JacksonAutoConfiguration.class })
	@Import({ Orders.class, OrderController.class, CallerFilter.class })
	static class OrderApplication {

	}

	public static class Orders {

		@Exclusive("order:#id")
		public Mono<String> pay(long id) {
			return Mono.just("paid " + id);
		}

		@Exclusive("order:#id")
		public Mono<String> ship(long id) {
			// Stands for a lease lost while the work ran (the lost-lock contract has
			// tests of its own).
			return Mono.error(new LockLostException("order:" + id, "order:#id", LossReason.RENEWAL_FAILED, null));
		}

	}

	@RestController
	public static class OrderController {

		private final Orders orders;

		OrderController(Orders orders) {
			this.orders = orders;
		}

		@PostMapping("/orders/{id}/pay")
		public Mono<String> pay(@PathVariable long id) {
			return this.orders.pay(id);
		}

		@PostMapping("/orders/{id}/ship")
		public Mono<String> ship(@PathVariable long id) {
			return this.orders.ship(id);
		}

	}

	/**
	 * Makes the caller a Spring Security principal with the authorities of a request
	 * header, as a security filter chain would.
	 */
	public static class CallerFilter implements WebFilter {

		static final String ROLES = "X-Test-Authorities";

		@Override
		public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
			String authorities = exchange.getRequest().getHeaders().getFirst(ROLES);
			if (authorities == null) {
				return chain.filter(exchange);
			}
			UsernamePasswordAuthenticationToken caller = UsernamePasswordAuthenticationToken.authenticated("caller",
					null, AuthorityUtils.commaSeparatedStringToAuthorityList(authorities));
			return chain.filter(exchange.mutate().principal(Mono.just(caller)).build());
		}

	}

}
