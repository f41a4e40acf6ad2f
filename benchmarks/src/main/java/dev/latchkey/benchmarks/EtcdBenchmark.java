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

package dev.latchkey.benchmarks;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import org.jspecify.annotations.Nullable;

import dev.latchkey.LeaseSpec;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.etcd.EtcdLockRepository;

/**
 * The etcd backend next to the floor of two raw jetcd transactions and jetcd's own
 * {@code Lock} client, against the same etcd, in one run.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.latchkey.benchmarks.EtcdBenchmark [http://host:port[,...]] [iterations]
 * </pre>
 * <p>
 * For each contender: single-thread uncontended acquire+release latency (percentiles) and
 * throughput, the gRPC calls a client makes per acquire+release (counted by a client
 * interceptor; the lease keep-alive stream of Latchkey's shared leases is one long-lived
 * call and not counted per operation), and the throughput of 8 threads contending for one
 * key (two repositories, as two processes would).
 */
public final class EtcdBenchmark {

	private static final int CONTENDERS = 8;

	private static final Duration CONTENDED_RUN = Duration.ofSeconds(5);

	private static final AtomicLong calls = new AtomicLong();

	private final PrintStream out;

	private final Duration contendedRun;

	private final List<BenchmarkResult> results = new ArrayList<>();

	private EtcdBenchmark(PrintStream out, Duration contendedRun) {
		this.out = out;
		this.contendedRun = contendedRun;
	}

	public static void main(String[] args) throws Exception {
		String endpoints = (args.length > 0) ? args[0]
				: System.getenv().getOrDefault("LATCHKEY_TEST_ETCD_ENDPOINTS", "http://127.0.0.1:2379");
		int iterations = (args.length > 1) ? Integer.parseInt(args[1]) : 5_000;
		measure(endpoints, iterations, CONTENDED_RUN, new ArrayList<>(), System.out);
	}

	/**
	 * Runs every contender, printing the table as {@link #main} does.
	 * @param endpoints the etcd endpoints, separated by commas
	 * @param iterations the timed acquire+releases per contender
	 * @param contendedRun how long to count the contended throughput, and the
	 * readers-heavy workload
	 * @param readersHeavy where to add the readers-heavy figures of Latchkey
	 * @param out where to print the table
	 * @return each contender's figures
	 * @throws Exception if a contender fails
	 */
	static List<BenchmarkResult> measure(String endpoints, int iterations, Duration contendedRun,
			List<ReadersHeavy.Result> readersHeavy, PrintStream out) throws Exception {
		String namespace = "bench-" + UUID.randomUUID() + "/";
		Client client = client(endpoints);
		Client other = client(endpoints);
		EtcdLockRepository repository = new EtcdLockRepository(client, namespace, Duration.ofSeconds(5));
		EtcdLockRepository otherRepository = new EtcdLockRepository(other, namespace, Duration.ofSeconds(5));
		LockSettings settings = LockSettings.defaults().withOwner("bench").withWaitTime(Duration.ofSeconds(30));
		try (LockTemplate template = new LockTemplate(repository, settings, null);
				LockTemplate otherTemplate = new LockTemplate(otherRepository, settings, null)) {
			EtcdBenchmark benchmark = new EtcdBenchmark(out, contendedRun);
			benchmark.out.printf(Locale.ROOT, "etcd at %s, %d iterations, %d contenders for %s, JDK %s%n", endpoints,
					iterations, CONTENDERS, contendedRun, System.getProperty("java.version"));
			benchmark.out.printf(Locale.ROOT, "%-50s %10s %10s %10s %12s %10s %14s%n", "contender", "p50 us", "p90 us",
					"p99 us", "ops/s (1 t)", "calls/op", "ops/s (8 t)");
			KV kv = client.getKVClient();
			long floorLease = client.getLeaseClient().grant(60).get().getID();
			ByteSequence floorKey = bytes(namespace + "floor");
			benchmark.run("floor: txn put-if-absent + txn delete-if-ours", iterations, () -> {
				ByteSequence value = bytes(UUID.randomUUID().toString());
				join(kv.txn()
					.If(new Cmp(floorKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
					.Then(Op.put(floorKey, value, PutOption.builder().withLeaseId(floorLease).build()))
					.commit());
				join(kv.txn()
					.If(new Cmp(floorKey, Cmp.Op.EQUAL, CmpTarget.value(value)))
					.Then(Op.delete(floorKey, DeleteOption.DEFAULT))
					.commit());
			}, null);
			benchmark.run("Latchkey EtcdLockRepository (SPI)", iterations, () -> {
				LeaseSpec lease = LeaseSpec.exclusive("bench", "bench", UUID.randomUUID().toString(),
						Duration.ofSeconds(30));
				repository.tryAcquire(lease);
				repository.release(lease);
			}, null);
			LockTemplate[] templates = { template, otherTemplate };
			AtomicLong turn = new AtomicLong();
			benchmark.run("Latchkey LockTemplate", iterations, () -> template.exclusive("bench").acquire().close(),
					() -> templates[(int) (turn.getAndIncrement() % 2)].exclusive("bench-contended")
						.run(Measurements::work));
			benchmark.run("Latchkey LockTemplate, two keys", iterations,
					() -> template.exclusive("bench", "bench-b").acquire().close(), null);
			benchmark.run("Latchkey LockTemplate, four keys", iterations,
					() -> template.exclusive("bench", "bench-b", "bench-c", "bench-d").acquire().close(), null);
			ByteSequence lockName = bytes(namespace + "jetcd-lock");
			benchmark.run("jetcd Lock client (lease grant + lock + unlock)", iterations, () -> {
				long lease = join(client.getLeaseClient().grant(30)).getID();
				ByteSequence owned = join(client.getLockClient().lock(lockName, lease)).getKey();
				join(client.getLockClient().unlock(owned));
			}, () -> {
				long lease = join(client.getLeaseClient().grant(30)).getID();
				ByteSequence owned = join(client.getLockClient().lock(bytes(namespace + "jetcd-contended"), lease))
					.getKey();
				Measurements.work();
				join(client.getLockClient().unlock(owned));
			});
			ThreadLocal<Long> threadLease = ThreadLocal
				.withInitial(() -> join(client.getLeaseClient().grant(60)).getID());
			benchmark.run("jetcd Lock client, lease granted once (lock + unlock)", iterations, () -> {
				ByteSequence owned = join(client.getLockClient().lock(lockName, threadLease.get())).getKey();
				join(client.getLockClient().unlock(owned));
			}, () -> {
				ByteSequence owned = join(
						client.getLockClient().lock(bytes(namespace + "jetcd-contended-once"), threadLease.get()))
					.getKey();
				Measurements.work();
				join(client.getLockClient().unlock(owned));
			});
			// Readers and the writer alternate between the two repositories, as two
			// processes.
			readersHeavy.add(ReadersHeavy.measure(
					"etcd", "Latchkey LockTemplate, two repositories", ReadersHeavy
						.alternating(ReadersHeavy.of(template, "bench-rw"), ReadersHeavy.of(otherTemplate, "bench-rw")),
					contendedRun, out));
			join(kv.delete(bytes(namespace), DeleteOption.builder().isPrefix(true).build()));
			return benchmark.results;
		}
		finally {
			repository.close();
			otherRepository.close();
			client.close();
			other.close();
		}
	}

	private static Client client(String endpoints) {
		return Client.builder().endpoints(endpoints.split(",")).interceptor(new CountingInterceptor()).build();
	}

	private void run(String name, int iterations, Runnable acquireRelease, @Nullable Runnable contended)
			throws Exception {
		Measurements.Timings timings = Measurements.time(acquireRelease, Math.max(iterations / 5, 500), iterations);
		long before = calls.get();
		int counted = 500;
		for (int i = 0; i < counted; i++) {
			acquireRelease.run();
		}
		double callsPerOp = (calls.get() - before) / (double) counted;
		double contendedOps = Measurements.contendedThroughputOrNaN(contended, CONTENDERS, this.contendedRun);
		this.out.printf(Locale.ROOT, "%-50s %10.1f %10.1f %10.1f %,12.0f %10.2f %s%n", name,
				timings.percentileMicros(0.5), timings.percentileMicros(0.9), timings.percentileMicros(0.99),
				timings.perSecond(), callsPerOp, Measurements.contendedColumn(contendedOps));
		this.results.add(BenchmarkResult.of("etcd", name, timings, callsPerOp, "gRPC calls", contendedOps));
	}

	private static <T> T join(java.util.concurrent.CompletableFuture<T> future) {
		try {
			return future.get(30, TimeUnit.SECONDS);
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static ByteSequence bytes(String text) {
		return ByteSequence.from(text, StandardCharsets.UTF_8);
	}

	/**
	 * Counts the gRPC calls the clients start: one per unary request, one per stream.
	 */
	private static final class CountingInterceptor implements ClientInterceptor {

		@Override
		public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
			calls.incrementAndGet();
			return next.newCall(method, options);
		}

	}

}
