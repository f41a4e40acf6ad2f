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

/**
 * One contender's figures in a harness's run, as {@link BenchmarkSuite} collects them:
 * single-thread uncontended acquire+release (percentiles and throughput), what a client
 * sends per acquire+release, and the throughput of threads contending for one key. A
 * figure a harness does not measure for a contender is {@link Double#NaN}.
 *
 * <pre class="code">
 * BenchmarkResult result = BenchmarkResult.of("Redis", "Latchkey LockTemplate", timings, 2.0, "commands",
 *         contendedOpsPerSecond);
 * </pre>
 *
 * @param backend the backend, or server, measured: {@code "Redis"}, {@code "etcd"}
 * @param contender who is measured: the floor, Latchkey or a peer library
 * @param p50Micros the median uncontended acquire+release, in microseconds
 * @param p99Micros the 99th percentile, in microseconds
 * @param opsPerSecond uncontended acquire+releases per second on one thread
 * @param requestsPerOp what a client sends per acquire+release ({@code requestUnit})
 * @param requestUnit what {@code requestsPerOp} counts: commands, gRPC calls, statements
 * @param contendedOpsPerSecond operations per second of the harness's threads contending
 * for one key
 */
record BenchmarkResult(String backend, String contender, double p50Micros, double p99Micros, double opsPerSecond,
		double requestsPerOp, String requestUnit, double contendedOpsPerSecond) {

	static BenchmarkResult of(String backend, String contender, Measurements.Timings timings, double requestsPerOp,
			String requestUnit, double contendedOpsPerSecond) {
		return new BenchmarkResult(backend, contender, timings.percentileMicros(0.5), timings.percentileMicros(0.99),
				timings.perSecond(), requestsPerOp, requestUnit, contendedOpsPerSecond);
	}

	BenchmarkResult withContendedOpsPerSecond(double contendedOpsPerSecond) {
		return new BenchmarkResult(this.backend, this.contender, this.p50Micros, this.p99Micros, this.opsPerSecond,
				this.requestsPerOp, this.requestUnit, contendedOpsPerSecond);
	}

	/**
	 * Whether the contender is Latchkey itself rather than a floor or a peer.
	 * @return whether the contender's name starts with "Latchkey"
	 */
	boolean isLatchkey() {
		return this.contender.startsWith("Latchkey");
	}

	/**
	 * Whether the contender is a floor: raw requests, no lock library.
	 * @return whether the contender's name starts with "floor"
	 */
	boolean isFloor() {
		return this.contender.startsWith("floor");
	}

}
