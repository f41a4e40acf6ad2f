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

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

import dev.latchkey.annotation.LostPolicy;

/**
 * One lock, configured fluently and then used: made by
 * {@link LockTemplate#exclusive(String)},
 * {@link LockTemplate#exclusive(String, String...)} (several keys),
 * {@link LockTemplate#shared(String)} or {@link LockTemplate#semaphore(String, int)}.
 * Immutable: each {@code with}-style method returns a new operation, so an operation can
 * be kept in a field and reused.
 *
 * <pre class="code">
 * Receipt receipt = locks.exclusive("order:" + id)
 *     .named("order")
 *     .waitTime(Duration.ofSeconds(2))
 *     .call(() -&gt; payments.charge(id));
 *
 * boolean ran = locks.semaphore("reports", 4).tryRun(() -&gt; reports.build(month));
 * </pre>
 * <p>
 * Unset values fall back to the template's {@link LockSettings}.
 *
 * @since 0.1.0
 */
public final class LockOperation {

	private final LockTemplate template;

	private final List<String> keys;

	private final String name;

	private final LeaseMode mode;

	private final int permits;

	private final @Nullable Duration waitTime;

	private final @Nullable Duration ttl;

	private final Duration minHold;

	private final LostPolicy lostPolicy;

	private final @Nullable Duration maxHold;

	private final @Nullable String description;

	private final @Nullable Boolean fair;

	LockOperation(LockTemplate template, List<String> keys, LeaseMode mode, int permits) {
		this(template, keys, (keys.size() == 1) ? keys.get(0) : String.join(",", keys), mode, permits, null, null,
				Duration.ZERO, LostPolicy.DEFAULT, null, null, null);
	}

	private LockOperation(LockTemplate template, List<String> keys, String name, LeaseMode mode, int permits,
			@Nullable Duration waitTime, @Nullable Duration ttl, Duration minHold, LostPolicy lostPolicy,
			@Nullable Duration maxHold, @Nullable String description, @Nullable Boolean fair) {
		this.template = template;
		this.keys = keys;
		this.name = name;
		this.mode = mode;
		this.permits = permits;
		this.waitTime = waitTime;
		this.ttl = ttl;
		this.minHold = minHold;
		this.lostPolicy = lostPolicy;
		this.maxHold = maxHold;
		this.description = description;
		this.fair = fair;
	}

	/**
	 * Names the lock for events and metrics; defaults to the key (the keys joined by
	 * commas for a lock of several keys, whose every key's events carry this one name).
	 * Give keys with variable parts a fixed name.
	 * @param name the lock's name
	 * @return a new operation
	 */
	public LockOperation named(String name) {
		Assert.hasText(name, "Name must not be empty");
		return new LockOperation(this.template, this.keys, name, this.mode, this.permits, this.waitTime, this.ttl,
				this.minHold, this.lostPolicy, this.maxHold, this.description, this.fair);
	}

	/**
	 * How long to wait for the lock; zero makes a single attempt.
	 * @param waitTime the wait time
	 * @return a new operation
	 */
	public LockOperation waitTime(Duration waitTime) {
		Assert.isTrue(!waitTime.isNegative(), "Wait time must not be negative");
		Assert.isTrue(waitTime.compareTo(LockSettings.MAX_DURATION) <= 0, () -> "Wait time of " + waitTime
				+ " is longer than the longest allowed, " + LockSettings.MAX_DURATION.toDays() + " days");
		return new LockOperation(this.template, this.keys, this.name, this.mode, this.permits, waitTime, this.ttl,
				this.minHold, this.lostPolicy, this.maxHold, this.description, this.fair);
	}

	/**
	 * The lease's time-to-live at the backend; renewed while the lock is held.
	 * @param ttl the time-to-live
	 * @return a new operation
	 */
	public LockOperation ttl(Duration ttl) {
		this.template.settings().checkTtl(ttl);
		return new LockOperation(this.template, this.keys, this.name, this.mode, this.permits, this.waitTime, ttl,
				this.minHold, this.lostPolicy, this.maxHold, this.description, this.fair);
	}

	/**
	 * The least time the lock stays held after it was acquired, even if the work ends
	 * sooner.
	 * @param minHold the minimum hold time
	 * @return a new operation
	 */
	public LockOperation minHold(Duration minHold) {
		Assert.isTrue(!minHold.isNegative(), "Minimum hold time must not be negative");
		Assert.isTrue(minHold.compareTo(LockSettings.MAX_DURATION) <= 0, () -> "Minimum hold time of " + minHold
				+ " is longer than the longest allowed, " + LockSettings.MAX_DURATION.toDays() + " days");
		LockSettings.checkHoldTimes(minHold, this.maxHold, "maxHold");
		return new LockOperation(this.template, this.keys, this.name, this.mode, this.permits, this.waitTime, this.ttl,
				minHold, this.lostPolicy, this.maxHold, this.description, this.fair);
	}

	/**
	 * The longest the lease is held, renewals included; overrides
	 * {@code latchkey.max-hold}. At that limit renewal stops, the lease is lost with
	 * {@link LossReason#MAX_HOLD_EXCEEDED} (the {@code LockLostEvent} is published and
	 * the work is told as by {@link #onLost(LostPolicy)}) and it is given back at the
	 * backend, so that another instance may take the key while this one is stuck.
	 *
	 * <pre class="code">
	 * locks.exclusive("import").maxHold(Duration.ofMinutes(30)).run(() -&gt; importer.importAll());
	 * </pre>
	 * <p>
	 * It must not be shorter than the {@link #minHold(Duration) minimum hold time}.
	 * @param maxHold the maximum hold time, positive
	 * @return a new operation
	 * @throws IllegalArgumentException if it is not positive, longer than
	 * {@link LockSettings#MAX_DURATION} or shorter than the minimum hold time
	 */
	public LockOperation maxHold(Duration maxHold) {
		Assert.notNull(maxHold, "Maximum hold time must not be null");
		LockSettings.checkMaxHold(maxHold);
		LockSettings.checkHoldTimes(this.minHold, maxHold, "maxHold");
		return new LockOperation(this.template, this.keys, this.name, this.mode, this.permits, this.waitTime, this.ttl,
				this.minHold, this.lostPolicy, maxHold, this.description, this.fair);
	}

	/**
	 * Describes what the holder does, for whoever looks at the key: the backend stores
	 * the description with the lease, and {@link LockTemplate#inspect(String)} and the
	 * {@code locks} endpoint show it beside the owner (masked as the owner is), to every
	 * instance.
	 *
	 * <pre class="code">
	 * locks.exclusive("import").description("nightly import " + LocalDate.now()).run(() -&gt; importer.importAll());
	 * </pre>
	 * <p>
	 * A lock of several keys gives each of its leases the same description; a reentrant
	 * call keeps the description of the lease it re-enters.
	 * @param description the description, at most
	 * {@value LeaseSpec#MAX_DESCRIPTION_LENGTH} characters on one line (no control
	 * characters); {@code null} or empty for none
	 * @return a new operation
	 * @throws IllegalArgumentException if the description is too long or holds a control
	 * character
	 */
	public LockOperation description(@Nullable String description) {
		String checked = LeaseSpec.checkDescription(description);
		return new LockOperation(this.template, this.keys, this.name, this.mode, this.permits, this.waitTime, this.ttl,
				this.minHold, this.lostPolicy, this.maxHold, checked, this.fair);
	}

	/**
	 * Asks for a fair lock, or an unfair one; overrides {@code latchkey.fair}. A fair
	 * lock is granted to its waiters strictly in the order they asked, across every
	 * instance, where the backend keeps a queue: the socket backend (every mode), etcd
	 * and Redis (exclusive locks) and the memory backend (within its JVM). An unfair lock
	 * (the default) goes to whichever waiter asks first once it is free, which costs
	 * fewer requests and hands off faster, but lets a busy instance take it again and
	 * again.
	 *
	 * <pre class="code">
	 * locks.exclusive("ledger").fair(true).waitTime(Duration.ofSeconds(30)).run(() -&gt; ledger.post(entry));
	 * </pre>
	 * <p>
	 * On a backend without such a queue (JDBC), or for a mode the backend does not serve
	 * fairly, a fair lock fails when it is used with a {@link LockConfigurationException}
	 * that names the backends that honour it. A lock of several keys that is fair takes
	 * its keys one by one, each in its queue, rather than in one first attempt.
	 * @param fair whether the lock is fair
	 * @return a new operation
	 */
	public LockOperation fair(boolean fair) {
		return new LockOperation(this.template, this.keys, this.name, this.mode, this.permits, this.waitTime, this.ttl,
				this.minHold, this.lostPolicy, this.maxHold, this.description, fair);
	}

	/**
	 * What {@link #run}, {@link #call} and {@link #tryRun} do when the lease is lost
	 * while the work runs: {@link LostPolicy#INTERRUPT} (the default) or
	 * {@link LostPolicy#NOTIFY}.
	 * @param lostPolicy the lost policy
	 * @return a new operation
	 */
	public LockOperation onLost(LostPolicy lostPolicy) {
		Assert.isTrue(lostPolicy != LostPolicy.CANCEL,
				"LostPolicy.CANCEL applies to asynchronous results; use LockHandle.onLost to cancel your own work");
		return new LockOperation(this.template, this.keys, this.name, this.mode, this.permits, this.waitTime, this.ttl,
				this.minHold, lostPolicy, this.maxHold, this.description, this.fair);
	}

	/**
	 * Acquires the lock, waiting up to the wait time.
	 * @return the held lock, to close when done
	 * @throws LockNotAcquiredException if the lock stayed held elsewhere
	 */
	public LockHandle acquire() {
		LockHandle handle = this.template.acquire(this, true);
		Assert.state(handle != null, "Acquisition that throws on contention returned nothing");
		return handle;
	}

	/**
	 * Acquires the lock if it becomes free within the wait time.
	 * @return the held lock, or empty if it stayed held elsewhere
	 */
	public Optional<LockHandle> tryAcquire() {
		return Optional.ofNullable(this.template.acquire(this, false));
	}

	/**
	 * Runs a task under the lock.
	 * @param task the task
	 * @throws LockNotAcquiredException if the lock stayed held elsewhere
	 * @throws LockLostException if the lease was lost while the task ran (unless
	 * {@link LostPolicy#NOTIFY})
	 */
	public void run(Runnable task) {
		this.template.execute(this, () -> {
			task.run();
			return null;
		}, null);
	}

	/**
	 * Runs a task under the lock if the lock becomes free within the wait time.
	 * @param task the task
	 * @return {@code true} if the task ran, {@code false} if the lock stayed held
	 * elsewhere
	 * @throws LockLostException if the lease was lost while the task ran (unless
	 * {@link LostPolicy#NOTIFY})
	 */
	public boolean tryRun(Runnable task) {
		return Boolean.TRUE.equals(this.template.execute(this, () -> {
			task.run();
			return true;
		}, () -> false));
	}

	/**
	 * Calls a task under the lock.
	 * @param <T> the result type
	 * @param task the task
	 * @return the task's result
	 * @throws LockNotAcquiredException if the lock stayed held elsewhere
	 * @throws LockLostException if the lease was lost while the task ran (unless
	 * {@link LostPolicy#NOTIFY})
	 */
	public <T extends @Nullable Object> T call(Supplier<T> task) {
		return this.template.execute(this, task, null);
	}

	/**
	 * Calls a task under the lock, or a fallback if the lock stays held elsewhere for the
	 * whole wait time.
	 * @param <T> the result type
	 * @param task the task
	 * @param whenNotAcquired gives the result when the lock was not acquired
	 * @return the task's result, or the fallback's
	 * @throws LockLostException if the lease was lost while the task ran (unless
	 * {@link LostPolicy#NOTIFY})
	 */
	public <T extends @Nullable Object> T call(Supplier<T> task, Supplier<T> whenNotAcquired) {
		return this.template.execute(this, task, whenNotAcquired);
	}

	/**
	 * This operation narrowed to one of its keys, with what is left of its wait time.
	 */
	LockOperation forKey(String key, @Nullable Duration waitTime) {
		return new LockOperation(this.template, List.of(key), this.name, this.mode, this.permits, waitTime, this.ttl,
				this.minHold, this.lostPolicy, this.maxHold, this.description, this.fair);
	}

	String key() {
		return this.keys.get(0);
	}

	/**
	 * The keys as written, in the order given; more than one for a multi-key lock.
	 */
	List<String> keys() {
		return this.keys;
	}

	String name() {
		return this.name;
	}

	LeaseMode mode() {
		return this.mode;
	}

	int permits() {
		return this.permits;
	}

	@Nullable Duration waitTime() {
		return this.waitTime;
	}

	@Nullable Duration ttl() {
		return this.ttl;
	}

	Duration minHold() {
		return this.minHold;
	}

	LostPolicy lostPolicy() {
		return this.lostPolicy;
	}

	@Nullable Duration maxHold() {
		return this.maxHold;
	}

	@Nullable String description() {
		return this.description;
	}

	/**
	 * Whether the lock asked to be fair, or {@code null} to follow the settings.
	 */
	@Nullable Boolean fair() {
		return this.fair;
	}

	@Override
	public String toString() {
		return "LockOperation[" + ((this.keys.size() == 1) ? "key=" + this.keys.get(0) : "keys=" + this.keys)
				+ ", mode=" + this.mode + (this.mode == LeaseMode.SEMAPHORE ? ", permits=" + this.permits : "") + "]";
	}

}
