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

package dev.latchkey.etcd;

import java.net.URI;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

import io.etcd.jetcd.Client;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A key namespace of a test class's own on a shared etcd server, with a client connected
 * before the class's tests; afterwards every key of the namespace is deleted and the
 * client closed, so that runs sharing the server do not meet.
 *
 * <pre class="code">
 * &#64;RegisterExtension
 * static final EtcdNamespace etcd = new EtcdNamespace("latchkey-test-", TestServers::etcdEndpoints);
 *
 * EtcdLockRepository repository = new EtcdLockRepository(etcd.client(), etcd.name(), Duration.ofSeconds(5));
 * </pre>
 */
final class EtcdNamespace implements BeforeAllCallback, AfterAllCallback {

	private final String name;

	private final Supplier<List<URI>> endpoints;

	private @Nullable Client client;

	/**
	 * A namespace with a random name.
	 * @param prefix the start of the name, for example {@code latchkey-test-}
	 * @param endpoints the server's endpoints, asked for when the class's tests start
	 */
	EtcdNamespace(String prefix, Supplier<List<URI>> endpoints) {
		this.name = prefix + UUID.randomUUID() + "/";
		this.endpoints = endpoints;
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		this.client = EtcdTestSupport.client(this.endpoints.get());
	}

	@Override
	public void afterAll(ExtensionContext context) {
		if (this.client != null) {
			EtcdTestSupport.deleteNamespace(this.client, this.name);
			this.client.close();
			this.client = null;
		}
	}

	String name() {
		return this.name;
	}

	Client client() {
		if (this.client == null) {
			throw new IllegalStateException("The client of " + this.name + " connects before the class's tests");
		}
		return this.client;
	}

}
