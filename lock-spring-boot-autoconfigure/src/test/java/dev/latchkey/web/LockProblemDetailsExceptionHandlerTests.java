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
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.mock.web.MockHttpServletRequest;

import dev.latchkey.LockLostException;
import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LossReason;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LockProblemDetailsExceptionHandler}: the problems it makes, and when
 * the key may be shown.
 */
class LockProblemDetailsExceptionHandlerTests {

	private static final LockNotAcquiredException HELD = new LockNotAcquiredException("order:42", "order:#id",
			Duration.ofSeconds(2), null);

	@Test
	void heldElsewhereIsAConflictThatNamesTheLockAndTheWaitTimeButNotTheKey() {
		ResponseEntity<ProblemDetail> response = handler(ShowKey.NEVER).handleLockNotAcquired(HELD,
				new MockHttpServletRequest());
		ProblemDetail problem = response.getBody();
		assertThat(response.getStatusCode().value()).isEqualTo(409);
		assertThat(problem.getType()).hasToString("urn:latchkey:problem:lock-not-acquired");
		assertThat(problem.getTitle()).isEqualTo("Lock held elsewhere");
		assertThat(problem.getDetail())
			.isEqualTo("Lock 'order:#id' stayed held elsewhere for the whole wait time of PT2S; try again later");
		assertThat(problem.getProperties()).containsEntry("lock", "order:#id")
			.containsEntry("waitTime", "PT2S")
			.doesNotContainKey("key");
		assertThat(problem.toString()).doesNotContain("order:42");
	}

	@Test
	void retryAfterIsWholeSecondsRoundedUp() {
		assertThat(retryAfter(Duration.ofMillis(1))).isEqualTo("1");
		assertThat(retryAfter(Duration.ofSeconds(3))).isEqualTo("3");
		assertThat(retryAfter(Duration.ofMillis(3001))).isEqualTo("4");
	}

	@Test
	void anInterruptedWaitIsServiceUnavailable() {
		LockNotAcquiredException interrupted = new LockNotAcquiredException("order:42", "order:#id", Duration.ZERO,
				new InterruptedException());
		ResponseEntity<ProblemDetail> response = handler(ShowKey.NEVER).handleLockNotAcquired(interrupted,
				new MockHttpServletRequest());
		assertThat(response.getStatusCode().value()).isEqualTo(503);
		assertThat(response.getHeaders().containsHeader("Retry-After")).isFalse();
		assertThat(response.getBody().getTitle()).isEqualTo("Lock wait interrupted");
	}

	@Test
	void aLostLockIsServiceUnavailableWithItsReason() {
		ResponseEntity<ProblemDetail> response = handler(ShowKey.NEVER).handleLockLost(
				new LockLostException("order:42", "order:#id", LossReason.RENEWAL_FAILED, null),
				new MockHttpServletRequest());
		ProblemDetail problem = response.getBody();
		assertThat(response.getStatusCode().value()).isEqualTo(503);
		assertThat(problem.getType()).hasToString("urn:latchkey:problem:lock-lost");
		assertThat(problem.getTitle()).isEqualTo("Lock lost");
		assertThat(problem.getDetail()).isEqualTo("Lock 'order:#id' was lost while the request ran (its lease could"
				+ " not be renewed in time); its work may be incomplete");
		assertThat(problem.getProperties()).containsEntry("lock", "order:#id")
			.containsEntry("reason", "renewal_failed")
			.doesNotContainKey("key");
	}

	@Test
	void whenAuthorizedShowsTheKeyToAnAuthenticatedCallerOnly() {
		MockHttpServletRequest anonymous = new MockHttpServletRequest();
		MockHttpServletRequest authenticated = new MockHttpServletRequest();
		authenticated.setUserPrincipal(() -> "alice");
		assertThat(handler(ShowKey.WHEN_AUTHORIZED).isKeyShown(anonymous)).isFalse();
		assertThat(handler(ShowKey.WHEN_AUTHORIZED).isKeyShown(authenticated)).isTrue();
		assertThat(
				handler(ShowKey.WHEN_AUTHORIZED).handleLockNotAcquired(HELD, authenticated).getBody().getProperties())
			.containsEntry("key", "order:42");
	}

	@Test
	void whenAuthorizedWithRolesShowsTheKeyToACallerInOneOfThem() {
		LockProblemDetailsExceptionHandler handler = new LockProblemDetailsExceptionHandler(ShowKey.WHEN_AUTHORIZED,
				List.of("OPS"), null);
		MockHttpServletRequest user = new MockHttpServletRequest();
		user.setUserPrincipal(() -> "bob");
		user.addUserRole("USER");
		MockHttpServletRequest operator = new MockHttpServletRequest();
		operator.setUserPrincipal(() -> "carol");
		operator.addUserRole("OPS");
		assertThat(handler.isKeyShown(user)).isFalse();
		assertThat(handler.isKeyShown(operator)).isTrue();
	}

	@Test
	void alwaysAndNever() {
		assertThat(handler(ShowKey.ALWAYS).isKeyShown(new MockHttpServletRequest())).isTrue();
		MockHttpServletRequest authenticated = new MockHttpServletRequest();
		authenticated.setUserPrincipal(() -> "alice");
		assertThat(handler(ShowKey.NEVER).isKeyShown(authenticated)).isFalse();
	}

	private static LockProblemDetailsExceptionHandler handler(ShowKey showKey) {
		return new LockProblemDetailsExceptionHandler(showKey, List.of(), null);
	}

	private static String retryAfter(Duration delay) {
		return new LockProblemDetailsExceptionHandler(ShowKey.NEVER, List.of(), delay)
			.handleLockNotAcquired(HELD, new MockHttpServletRequest())
			.getHeaders()
			.getFirst("Retry-After");
	}

}
