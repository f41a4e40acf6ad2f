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

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.latchkey.LockConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LockConfigurationFailureAnalyzer}.
 */
class LockConfigurationFailureAnalyzerTests {

	@Test
	void describesTheProblemAndTheAction() {
		LockConfigurationException cause = new LockConfigurationException(
				"Lock key template 'order:#orderId' of @Exclusive on Orders.pay(long) names an unknown parameter 'orderId'",
				"Use one of the method's arguments: id, p0, a0");
		FailureAnalysis analysis = new LockConfigurationFailureAnalyzer()
			.analyze(new BeanCreationException("orders", "Initialization of bean failed", cause));
		assertThat(analysis).isNotNull();
		assertThat(analysis.getDescription()).contains("Orders.pay(long)", "'orderId'");
		assertThat(analysis.getAction()).isEqualTo("Use one of the method's arguments: id, p0, a0");
	}

	@Test
	void isRegisteredWithSpringBoot() throws Exception {
		String factories = new String(getClass().getResourceAsStream("/META-INF/spring.factories").readAllBytes());
		assertThat(factories).contains("org.springframework.boot.diagnostics.FailureAnalyzer",
				LockConfigurationFailureAnalyzer.class.getName());
	}

}
