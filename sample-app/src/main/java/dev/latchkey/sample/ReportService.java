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

import java.time.Instant;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.stereotype.Service;

import dev.latchkey.LockContext;
import dev.latchkey.annotation.Semaphore;

/**
 * Builds reports, at most two at a time across every instance, because each one is heavy
 * on the database.
 */
@Service
public class ReportService {

	private static final Log logger = LogFactory.getLog(ReportService.class);

	private final SampleProperties properties;

	public ReportService(SampleProperties properties) {
		this.properties = properties;
	}

	/**
	 * Builds a report. A third concurrent call waits for a permit up to
	 * {@code sample.report-wait}, then fails with
	 * {@link dev.latchkey.LockNotAcquiredException}. Each permit carries a description
	 * ({@code "report 2025-01"}) that the {@code locks} endpoint shows beside its owner
	 * (masked as the owner is).
	 * @param month the month to report on, for example {@code 2025-01}
	 * @return the report
	 */
	@Semaphore(value = "reports", permits = 2, waitTimeString = "${sample.report-wait:5s}",
			description = "report #month")
	public Report build(String month) {
		logger.info("Building report " + month + " (fencing token " + LockContext.fencingToken() + ")");
		SimulatedWork.take(this.properties.getReportDuration());
		return new Report(month, LockContext.fencingToken(), Instant.now());
	}

	/**
	 * A built report.
	 *
	 * @param month the month
	 * @param fencingToken the fencing token of the permit the report was built under
	 * @param builtAt when the report was finished
	 */
	public record Report(String month, long fencingToken, Instant builtAt) {
	}

}
