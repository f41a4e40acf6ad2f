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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;

import dev.latchkey.test.TestServers;

/**
 * Clients for the etcd tests.
 */
final class EtcdTestSupport {

	private EtcdTestSupport() {
	}

	/**
	 * A jetcd client for endpoints, with a connect timeout short enough that a dead
	 * member fails a call quickly.
	 * @param endpoints the endpoints
	 * @return the client, to close after use
	 */
	static Client client(List<URI> endpoints) {
		return Client.builder().endpoints(endpoints).connectTimeout(Duration.ofSeconds(2)).build();
	}

	/**
	 * A jetcd client for the test server that counts the calls it makes (each request,
	 * and each stream opened), as the benchmarks count them.
	 * @param calls the counter
	 * @return the client, to close after use
	 */
	static Client countingClient(AtomicLong calls) {
		return Client.builder().endpoints(TestServers.etcdEndpoints()).interceptor(new ClientInterceptor() {
			@Override
			public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options,
					Channel next) {
				calls.incrementAndGet();
				return next.newCall(method, options);
			}
		}).build();
	}

	/**
	 * Deletes every key of a namespace, so that a shared server is left as it was.
	 * @param client the client
	 * @param namespace the namespace
	 */
	static void deleteNamespace(Client client, String namespace) {
		try {
			client.getKVClient()
				.delete(ByteSequence.from(namespace, StandardCharsets.UTF_8),
						DeleteOption.builder().isPrefix(true).build())
				.get(10, TimeUnit.SECONDS);
		}
		catch (Exception ex) {
			// Best effort: leases expire by themselves.
		}
	}

	/**
	 * The etcd keys of a namespace, every kind (holders, writer waits and anything else
	 * the backend writes there).
	 * @param client the client
	 * @param namespace the namespace
	 * @return the keys, as strings
	 * @throws Exception if etcd does not answer
	 */
	static List<String> keys(Client client, String namespace) throws Exception {
		return client.getKVClient()
			.get(ByteSequence.from(namespace, StandardCharsets.UTF_8),
					GetOption.builder().isPrefix(true).withKeysOnly(true).build())
			.get(10, TimeUnit.SECONDS)
			.getKvs()
			.stream()
			.map((entry) -> entry.getKey().toString(StandardCharsets.UTF_8))
			.toList();
	}

}
