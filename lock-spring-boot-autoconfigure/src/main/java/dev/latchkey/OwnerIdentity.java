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

package dev.latchkey;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;
import org.springframework.util.StringUtils;

/**
 * Who this process is as a lock owner, and the source of lease tokens.
 * <p>
 * The owner name is descriptive ({@code billing@host-1:4711}): it is what inspection
 * shows. Ownership itself is the token of each acquisition: a random 96-bit prefix drawn
 * once per process, then a counter, so tokens are unique across processes and cheap to
 * make.
 *
 * <pre class="code">
 * OwnerIdentity identity = new OwnerIdentity(OwnerIdentity.defaultOwner("billing"));
 * String token = identity.nextToken();
 * </pre>
 */
final class OwnerIdentity {

	private final String owner;

	private final String tokenPrefix;

	private final AtomicLong counter = new AtomicLong();

	OwnerIdentity(String owner) {
		Assert.hasText(owner, "Owner must not be empty");
		this.owner = owner;
		byte[] random = new byte[12];
		new SecureRandom().nextBytes(random);
		this.tokenPrefix = Base64.getUrlEncoder().withoutPadding().encodeToString(random) + ".";
	}

	/**
	 * The default owner name: {@code application@host:pid}, or {@code host:pid} without
	 * an application name.
	 * @param applicationName the application's name, or {@code null}
	 * @return the owner name
	 */
	static String defaultOwner(@Nullable String applicationName) {
		String host = hostName();
		String process = host + ":" + ProcessHandle.current().pid();
		return StringUtils.hasText(applicationName) ? applicationName + "@" + process : process;
	}

	private static String hostName() {
		String fromEnvironment = System.getenv("HOSTNAME");
		if (StringUtils.hasText(fromEnvironment)) {
			return fromEnvironment;
		}
		try {
			return InetAddress.getLocalHost().getHostName();
		}
		catch (UnknownHostException ex) {
			return "localhost";
		}
	}

	/**
	 * The owner name.
	 * @return the owner name
	 */
	String owner() {
		return this.owner;
	}

	/**
	 * A token no other acquisition, in this process or another, has used.
	 * @return a new token
	 */
	String nextToken() {
		return this.tokenPrefix + Long.toString(this.counter.incrementAndGet(), 36);
	}

}
