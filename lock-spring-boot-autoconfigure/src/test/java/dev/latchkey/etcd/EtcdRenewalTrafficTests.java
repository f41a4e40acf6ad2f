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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.etcd.jetcd.Client;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockInfo;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Renewing the leases one repository holds costs etcd a fixed number of requests,
 * whatever their number (a keep-alive per TTL class and one read of the class's
 * revocations), and still reports each lease another instance force-released, and that
 * lease alone. Requests are counted by an interceptor of the holding repository's own
 * client; the other instance has a client of its own, as another process would.
 */
@Timeout(120)
class EtcdRenewalTrafficTests {

	private static final Duration TTL = Duration.ofSeconds(20);

	@RegisterExtension
	static final EtcdNamespace etcd = new EtcdNamespace("latchkey-renewal-", TestServers::etcdEndpoints);

	private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

	private Client counted;

	private EtcdLockRepository repository;

	private EtcdLockRepository other;

	@BeforeEach
	void repositories() {
		this.counted = Client.builder().endpoints(TestServers.etcdEndpoints()).interceptor(new ClientInterceptor() {
			@Override
			public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options,
					Channel next) {
				EtcdRenewalTrafficTests.this.calls
					.computeIfAbsent(method.getFullMethodName(), (m) -> new AtomicInteger())
					.incrementAndGet();
				return next.newCall(method, options);
			}
		}).build();
		this.repository = new EtcdLockRepository(this.counted, etcd.name(), Duration.ofSeconds(10));
		this.other = new EtcdLockRepository(etcd.client(), etcd.name(), Duration.ofSeconds(10));
	}

	@AfterEach
	void close() {
		this.repository.close();
		this.other.close();
		this.counted.close();
	}

	@Test
	void renewingAThousandLeasesOfEveryModeCostsTwoRequests() {
		List<LeaseSpec> held = hold("thousand", 1_000);
		LeaseSpec permit = LeaseSpec.semaphore("thousand-semaphore", 3, "holder", token(), TTL);
		LeaseSpec reader = LeaseSpec.shared("thousand-shared", "holder", token(), TTL);
		assertThat(this.repository.tryAcquirePermit(permit)).isPresent();
		assertThat(this.repository.tryAcquireShared(reader)).isPresent();
		held.add(permit);
		held.add(reader);
		this.calls.clear();
		assertThat(this.repository.renew(held)).isEmpty();
		assertThat(this.calls).as("requests of one renewal of %d leases, by method", held.size())
			.satisfies((byMethod) -> assertThat(total()).isLessThanOrEqualTo(2));
	}

	@Test
	void aLeaseForceReleasedByAnotherInstanceIsReportedLostAtTheNextRenewalAndNoOtherIs() {
		List<LeaseSpec> held = hold("evicted", 250);
		LeaseSpec first = LeaseSpec.semaphore("evicted-semaphore", 2, "holder", token(), TTL);
		LeaseSpec second = LeaseSpec.semaphore("evicted-semaphore", 2, "holder", token(), TTL);
		assertThat(this.repository.tryAcquirePermit(first)).isPresent();
		assertThat(this.repository.tryAcquirePermit(second)).isPresent();
		held.add(first);
		held.add(second);
		LeaseSpec evicted = held.get(17);
		assertThat(this.other.forceRelease(evicted.key())).isTrue();
		assertThat(this.other.forceRelease("evicted-semaphore")).isTrue();
		assertThat(this.repository.renew(held)).containsExactlyInAnyOrder(evicted.token(), first.token(),
				second.token());
		List<LeaseSpec> kept = new ArrayList<>(held);
		kept.removeAll(List.of(evicted, first, second));
		this.calls.clear();
		assertThat(this.repository.renew(kept)).isEmpty();
		assertThat(total()).as("requests of the next renewal").isLessThanOrEqualTo(2);
		assertThat(this.other.inspect(kept.get(17).key())).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("holder"));
		// The evicted holder cannot release the key's next holder.
		LeaseSpec next = LeaseSpec.exclusive(evicted.key(), "next", token(), TTL);
		assertThat(this.other.tryAcquire(next)).isPresent();
		assertThat(this.repository.release(evicted)).isFalse();
		assertThat(this.other.inspect(evicted.key())).hasValueSatisfying(
				(info) -> assertThat(info.holders()).extracting(LockInfo.Holder::owner).containsExactly("next"));
	}

	@Test
	void forceReleasesLeaveNothingOfTheirOwnInTheNamespace() throws Exception {
		List<LeaseSpec> held = hold("listed", 3);
		assertThat(this.other.forceRelease(held.get(0).key())).isTrue();
		assertThat(this.other.list()).extracting(LockInfo::key)
			.containsExactlyInAnyOrder(held.get(1).key(), held.get(2).key());
		assertThat(this.repository.renew(held)).containsExactly(held.get(0).token());
		assertThat(EtcdTestSupport.keys(etcd.client(), etcd.name())).as("etcd keys of the namespace").hasSize(2);
	}

	private List<LeaseSpec> hold(String prefix, int count) {
		List<LeaseSpec> held = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			LeaseSpec lease = LeaseSpec.exclusive(prefix + "-" + i, "holder", token(), TTL);
			assertThat(this.repository.tryAcquire(lease)).isPresent();
			held.add(lease);
		}
		return held;
	}

	private int total() {
		return this.calls.values().stream().mapToInt(AtomicInteger::get).sum();
	}

	private static String token() {
		return UUID.randomUUID().toString();
	}

}
