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
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnThreading;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.boot.task.ThreadPoolTaskSchedulerBuilder;
import org.springframework.boot.thread.Threading;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;

import dev.latchkey.LeaseMode;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockObserver;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.interceptor.LockAnnotationBeanPostProcessor;
import dev.latchkey.event.EventPublishingLockObserver;

/**
 * Auto-configuration for Latchkey: a {@link LockTemplate} on the configured backend,
 * publishing Latchkey's events and renewing its leases on a scheduler built with Spring
 * Boot's builders (virtual threads when the application enables them), and the
 * post-processor that applies {@code @Exclusive}, {@code @Shared} and {@code @Semaphore}.
 * <p>
 * The {@link LockRepository} comes from the backend {@code latchkey.backend} selects
 * ({@link BackendChoice}): a backend it names, or with {@code auto} the single one the
 * application has configured (etcd, Redis, JDBC), else the embedded default (socket);
 * when {@code auto} finds more than one, the start fails and asks for
 * {@code latchkey.backend}. The backends' configurations are in
 * {@link LockRepositoryConfigurations}. Ordered after Spring Boot's Redis and DataSource
 * auto-configurations, whose beans it reuses.
 *
 * @since 0.1.0
 */
@AutoConfiguration(afterName = { "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
		"org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration" })
@EnableConfigurationProperties(LatchkeyProperties.class)
@Import(LockRepositoryConfigurations.class)
public final class LatchkeyAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	LockSettings lockSettings(LatchkeyProperties properties, Environment environment) {
		String applicationName = environment.getProperty("spring.application.name");
		String owner = (properties.getOwner() != null) ? properties.getOwner()
				: LockSettings.defaultOwner(applicationName);
		properties.checkDurations();
		try {
			LockSettings settings = new LockSettings(properties.getTtl(), properties.getWaitTime(),
					properties.getRenewInterval(), properties.getSafetyMargin(),
					properties.keyPrefixFor(applicationName), properties.getMaxKeyLength(), owner,
					properties.getWaiting().getInitialPollInterval(), properties.getWaiting().getMaxPollInterval(),
					properties.getMaxHold(), properties.isShowKeysInMessages(), properties.isFair());
			settings.checkTtl(settings.ttl());
			return settings;
		}
		catch (IllegalArgumentException ex) {
			throw new LockConfigurationException("Invalid latchkey.* configuration: " + ex.getMessage(),
					"Review latchkey.ttl, latchkey.renew-interval, latchkey.safety-margin, latchkey.wait-time,"
							+ " latchkey.key-prefix (which defaults to spring.application.name and ':'),"
							+ " latchkey.max-hold, latchkey.max-key-length and latchkey.waiting.*",
					ex);
		}
	}

	@Bean
	@ConditionalOnMissingBean(LockTemplate.class)
	@ConditionalOnThreading(Threading.PLATFORM)
	LeaseRenewalScheduler latchkeyLeaseRenewalScheduler(ObjectProvider<ThreadPoolTaskSchedulerBuilder> builder) {
		return LeaseRenewalScheduler.platform(builder.getIfAvailable(ThreadPoolTaskSchedulerBuilder::new));
	}

	@Bean
	@ConditionalOnMissingBean(LockTemplate.class)
	@ConditionalOnThreading(Threading.VIRTUAL)
	LeaseRenewalScheduler latchkeyVirtualLeaseRenewalScheduler(
			ObjectProvider<SimpleAsyncTaskSchedulerBuilder> builder) {
		return LeaseRenewalScheduler.virtual(builder.getIfAvailable(SimpleAsyncTaskSchedulerBuilder::new));
	}

	@Bean(destroyMethod = "close")
	@ConditionalOnMissingBean
	LockTemplate lockTemplate(LockRepository lockRepository, LockSettings lockSettings,
			ApplicationEventPublisher eventPublisher, ObjectProvider<LockObserver> lockObserver,
			LeaseRenewalScheduler renewalScheduler, LatchkeyProperties properties,
			ConfigurableListableBeanFactory beanFactory, Environment environment) {
		BackendReport.log(lockRepository, properties, beanFactory);
		// The application's observer (Micrometer's, say) is told first, then the
		// listeners of the events hear.
		LockObserver observer = LockObserver.composite(lockObserver.getIfUnique(),
				new EventPublishingLockObserver(eventPublisher));
		// Renewals on the keeper's scheduler; the releases of lost answers on a thread of
		// the template's own, virtual when the application's threads are.
		LockTemplate template = new LockTemplate(lockRepository, lockSettings, observer, renewalScheduler.scheduler(),
				BackendThreads.threadFactory(environment, "latchkey-orphan-release-"));
		if (lockSettings.fair()) {
			// Refused at startup where the backend keeps no queue, rather than at the
			// first
			// lock.
			try {
				template.checkFair(LeaseMode.EXCLUSIVE, "latchkey.fair=true");
			}
			catch (LockConfigurationException ex) {
				template.close();
				throw ex;
			}
		}
		return template;
	}

	@Bean
	@ConditionalOnMissingBean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	static LockAnnotationBeanPostProcessor lockAnnotationBeanPostProcessor(ObjectProvider<LockTemplate> lockTemplate) {
		return new LockAnnotationBeanPostProcessor(lockTemplate::getObject);
	}

}
