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

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import dev.latchkey.LockSettings;
import dev.latchkey.actuate.LockAuditListener;

/**
 * Auto-configuration that records lock events in the application's
 * {@link AuditEventRepository}, with {@code latchkey.audit.enabled=true}.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class,
		afterName = "org.springframework.boot.actuate.autoconfigure.audit.AuditAutoConfiguration")
@ConditionalOnClass(AuditEventRepository.class)
@ConditionalOnBean(AuditEventRepository.class)
@ConditionalOnBooleanProperty("latchkey.audit.enabled")
public final class LatchkeyAuditAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	LockAuditListener lockAuditListener(AuditEventRepository auditEventRepository,
			ObjectProvider<LockSettings> settings) {
		LockSettings lockSettings = settings.getIfAvailable();
		return new LockAuditListener(auditEventRepository, lockSettings != null && lockSettings.showKeysInMessages());
	}

}
