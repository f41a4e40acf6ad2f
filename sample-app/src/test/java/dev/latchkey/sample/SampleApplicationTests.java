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

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;

import dev.latchkey.LockHandle;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.context.LockRecorder;
import dev.latchkey.test.context.LockRecorder.Entry;
import dev.latchkey.test.context.LockRecorder.Kind;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Drives the sample's HTTP endpoints on a real server, the way a user would with curl.
 * With {@code lock-spring-boot-test} on the class path, the application locks in an
 * in-memory backend of its own (a sample app running on this host shares nothing with
 * it), and a {@link LockRecorder} tells which keys were locked, in which order, by which
 * method.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sample.payment-duration=600ms", "sample.report-duration=600ms", "sample.report-wait=3s",
				"sample.restock-duration=10ms", "sample.transfer-duration=300ms", "sample.document-duration=600ms" })
@ExtendWith(OutputCaptureExtension.class)
class SampleApplicationTests {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	private static final ParameterizedTypeReference<List<Map<String, Object>>> JSON_LIST = new ParameterizedTypeReference<>() {
	};

	@LocalServerPort
	private int port;

	@Autowired
	private LockTemplate lockTemplate;

	@Autowired
	private LockRecorder locks;

	private RestClient http;

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@BeforeEach
	void createClient() {
		// Answer 4xx as a response to assert on, not as an exception.
		this.http = RestClient.builder()
			.baseUrl("http://localhost:" + this.port)
			.defaultStatusHandler((status) -> true, (request, response) -> {
			})
			.build();
	}

	@AfterEach
	void stopExecutor() throws InterruptedException {
		this.executor.shutdown();
		this.executor.awaitTermination(10, TimeUnit.SECONDS);
	}

	@Test
	void givenAPaymentInProgressWhenTheSameOrderIsPaidAgainThenConflictAsLatchkeysProblemDetailWithNoErrorLogged(
			CapturedOutput output) {
		CompletableFuture<ResponseEntity<Map<String, Object>>> first = payLater(1);
		awaitHeld("latchkey-sample:order:1");
		ResponseEntity<Map<String, Object>> second = pay(1);
		assertThat(second.getStatusCode().value()).isEqualTo(409);
		assertThat(second.getHeaders().getContentType()).hasToString("application/problem+json");
		assertThat(second.getBody()).containsEntry("type", "urn:latchkey:problem:lock-not-acquired")
			.containsEntry("title", "Lock held elsewhere")
			.containsEntry("detail", "Lock 'order:#id' is held elsewhere; try again later")
			.containsEntry("lock", "order:#id")
			// application.yml sets latchkey.web.problem-details.show-key=always
			.containsEntry("key", "latchkey-sample:order:1");
		assertThat(output.getAll()).doesNotContain("ERROR").doesNotContain("LockNotAcquiredException");
		assertThat(first.join().getStatusCode().value()).isEqualTo(200);
		assertThat(first.join().getBody()).containsEntry("orderId", 1);
	}

	@Test
	void whenTwoPaymentsRaceOnTheSameOrderThenOneSucceedsAndOneGetsConflict() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> first = payLater(2);
		CompletableFuture<ResponseEntity<Map<String, Object>>> second = payLater(2);
		assertThat(List.of(first.join().getStatusCode().value(), second.join().getStatusCode().value()))
			.containsExactlyInAnyOrder(200, 409);
	}

	@Test
	void whenDifferentOrdersArePaidAtOnceThenBothSucceed() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> first = payLater(3);
		CompletableFuture<ResponseEntity<Map<String, Object>>> second = payLater(4);
		assertThat(first.join().getStatusCode().value()).isEqualTo(200);
		assertThat(second.join().getStatusCode().value()).isEqualTo(200);
	}

	@Test
	void whenAnOrderIsPaidTwiceInTurnThenTheFencingTokenIncreases() {
		long firstToken = fencingToken(pay(5));
		long secondToken = fencingToken(pay(5));
		assertThat(firstToken).isPositive();
		assertThat(secondToken).isGreaterThan(firstToken);
		// Each payment locked the order in OrderService.pay and released it before the
		// next (the scheduled cleanup job's lock may be recorded too, in between).
		assertThat(this.locks.entries("order:5")).extracting(Entry::kind, Entry::method, Entry::fencingToken)
			.containsExactly(tuple(Kind.ACQUIRED, "OrderService.pay", firstToken),
					tuple(Kind.RELEASED, "OrderService.pay", firstToken),
					tuple(Kind.ACQUIRED, "OrderService.pay", secondToken),
					tuple(Kind.RELEASED, "OrderService.pay", secondToken));
	}

	@Test
	void whenAnItemIsRestockedThenItsKeyIsLockedByCodeNotByAnAnnotatedMethod() {
		ResponseEntity<Map<String, Object>> restock = this.http.post()
			.uri("/inventory/{sku}/restock?quantity=3", "sku-9")
			.retrieve()
			.toEntity(JSON);
		assertThat(restock.getStatusCode().value()).isEqualTo(200);
		assertThat(this.locks.entries("inventory:sku-9")).extracting(Entry::kind, Entry::name, Entry::method)
			.containsExactly(tuple(Kind.ACQUIRED, "inventory", null), tuple(Kind.RELEASED, "inventory", null));
	}

	@Test
	void givenAPaymentInProgressThenLocksListsItsKeyWithItsFencingToken() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> payment = payLater(6);
		Map<String, Object> held = awaitHeld("latchkey-sample:order:6");
		assertThat(held).containsEntry("mode", "EXCLUSIVE");
		long token = fencingToken(payment.join());
		assertThat(held.get("holders")).asInstanceOf(InstanceOfAssertFactories.LIST)
			.singleElement()
			.satisfies((holder) -> assertThat(((Map<?, ?>) holder).get("fencingToken")).isEqualTo((int) token));
		assertThat(locks()).noneMatch((lock) -> "latchkey-sample:order:6".equals(lock.get("key")));
	}

	@Test
	@SuppressWarnings("unchecked")
	void givenAPaymentInProgressThenTheLocksEndpointShowsItWithItsOwnerAndKeyMasked() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> payment = payLater(7);
		awaitHeld("latchkey-sample:order:7");
		ResponseEntity<Map<String, Object>> all = this.http.get().uri("/actuator/locks").retrieve().toEntity(JSON);
		assertThat(all.getStatusCode().value()).isEqualTo(200);
		assertThat(all.getBody()).containsEntry("backend", "memory");
		assertThat(all.getBody().get("thisInstance")).asInstanceOf(InstanceOfAssertFactories.LIST)
			// Keys are masked in the listing (show-values: never); the lease's name is
			// not.
			.filteredOn((lease) -> "order:#id".equals(((Map<?, ?>) lease).get("name")))
			.singleElement()
			.satisfies((lease) -> assertThat((Map<Object, Object>) lease).containsEntry("name", "order:#id")
				.containsEntry("key", "******")
				.containsEntry("mode", "EXCLUSIVE")
				.containsEntry("permits", 1)
				.containsEntry("owner", "******")
				.containsEntry("ttl", "PT30S")
				.containsEntry("waitersHere", 0)
				.containsKeys("fencingToken", "acquiredAt", "expiresAt", "renewals"));
		ResponseEntity<Map<String, Object>> one = this.http.get()
			.uri("/actuator/locks/latchkey-sample:order:7")
			.retrieve()
			.toEntity(JSON);
		long token = fencingToken(payment.join());
		assertThat(one.getStatusCode().value()).isEqualTo(200);
		assertThat(one.getBody()).containsEntry("key", "latchkey-sample:order:7").containsEntry("mode", "EXCLUSIVE");
		assertThat(one.getBody().get("holders")).asInstanceOf(InstanceOfAssertFactories.LIST)
			.singleElement()
			.satisfies((holder) -> {
				Map<?, ?> fields = (Map<?, ?>) holder;
				assertThat(fields.get("owner")).isEqualTo("******");
				assertThat(fields.get("fencingToken")).isEqualTo((int) token);
				assertThat(fields.get("thisInstance")).isEqualTo(true);
			});
		assertThat(this.http.get()
			.uri("/actuator/locks/latchkey-sample:order:7")
			.retrieve()
			.toBodilessEntity()
			.getStatusCode()
			.value()).isEqualTo(404);
	}

	@Test
	void givenTheEndpointsDefaultReadOnlyAccessThenAKeyCannotBeForceReleased() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> payment = payLater(10);
		awaitHeld("latchkey-sample:order:10");
		ResponseEntity<Void> deleted = this.http.delete()
			.uri("/actuator/locks/latchkey-sample:order:10")
			.retrieve()
			.toBodilessEntity();
		assertThat(deleted.getStatusCode().value()).isEqualTo(405);
		assertThat(this.http.get()
			.uri("/actuator/locks/latchkey-sample:order:10")
			.retrieve()
			.toBodilessEntity()
			.getStatusCode()
			.value()).isEqualTo(200);
		assertThat(payment.join().getStatusCode().value()).isEqualTo(200);
	}

	@Test
	@SuppressWarnings("unchecked")
	void givenBothReportPermitsHeldWhenAThirdReportWaitsThenTheLocksEndpointCountsItsWaiter() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> first = reportLater("2024-01");
		CompletableFuture<ResponseEntity<Map<String, Object>>> second = reportLater("2024-02");
		awaitHolders("latchkey-sample:reports", 2);
		CompletableFuture<ResponseEntity<Map<String, Object>>> third = reportLater("2024-03");
		long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
		List<Map<String, Object>> reports = List.of();
		while (System.nanoTime() < deadline) {
			Map<String, Object> all = this.http.get().uri("/actuator/locks").retrieve().body(JSON);
			reports = ((List<?>) all.get("thisInstance")).stream()
				.map((lease) -> (Map<String, Object>) lease)
				.filter((lease) -> "reports".equals(lease.get("name")))
				.toList();
			// Each lease's count is read on its own, so a snapshot taken as the third
			// report starts waiting may show it beside one lease and not the other.
			if (!reports.isEmpty()
					&& reports.stream().allMatch((lease) -> Integer.valueOf(1).equals(lease.get("waitersHere")))) {
				break;
			}
			Thread.onSpinWait();
		}
		assertThat(reports).isNotEmpty()
			.allSatisfy((lease) -> assertThat(lease).containsEntry("mode", "SEMAPHORE")
				.containsEntry("permits", 2)
				.containsEntry("waitersHere", 1)
				// Masked as the owner is (show-values: never).
				.containsEntry("description", "******"));
		assertThat(first.join().getStatusCode().value()).isEqualTo(200);
		assertThat(second.join().getStatusCode().value()).isEqualTo(200);
		assertThat(third.join().getStatusCode().value()).isEqualTo(200);
	}

	@Test
	void latchkeyHealthAndMetricsAreExposed() {
		pay(8);
		ResponseEntity<Map<String, Object>> health = this.http.get()
			.uri("/actuator/health/latchkey")
			.retrieve()
			.toEntity(JSON);
		assertThat(health.getStatusCode().value()).isEqualTo(200);
		assertThat(health.getBody()).containsEntry("status", "UP");
		assertThat(health.getBody().get("details")).asInstanceOf(InstanceOfAssertFactories.MAP)
			.containsEntry("backend", "memory")
			.containsKeys("heldLeases", "lostLeases");
		ResponseEntity<Map<String, Object>> acquire = this.http.get()
			.uri("/actuator/metrics/latchkey.acquire?tag={name}&tag={outcome}", "name:order:#id", "outcome:acquired")
			.retrieve()
			.toEntity(JSON);
		assertThat(acquire.getStatusCode().value()).isEqualTo(200);
		ResponseEntity<Map<String, Object>> hold = this.http.get()
			.uri("/actuator/metrics/latchkey.hold?tag={name}&tag={outcome}", "name:order:#id", "outcome:released")
			.retrieve()
			.toEntity(JSON);
		assertThat(hold.getStatusCode().value()).isEqualTo(200);
		assertThat(hold.getBody().get("availableTags")).asInstanceOf(InstanceOfAssertFactories.LIST)
			.extracting((tag) -> (Object) ((Map<?, ?>) tag).get("tag"))
			.contains("backend", "error");
	}

	@Test
	void lostAndRenewalCountersAreListedBeforeAnyLeaseIsLostOrRenewed() {
		for (String meter : List.of("latchkey.lost", "latchkey.renewals")) {
			ResponseEntity<Map<String, Object>> metric = this.http.get()
				.uri("/actuator/metrics/{name}?tag=name:none", meter)
				.retrieve()
				.toEntity(JSON);
			assertThat(metric.getStatusCode().value()).as(meter).isEqualTo(200);
			assertThat(metric.getBody().get("measurements")).asInstanceOf(InstanceOfAssertFactories.LIST)
				.singleElement()
				.satisfies((measurement) -> assertThat(((Map<?, ?>) measurement).get("value")).isEqualTo(0.0));
		}
	}

	@Test
	void givenTwoReportsInProgressWhenAThirdIsRequestedThenItWaitsForAPermit() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> first = reportLater("2025-01");
		CompletableFuture<ResponseEntity<Map<String, Object>>> second = reportLater("2025-02");
		awaitHolders("latchkey-sample:reports", 2);
		long start = System.nanoTime();
		ResponseEntity<Map<String, Object>> third = this.http.post().uri("/reports/2025-03").retrieve().toEntity(JSON);
		Duration took = Duration.ofNanos(System.nanoTime() - start);
		assertThat(third.getStatusCode().value()).isEqualTo(200);
		assertThat(took).isGreaterThan(Duration.ofMillis(200));
		assertThat(first.join().getStatusCode().value()).isEqualTo(200);
		assertThat(second.join().getStatusCode().value()).isEqualTo(200);
	}

	@Test
	void whenAnItemIsRestockedThenTheStockGrowsUnderTheItemsLock() {
		ResponseEntity<Map<String, Object>> first = this.http.post()
			.uri("/inventory/apple/restock?quantity=5")
			.retrieve()
			.toEntity(JSON);
		ResponseEntity<Map<String, Object>> second = this.http.post()
			.uri("/inventory/apple/restock?quantity=3")
			.retrieve()
			.toEntity(JSON);
		assertThat(first.getBody()).containsEntry("stock", 5);
		assertThat(second.getBody()).containsEntry("stock", 8);
		assertThat(fencingToken(second)).isGreaterThan(fencingToken(first));
	}

	@Test
	void whenTwoTransfersBetweenTwoAccountsRaceInOppositeDirectionsThenBothRunOneAfterTheOther() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> aliceToBob = transferLater("alice", "bob", 300);
		CompletableFuture<ResponseEntity<Map<String, Object>>> bobToAlice = transferLater("bob", "alice", 100);
		assertThat(aliceToBob.join().getStatusCode().value()).isEqualTo(200);
		assertThat(bobToAlice.join().getStatusCode().value()).isEqualTo(200);
		ResponseEntity<Map<String, Object>> after = transfer("alice", "bob", 0);
		assertThat(entry(after, "from")).containsEntry("account", "alice").containsEntry("balance", 9_800);
		assertThat(entry(after, "to")).containsEntry("account", "bob").containsEntry("balance", 10_200);
		// Each account's lock has its own fencing token, rising with each transfer.
		assertThat(((Number) entry(after, "from").get("fencingToken")).longValue())
			.isGreaterThan(((Number) entry(aliceToBob.join(), "from").get("fencingToken")).longValue());
		assertThat(((Number) entry(after, "to").get("fencingToken")).longValue())
			.isGreaterThan(((Number) entry(aliceToBob.join(), "to").get("fencingToken")).longValue());
	}

	@Test
	void givenOneAccountLockedElsewhereWhenATransferWaitsTooLongThenConflictAndNeitherAccountChanges() {
		try (LockHandle held = this.lockTemplate.exclusive("account:dave").acquire()) {
			ResponseEntity<Map<String, Object>> refused = transfer("carol", "dave", 500);
			assertThat(refused.getStatusCode().value()).isEqualTo(409);
			assertThat(refused.getBody()).containsEntry("key", "latchkey-sample:account:dave");
			assertThat(this.lockTemplate.inspect("account:carol")).isEmpty();
		}
		ResponseEntity<Map<String, Object>> after = transfer("carol", "dave", 0);
		assertThat(entry(after, "from")).containsEntry("balance", 10_000);
		assertThat(entry(after, "to")).containsEntry("balance", 10_000);
	}

	private ResponseEntity<Map<String, Object>> transfer(String from, String to, long cents) {
		return this.http.post()
			.uri("/accounts/{from}/transfer?to={to}&cents={cents}", from, to, cents)
			.retrieve()
			.toEntity(JSON);
	}

	private CompletableFuture<ResponseEntity<Map<String, Object>>> transferLater(String from, String to, long cents) {
		return CompletableFuture.supplyAsync(() -> transfer(from, to, cents), this.executor);
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> entry(ResponseEntity<Map<String, Object>> transfer, String side) {
		assertThat(transfer.getBody()).isNotNull();
		return (Map<String, Object>) transfer.getBody().get(side);
	}

	@Test
	void givenTwoReadsOfADocumentInProgressThenTheyShareItsLockAndAWriteWaitsForThem() {
		CompletableFuture<ResponseEntity<Map<String, Object>>> first = readLater("doc-1");
		CompletableFuture<ResponseEntity<Map<String, Object>>> second = readLater("doc-1");
		Map<String, Object> lock = awaitHolders("latchkey-sample:doc:doc-1", 2);
		assertThat(lock).containsEntry("mode", "SHARED");
		long start = System.nanoTime();
		ResponseEntity<Map<String, Object>> write = this.http.put()
			.uri("/documents/{id}", "doc-1")
			.body("new text")
			.retrieve()
			.toEntity(JSON);
		Duration took = Duration.ofNanos(System.nanoTime() - start);
		assertThat(write.getBody()).containsEntry("text", "new text");
		// It waited for both reads, which ran together.
		assertThat(took).isGreaterThan(Duration.ofMillis(200));
		long firstRead = fencingToken(first.join());
		long secondRead = fencingToken(second.join());
		assertThat(fencingToken(write)).isGreaterThan(Math.max(firstRead, secondRead));
		ResponseEntity<Map<String, Object>> read = this.http.get()
			.uri("/documents/{id}", "doc-1")
			.retrieve()
			.toEntity(JSON);
		assertThat(read.getBody()).containsEntry("text", "new text");
		assertThat(fencingToken(read)).isGreaterThan(fencingToken(write));
	}

	private CompletableFuture<ResponseEntity<Map<String, Object>>> readLater(String id) {
		return CompletableFuture.supplyAsync(() -> this.http.get().uri("/documents/{id}", id).retrieve().toEntity(JSON),
				this.executor);
	}

	private ResponseEntity<Map<String, Object>> pay(long order) {
		return this.http.post().uri("/orders/{id}/pay", order).retrieve().toEntity(JSON);
	}

	private CompletableFuture<ResponseEntity<Map<String, Object>>> payLater(long order) {
		return CompletableFuture.supplyAsync(() -> pay(order), this.executor);
	}

	private CompletableFuture<ResponseEntity<Map<String, Object>>> reportLater(String month) {
		return CompletableFuture.supplyAsync(
				() -> this.http.post().uri("/reports/{month}", month).retrieve().toEntity(JSON), this.executor);
	}

	private List<Map<String, Object>> locks() {
		List<Map<String, Object>> locks = this.http.get().uri("/locks").retrieve().body(JSON_LIST);
		return (locks != null) ? locks : List.of();
	}

	private Map<String, Object> awaitHeld(String key) {
		return awaitHolders(key, 1);
	}

	private Map<String, Object> awaitHolders(String key, int holders) {
		long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
		while (System.nanoTime() < deadline) {
			for (Map<String, Object> lock : locks()) {
				if (key.equals(lock.get("key")) && ((List<?>) lock.get("holders")).size() == holders) {
					return lock;
				}
			}
			Thread.onSpinWait();
		}
		throw new AssertionError("'" + key + "' did not get " + holders + " holder(s) within 5s: " + locks());
	}

	private static long fencingToken(ResponseEntity<Map<String, Object>> response) {
		assertThat(response.getStatusCode().value()).isEqualTo(200);
		Map<String, Object> body = response.getBody();
		assertThat(body).isNotNull();
		return ((Number) body.get("fencingToken")).longValue();
	}

}
