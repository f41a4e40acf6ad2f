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

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An operator force-releases a key over HTTP, with the {@code locks} endpoint's access
 * set to unrestricted: the holder's work is stopped at its next renewal and the next
 * holder gets a fencing token above the evicted one's.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = { "sample.payment-duration=10s",
		"management.endpoint.locks.access=unrestricted", "latchkey.renew-interval=100ms",
		// On the embedded default backend, in a lock directory of its own: a backend
		// named in the test's properties replaces the test module's in-memory one.
		"latchkey.backend=socket", "latchkey.socket.directory=${java.io.tmpdir}/latchkey-sample-test-${random.uuid}" })
class SampleForceReleaseTests {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	@LocalServerPort
	private int port;

	private RestClient http;

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@BeforeEach
	void createClient() {
		this.http = RestClient.builder()
			.baseUrl("http://localhost:" + this.port)
			.defaultStatusHandler((status) -> true, (request, response) -> {
			})
			.build();
	}

	@AfterEach
	void stopExecutor() throws InterruptedException {
		this.executor.shutdown();
		this.executor.awaitTermination(20, TimeUnit.SECONDS);
	}

	@Test
	void givenAPaymentInProgressWhenAnOperatorDeletesItsKeyThenThePaymentStopsAndTheNextHolderIsFencedAbove() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> payment = CompletableFuture
			.supplyAsync(() -> this.http.post().uri("/orders/9/pay").retrieve().toEntity(JSON), this.executor);
		long evictedToken = awaitHolderToken("latchkey-sample:order:9");
		ResponseEntity<Map<String, Object>> deleted = this.http.delete()
			.uri("/actuator/locks/latchkey-sample:order:9")
			.retrieve()
			.toEntity(JSON);
		assertThat(deleted.getStatusCode().value()).isEqualTo(200);
		assertThat(deleted.getBody()).containsEntry("key", "latchkey-sample:order:9").containsEntry("released", true);
		// The payment's lease is lost at its next renewal, which interrupts the work long
		// before its 10 s are up; the request is answered with Latchkey's problem detail
		// for a lost lock.
		ResponseEntity<Map<String, Object>> lost = payment.join();
		assertThat(lost.getStatusCode().value()).isEqualTo(503);
		assertThat(lost.getBody()).containsEntry("type", "urn:latchkey:problem:lock-lost")
			.containsEntry("lock", "order:#id")
			.containsEntry("reason", "not_owner");
		ResponseEntity<Map<String, Object>> again = this.http.delete()
			.uri("/actuator/locks/latchkey-sample:order:9")
			.retrieve()
			.toEntity(JSON);
		assertThat(again.getStatusCode().value()).isEqualTo(200);
		assertThat(again.getBody()).containsEntry("key", "latchkey-sample:order:9").containsEntry("released", false);
		CompletableFuture<ResponseEntity<Map<String, Object>>> next = CompletableFuture
			.supplyAsync(() -> this.http.post().uri("/orders/9/pay").retrieve().toEntity(JSON), this.executor);
		assertThat(awaitHolderToken("latchkey-sample:order:9")).isGreaterThan(evictedToken + 1);
		this.http.delete().uri("/actuator/locks/latchkey-sample:order:9").retrieve().toBodilessEntity();
		next.join();
	}

	private long awaitHolderToken(String key) {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
		while (System.nanoTime() < deadline) {
			ResponseEntity<Map<String, Object>> lock = this.http.get()
				.uri("/actuator/locks/" + key)
				.retrieve()
				.toEntity(JSON);
			if (lock.getStatusCode().value() == 200) {
				Map<?, ?> holder = (Map<?, ?>) ((List<?>) lock.getBody().get("holders")).get(0);
				return ((Number) holder.get("fencingToken")).longValue();
			}
			Thread.onSpinWait();
		}
		throw new AssertionError("'" + key + "' was not held within 5s");
	}

}
