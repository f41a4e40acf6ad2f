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

import java.lang.reflect.Method;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.util.ReflectionUtils;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockKeyException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link KeyTemplate}.
 */
class KeyTemplateTests {

	private static final Method pay = ReflectionUtils.findMethod(Orders.class, "pay", long.class, Order.class);

	private static final String[] names = { "id", "order" };

	private static final Order order = new Order(new Customer("c-7", List.of("gold", "eu")), "EUR");

	@Test
	void literalTextStaysAsWritten() {
		KeyTemplate template = parse("nightly-report");
		assertThat(template.isConstant()).isTrue();
		assertThat(template.evaluate(new Object[] { 1L, order })).isEqualTo("nightly-report");
	}

	@Test
	void parameterRunIsReplacedByTheArgument() {
		assertThat(parse("order:#id").evaluate(new Object[] { 42L, order })).isEqualTo("order:42");
	}

	@Test
	void propertyRunReadsNestedProperties() {
		assertThat(parse("customer:#order.customer.id:#order.currency").evaluate(new Object[] { 1L, order }))
			.isEqualTo("customer:c-7:EUR");
	}

	@Test
	void runEndsAtADotThatIsNotFollowedByALetter() {
		assertThat(parse("file-#id.").evaluate(new Object[] { 3L, order })).isEqualTo("file-3.");
	}

	@Test
	void positionalNamesWorkWithAndWithoutCompiledParameterNames() {
		assertThat(parse("#p0/#a1.currency").evaluate(new Object[] { 5L, order })).isEqualTo("5/EUR");
		KeyTemplate withoutNames = KeyTemplate.parse("#p0-#a1.currency", pay, "Orders.pay(long, Order)", null);
		assertThat(withoutNames.evaluate(new Object[] { 5L, order })).isEqualTo("5-EUR");
	}

	@Test
	void bracedExpressionMayUseMethodsOperatorsAndBraces() {
		KeyTemplate template = parse(
				"#{#order.customer.tags[0].toUpperCase()}-#{#id > 10 ? 'big' : 'small'}-#{{1,2}.size()}");
		assertThat(template.evaluate(new Object[] { 42L, order })).isEqualTo("GOLD-big-2");
	}

	@Test
	void doubleHashIsALiteralHash() {
		assertThat(parse("tag###id").evaluate(new Object[] { 9L, order })).isEqualTo("tag#9");
	}

	@Test
	void nullArgumentIsAClearErrorNamingTheSegment() {
		assertThatExceptionOfType(LockKeyException.class)
			.isThrownBy(() -> parse("order:#order").evaluate(new Object[] { 1L, null }))
			.withMessageContaining("'order:#order'")
			.withMessageContaining("Orders.pay(long, Order)")
			.withMessageContaining("'#order' evaluated to null");
	}

	@Test
	void argumentWhoseToStringThrowsIsAKeyErrorNamingTheMethodAndParameter() {
		Object broken = new Object() {
			@Override
			public String toString() {
				throw new IllegalStateException("not ready");
			}
		};
		assertThatExceptionOfType(LockKeyException.class)
			.isThrownBy(() -> parse("order:#order").evaluate(new Object[] { 1L, broken }))
			.withMessageContaining("Orders.pay(long, Order)")
			.withMessageContaining("parameter 'order'")
			.withMessageContaining("not ready")
			.withCauseInstanceOf(IllegalStateException.class);
		assertThatExceptionOfType(LockKeyException.class)
			.isThrownBy(() -> parse("order:#{#order}").evaluate(new Object[] { 1L, broken }))
			.withMessageContaining("Orders.pay(long, Order)")
			.withMessageContaining("'#{#order}'");
	}

	@Test
	void nullPropertyIsAClearErrorNamingTheSegment() {
		Order anonymous = new Order(new Customer(null, List.of()), "EUR");
		assertThatExceptionOfType(LockKeyException.class)
			.isThrownBy(() -> parse("customer:#order.customer.id").evaluate(new Object[] { 1L, anonymous }))
			.withMessageContaining("'#order.customer.id' evaluated to null");
	}

	@Test
	void propertyOfANullIntermediateIsAClearError() {
		Order noCustomer = new Order(null, "EUR");
		assertThatExceptionOfType(LockKeyException.class)
			.isThrownBy(() -> parse("customer:#order.customer.id").evaluate(new Object[] { 1L, noCustomer }))
			.withMessageContaining("'#order.customer.id' could not be evaluated");
	}

	@Test
	void unknownParameterFailsNamingTheMethodAndTheKnownNames() {
		assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> parse("order:#orderId"))
			.withMessageContaining("Orders.pay(long, Order)")
			.withMessageContaining("unknown parameter 'orderId'")
			.satisfies((ex) -> assertThat(ex.getAction()).contains("id", "order", "p0", "a1"));
	}

	@Test
	void unknownVariableInsideAnExpressionFails() {
		assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> parse("#{#missing.id}"))
			.withMessageContaining("unknown parameter 'missing'");
	}

	@Test
	void positionBeyondTheArgumentsFails() {
		assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> parse("#p2"))
			.withMessageContaining("unknown parameter 'p2'");
	}

	@Test
	void unclosedExpressionFails() {
		assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> parse("order:#{#id"))
			.withMessageContaining("never closed");
	}

	@Test
	void expressionThatDoesNotParseFails() {
		assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> parse("#{#id +}"))
			.withMessageContaining("does not parse");
	}

	@Test
	void strayHashFails() {
		assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> parse("order #1"))
			.withMessageContaining("'#' at position 6")
			.satisfies((ex) -> assertThat(ex.getAction()).contains("##"));
	}

	@Test
	void emptyTemplateFails() {
		assertThatExceptionOfType(LockConfigurationException.class).isThrownBy(() -> parse(""))
			.withMessageContaining("is empty");
	}

	@Test
	void typeReferencesConstructorsBeanReferencesAndAssignmentsAreRejected() {
		for (String forbidden : List.of("#{T(java.lang.Runtime).getRuntime()}", "#{new java.io.File('x')}",
				"#{@dataSource}", "#{#id = 3}")) {
			assertThatExceptionOfType(LockConfigurationException.class).as(forbidden)
				.isThrownBy(() -> parse(forbidden))
				.withMessageContaining("do not allow");
		}
	}

	private static KeyTemplate parse(String template) {
		return KeyTemplate.parse(template, pay, "Orders.pay(long, Order)", names);
	}

	record Customer(String id, List<String> tags) {
	}

	record Order(Customer customer, String currency) {
	}

	static class Orders {

		void pay(long id, Order order) {
		}

	}

}
