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

import org.springframework.boot.autoconfigure.condition.ConditionMessage;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.ConfigurationCondition;
import org.springframework.core.type.AnnotatedTypeMetadata;

import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

/**
 * The condition of {@link ConditionalOnLockBackend}: matches the backend
 * {@link BackendChoice} selects, and says why in the condition report ({@code --debug}),
 * for example
 * {@code @ConditionalOnLockBackend (redis) latchkey.backend is auto and selects jdbc: a DataSource bean is configured}.
 * <p>
 * Judged when beans are registered, not when configurations are parsed: whether the
 * application has a RedisConnectionFactory or a DataSource is known only then.
 */
class OnLockBackendCondition extends SpringBootCondition implements ConfigurationCondition {

	@Override
	public ConfigurationPhase getConfigurationPhase() {
		return ConfigurationPhase.REGISTER_BEAN;
	}

	@Override
	public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
		Backend backend = metadata.getAnnotations().get(ConditionalOnLockBackend.class).getEnum("value", Backend.class);
		BackendChoice choice = BackendChoice.resolve(
				new BackendRule.Context(context.getEnvironment(), context.getBeanFactory(), context.getClassLoader()));
		ConditionMessage message = ConditionMessage
			.forCondition(ConditionalOnLockBackend.class, "(" + backend.value() + ")")
			.because(choice.reason());
		return (choice.backend() == backend) ? ConditionOutcome.match(message) : ConditionOutcome.noMatch(message);
	}

}
