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

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.event.EventListener;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.latchkey.LockContext;
import dev.latchkey.annotation.ContentionPolicy;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.event.LockNotAcquiredEvent;

/**
 * A scheduled job that must run on one instance only: every instance schedules it, the
 * first to take the lock runs it, the others skip that tick. The minimum hold time keeps
 * the lock for a while after a quick run, so that an instance whose clock is a little
 * late does not run the same tick again.
 * <p>
 * Here the minimum hold ({@code sample.cleanup-min-hold}, 15s) is longer than the
 * interval ({@code sample.cleanup-interval}, 10s), so that a single instance shows both
 * outcomes: it runs, skips the next tick, runs again. The maximum hold time
 * ({@code sample.cleanup-max-hold}, 1m) bounds a run that hangs: its lease is then lost
 * (the run is interrupted) and given back, so that the next tick, here or on another
 * instance, can run.
 */
@Component
public class CleanupJob {

	static final String LOCK = "nightly-cleanup";

	private static final Log logger = LogFactory.getLog(CleanupJob.class);

	@Scheduled(fixedRateString = "${sample.cleanup-interval:10s}")
	@Exclusive(value = LOCK, onContention = ContentionPolicy.SKIP, minHoldString = "${sample.cleanup-min-hold:15s}",
			maxHoldString = "${sample.cleanup-max-hold:1m}")
	public void cleanUp() {
		logger.info("Cleanup ran (fencing token " + LockContext.fencingToken() + ")");
	}

	/**
	 * A skipped run never enters {@link #cleanUp()}; the contention event tells it.
	 * @param event the event of the lock not acquired
	 */
	@EventListener(condition = "#event.name == '" + LOCK + "'")
	public void skipped(LockNotAcquiredEvent event) {
		logger.info("Cleanup skipped: lock '" + event.getKey() + "' is held elsewhere or within its minimum hold time");
	}

}
