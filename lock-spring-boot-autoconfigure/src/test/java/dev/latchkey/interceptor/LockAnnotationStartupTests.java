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

package dev.latchkey.interceptor;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.annotation.ContentionPolicy;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.LostPolicy;
import dev.latchkey.annotation.Semaphore;
import dev.latchkey.annotation.Shared;
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A mistake in a lock annotation fails the application start, naming the method.
 */
class LockAnnotationStartupTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
		// These tests are about the annotations: the in-JVM backend keeps them apart from
		// other runs on this host.
		.withPropertyValues("latchkey.backend=memory");

	@Test
	void unknownParameterInTheKeyTemplateFailsTheStart() {
		assertStartFails(UnknownParameter.class, "Lock key template 'order:#orderId' of @Exclusive on "
				+ "UnknownParameter.pay(long) names an unknown parameter 'orderId'");
	}

	@Test
	void unknownParameterInOneOfSeveralKeyTemplatesFailsTheStartNamingThatTemplate() {
		assertStartFails(UnknownParameterOfSeveral.class, "Lock key template 'account:#other' of @Exclusive on "
				+ "UnknownParameterOfSeveral.transfer(String, String) names an unknown parameter 'other'");
	}

	@Test
	void keyTemplateThatDoesNotParseFailsTheStart() {
		assertStartFails(BrokenTemplate.class, "@Exclusive on BrokenTemplate.pay(long)", "never closed");
	}

	@Test
	void bothAnnotationsOnOneMethodFailTheStart() {
		assertStartFails(BothAnnotations.class, "BothAnnotations.work() has both @Exclusive and @Semaphore");
	}

	@Test
	void sharedAndExclusiveOnOneMethodFailTheStart() {
		assertStartFails(SharedAndExclusive.class, "SharedAndExclusive.work() has both @Exclusive and @Shared");
	}

	@Test
	void semaphoreWithoutPermitsFailsTheStart() {
		assertStartFails(NoPermits.class, "@Semaphore on NoPermits.work() does not say how many permits");
	}

	@Test
	void unreadableDurationFailsTheStart() {
		assertStartFails(BadDuration.class, "@Exclusive on BadDuration.work() has waitTimeString 'soon'");
	}

	@Test
	void unresolvablePlaceholderFailsTheStartNamingTheMethod() {
		assertStartFails(MissingPlaceholder.class,
				"@Semaphore on MissingPlaceholder.work() has permitsString '${missing.permits}' that could not be resolved");
		assertStartFails(MissingDurationPlaceholder.class,
				"@Exclusive on MissingDurationPlaceholder.work() has ttlString '${missing.ttl}' that could not be resolved");
	}

	@Test
	void durationBeyondTheAllowedRangeFailsTheStartNamingTheAttribute() {
		assertStartFails(HugeTtlString.class, "@Exclusive on HugeTtlString.work() has a ttlString of PT87600000H",
				"365 days");
		assertStartFails(HugeWaitTime.class,
				"@Exclusive on HugeWaitTime.work() has a waitTime of " + Long.MAX_VALUE + " days", "365 days");
	}

	@Test
	void skippingAMethodThatReturnsAPrimitiveFailsTheStart() {
		assertStartFails(SkipPrimitive.class,
				"@Exclusive on SkipPrimitive.count() skips on contention but returns int");
	}

	@Test
	void lostPolicyThatDoesNotFitTheReturnTypeFailsTheStart() {
		assertStartFails(CancelSync.class, "@Exclusive on CancelSync.work() uses LostPolicy.CANCEL");
		assertStartFails(InterruptAsync.class, "@Exclusive on InterruptAsync.work() uses LostPolicy.INTERRUPT");
	}

	@Test
	void ttlNotLongerThanTheRenewalIntervalFailsTheStart() {
		this.contextRunner.withUserConfiguration(ShortTtl.class)
			.withPropertyValues("latchkey.renew-interval=5s")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageContaining("Renew interval PT5S must be shorter than the TTL PT1S"));
	}

	@Test
	void maxHoldThatIsZeroOrShorterThanMinHoldFailsTheStart() {
		assertStartFails(ZeroMaxHold.class, "@Exclusive on ZeroMaxHold.work() has a maxHold of zero");
		assertStartFails(MaxHoldBelowMinHold.class,
				"@Semaphore on MaxHoldBelowMinHold.work() has a minHold of PT2S, longer than its maxHold of PT1S");
		this.contextRunner.withUserConfiguration(MinHoldAboveDefaultMaxHold.class)
			.withPropertyValues("latchkey.max-hold=1s")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(LockConfigurationException.class)
				.hasMessageContaining("@Exclusive on MinHoldAboveDefaultMaxHold.work() has a minHold of PT2S,"
						+ " longer than latchkey.max-hold (PT1S)"));
	}

	@Test
	void descriptionTemplateThatNamesAnUnknownParameterOrIsNotAllowedFailsTheStart() {
		assertStartFails(UnknownParameterInDescription.class, "Description template 'import of #date' of @Shared on "
				+ "UnknownParameterInDescription.read(String) names an unknown parameter 'date'");
		assertStartFails(BrokenDescription.class,
				"Description template 'import #{#day' of @Semaphore on " + "BrokenDescription.work(String)",
				"never closed");
		assertStartFails(LongDescription.class,
				"@Exclusive on LongDescription.work() has a description that is not allowed: Lock description of 201"
						+ " characters is longer than the maximum of 200");
	}

	@Test
	void placeholdersInNumericAttributesAreResolved() {
		this.contextRunner.withUserConfiguration(ResolvedPlaceholders.class)
			.withPropertyValues("jobs.permits=3", "jobs.wait=250ms")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	private void assertStartFails(Class<?> configuration, String... messages) {
		this.contextRunner.withUserConfiguration(configuration).run((context) -> {
			assertThat(context).hasFailed();
			Throwable failure = context.getStartupFailure();
			while (failure != null && !(failure instanceof LockConfigurationException)) {
				failure = failure.getCause();
			}
			assertThat(failure).as("LockConfigurationException in the cause chain").isNotNull();
			assertThat(failure.getMessage()).contains(messages);
			assertThat(((LockConfigurationException) failure).getAction()).isNotBlank();
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class UnknownParameter {

		@Bean
		UnknownParameter bean() {
			return new UnknownParameter();
		}

		@Exclusive("order:#orderId")
		public void pay(long id) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UnknownParameterOfSeveral {

		@Bean
		UnknownParameterOfSeveral bean() {
			return new UnknownParameterOfSeveral();
		}

		@Exclusive({ "account:#from", "account:#other" })
		public void transfer(String from, String to) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class BrokenTemplate {

		@Exclusive("order:#{#id")
		public void pay(long id) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class BothAnnotations {

		@Exclusive("a")
		@Semaphore(value = "a", permits = 2)
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class SharedAndExclusive {

		@Exclusive("a")
		@Shared("a")
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class NoPermits {

		@Semaphore("a")
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class BadDuration {

		@Exclusive(value = "a", waitTimeString = "soon")
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class MissingDurationPlaceholder {

		@Exclusive(value = "a", ttlString = "${missing.ttl}")
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class HugeTtlString {

		@Exclusive(value = "a", ttlString = "3650000d")
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class HugeWaitTime {

		@Exclusive(value = "a", waitTime = Long.MAX_VALUE, timeUnit = java.util.concurrent.TimeUnit.DAYS)
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class MissingPlaceholder {

		@Semaphore(value = "a", permitsString = "${missing.permits}")
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class SkipPrimitive {

		@Exclusive(value = "a", onContention = ContentionPolicy.SKIP)
		public int count() {
			return 1;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class CancelSync {

		@Exclusive(value = "a", onLost = LostPolicy.CANCEL)
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class InterruptAsync {

		@Exclusive(value = "a", onLost = LostPolicy.INTERRUPT)
		public CompletableFuture<Void> work() {
			return CompletableFuture.completedFuture(null);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ShortTtl {

		@Exclusive(value = "a", ttl = 1000)
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UnknownParameterInDescription {

		@Shared(value = "rates", description = "import of #date")
		public void read(String day) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class BrokenDescription {

		@Semaphore(value = "reports", permits = 2, description = "import #{#day")
		public void work(String day) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class LongDescription {

		@Exclusive(value = "a", description = "d" + LongDescription.HUNDRED + LongDescription.HUNDRED)
		public void work() {
		}

		static final String HUNDRED = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";

	}

	@Configuration(proxyBeanMethods = false)
	static class ZeroMaxHold {

		@Exclusive(value = "a", maxHold = 0)
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class MaxHoldBelowMinHold {

		@Semaphore(value = "a", permits = 2, minHoldString = "2s", maxHoldString = "1s")
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class MinHoldAboveDefaultMaxHold {

		@Exclusive(value = "a", minHold = 2, timeUnit = TimeUnit.SECONDS)
		public void work() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ResolvedPlaceholders {

		@Semaphore(value = "a", permitsString = "${jobs.permits}", waitTimeString = "${jobs.wait}")
		public void work() {
		}

	}

}
