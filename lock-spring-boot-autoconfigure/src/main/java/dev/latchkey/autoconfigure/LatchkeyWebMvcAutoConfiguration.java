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

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.web.servlet.DispatcherServlet;

import dev.latchkey.web.LockProblemDetailsExceptionHandler;

/**
 * Auto-configuration that answers Latchkey's exceptions in Spring MVC applications as
 * problem details ({@link LockProblemDetailsExceptionHandler}): {@code 409 Conflict} for
 * a lock held elsewhere, {@code 503} for a lock lost. Off with
 * {@code latchkey.web.problem-details.enabled=false}; the application's own exception
 * handlers for these exceptions win, and so does its own bean of the handler's type.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = LatchkeyAutoConfiguration.class)
@ConditionalOnWebApplication(type = Type.SERVLET)
@ConditionalOnClass(DispatcherServlet.class)
@ConditionalOnBooleanProperty(name = "latchkey.web.problem-details.enabled", matchIfMissing = true)
@EnableConfigurationProperties(LatchkeyProperties.class)
public final class LatchkeyWebMvcAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	LockProblemDetailsExceptionHandler latchkeyProblemDetailsExceptionHandler(LatchkeyProperties properties) {
		LatchkeyProperties.Web.ProblemDetails problemDetails = properties.getWeb().getProblemDetails();
		return new LockProblemDetailsExceptionHandler(problemDetails.getShowKey(), problemDetails.getRoles(),
				problemDetails.getRetryAfter());
	}

}
