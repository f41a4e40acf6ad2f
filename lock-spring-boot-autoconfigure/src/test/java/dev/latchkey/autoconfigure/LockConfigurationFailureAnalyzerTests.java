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
