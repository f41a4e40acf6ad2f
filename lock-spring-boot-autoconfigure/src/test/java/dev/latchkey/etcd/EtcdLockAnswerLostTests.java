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

import java.time.Duration;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import io.etcd.jetcd.Client;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * An acquire transaction that etcd applied but whose answer came after the request
 * timeout: the caller got a {@link LockBackendException}, etcd holds the key.
 * {@link LockTemplate} gives the token back, so the key is free again long before the
 * lock's TTL (without it, the repository's expiry sweep deletes the key only when the TTL
 * has passed). The answer is delayed by a client interceptor; the etcd server is the real
 * one.
 */
@Timeout(60)
class EtcdLockAnswerLostTests {

	@Test
	void acquireWhoseAnswerCameAfterTheTimeoutLeavesTheKeyFreeLongBeforeItsTtl() {
		String namespace = "answer-lost-" + UUID.randomUUID() + "/";
		AtomicBoolean delayNextTxnAnswer = new AtomicBoolean();
		try (Client delaying = Client.builder()
			.endpoints(TestServers.etcdEndpoints())
			.interceptor(new DelayingInterceptor(delayNextTxnAnswer, Duration.ofSeconds(3)))
			.build();
				Client other = EtcdTestSupport.client(TestServers.etcdEndpoints());
				EtcdLockRepository repository = new EtcdLockRepository(delaying, namespace, Duration.ofSeconds(2));
				EtcdLockRepository next = new EtcdLockRepository(other, namespace, Duration.ofSeconds(5));
				LockTemplate locks = new LockTemplate(repository,
						LockSettings.defaults().withOwner("lost-answer").withTtl(Duration.ofSeconds(60)), null)) {
			// Connected, and the shared lease of the 60 s class granted, before the
			// answer that is lost.
			LeaseSpec warmUp = LeaseSpec.exclusive("warm-up", "warm-up", "warm-" + UUID.randomUUID(),
					Duration.ofSeconds(60));
			assertThat(repository.tryAcquire(warmUp)).isPresent();
			assertThat(repository.release(warmUp)).isTrue();
			delayNextTxnAnswer.set(true);
			assertThatExceptionOfType(LockBackendException.class)
				.isThrownBy(() -> locks.exclusive("answer-lost").acquire())
				.withMessageContaining("no answer within 2000 ms");
			LeaseSpec spec = LeaseSpec.exclusive("answer-lost", "next", "next-" + UUID.randomUUID(),
					Duration.ofSeconds(30));
			OptionalLong[] granted = { OptionalLong.empty() };
			Awaitility.await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(50)).until(() -> {
				granted[0] = next.tryAcquire(spec);
				return granted[0].isPresent();
			});
			assertThat(next.release(spec)).isTrue();
			EtcdTestSupport.deleteNamespace(other, namespace);
		}
	}

	/**
	 * Holds back the answer of the next KV transaction, once armed: the request reaches
	 * etcd at once.
	 */
	private static final class DelayingInterceptor implements ClientInterceptor {

		private final AtomicBoolean armed;

		private final Duration delay;

		DelayingInterceptor(AtomicBoolean armed, Duration delay) {
			this.armed = armed;
			this.delay = delay;
		}

		@Override
		public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
			ClientCall<Q, A> call = next.newCall(method, options);
			if (!method.getFullMethodName().endsWith("/Txn") || !this.armed.compareAndSet(true, false)) {
				return call;
			}
			long delayMillis = this.delay.toMillis();
			return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {

				@Override
				public void start(Listener<A> listener, Metadata headers) {
					super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {

						@Override
						public void onMessage(A message) {
							sleep(delayMillis);
							super.onMessage(message);
						}

					}, headers);
				}

			};
		}

		private static void sleep(long millis) {
			try {
				Thread.sleep(millis);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}
