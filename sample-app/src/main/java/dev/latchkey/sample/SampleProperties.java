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

package dev.latchkey.sample;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * How long the sample's simulated work takes, so that locks are held long enough to race
 * them by hand.
 *
 * <pre class="code">
 * sample:
 *   payment-duration: 2s
 *   report-duration: 3s
 * </pre>
 * <p>
 * The wait time of the reports semaphore ({@code sample.report-wait}) and the cleanup
 * job's interval, minimum and maximum hold times ({@code sample.cleanup-interval},
 * {@code sample.cleanup-min-hold}, {@code sample.cleanup-max-hold}) are read by
 * placeholders in the annotations themselves.
 */
@ConfigurationProperties("sample")
public class SampleProperties {

	/**
	 * How long paying an order takes, while the order's lock is held.
	 */
	private Duration paymentDuration = Duration.ofSeconds(2);

	/**
	 * How long building a report takes, while a permit of the reports semaphore is held.
	 */
	private Duration reportDuration = Duration.ofSeconds(3);

	/**
	 * How long restocking an item takes, while the item's lock is held.
	 */
	private Duration restockDuration = Duration.ofMillis(200);

	/**
	 * How long a transfer between two accounts takes, while both accounts' locks are
	 * held.
	 */
	private Duration transferDuration = Duration.ofMillis(500);

	/**
	 * How long reading or writing a document takes, while its read/write lock is held.
	 */
	private Duration documentDuration = Duration.ofSeconds(2);

	public Duration getDocumentDuration() {
		return this.documentDuration;
	}

	public void setDocumentDuration(Duration documentDuration) {
		this.documentDuration = documentDuration;
	}

	public Duration getPaymentDuration() {
		return this.paymentDuration;
	}

	public void setPaymentDuration(Duration paymentDuration) {
		this.paymentDuration = paymentDuration;
	}

	public Duration getReportDuration() {
		return this.reportDuration;
	}

	public void setReportDuration(Duration reportDuration) {
		this.reportDuration = reportDuration;
	}

	public Duration getTransferDuration() {
		return this.transferDuration;
	}

	public void setTransferDuration(Duration transferDuration) {
		this.transferDuration = transferDuration;
	}

	public Duration getRestockDuration() {
		return this.restockDuration;
	}

	public void setRestockDuration(Duration restockDuration) {
		this.restockDuration = restockDuration;
	}

}
