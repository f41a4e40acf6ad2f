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

import java.util.LinkedHashSet;
import java.util.Set;

import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.context.properties.ConfigurationProperties;

import dev.latchkey.actuate.LocksEndpoint;

/**
 * Settings of the {@code locks} endpoint ({@link LocksEndpoint}), under Spring Boot's
 * usual prefix for an endpoint, like {@code management.endpoint.env.show-values}:
 *
 * <pre class="code">
 * management.endpoint.locks.show-values=when-authorized
 * management.endpoint.locks.roles=OPS
 * </pre>
 *
 * @since 0.1.0
 */
@ConfigurationProperties("management.endpoint.locks")
public class LocksEndpointProperties {

	/**
	 * When to show the owner names of lock holders (application, host and process id),
	 * their descriptions and the listed keys rather than mask them.
	 */
	private Show showValues = Show.NEVER;

	/**
	 * Roles of which a caller needs one to see owner names, descriptions and keys with
	 * 'when-authorized'; any authenticated caller when empty.
	 */
	private final Set<String> roles = new LinkedHashSet<>();

	public Show getShowValues() {
		return this.showValues;
	}

	public void setShowValues(Show showValues) {
		this.showValues = showValues;
	}

	public Set<String> getRoles() {
		return this.roles;
	}

}
