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

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;
import org.springframework.util.StringUtils;

/**
 * The defaults a {@link LockTemplate} applies to every lock. Spring Boot builds them from
 * the {@code latchkey.*} properties; without Boot, start from {@link #defaults()}:
 *
 * <pre class="code">
 * LockSettings settings = LockSettings.defaults().withTtl(Duration.ofSeconds(10)).withKeyPrefix("billing:");
 * LockTemplate locks = new LockTemplate(new MemoryLockRepository(), settings);
 * </pre>
 *
 * @param ttl the time-to-live of a lease that does not set its own
 * @param waitTime how long to wait for a lock that does not set its own wait time
 * @param renewInterval the interval between renewals, or {@code null} for a third of each
 * lease's TTL
 * @param safetyMargin how long before the backend could expire a lease this process stops
 * relying on it; capped at a fifth of the lease's TTL
 * @param keyPrefix the text put before every key
 * @param maxKeyLength the longest key allowed, prefix included
 * @param owner the owner name of this process
 * @param initialPollInterval the first interval between attempts of a waiter that hears
 * no release notification
 * @param maxPollInterval the longest interval between such attempts
 * @param maxHold the longest a lease is held, renewals included, unless a lock sets its
 * own; {@code null} for no limit (see {@link #withMaxHold(Duration)})
 * @param showKeysInMessages whether exception messages and log lines above DEBUG show a
 * lock's key beside its name (see {@link #withShowKeysInMessages(boolean)})
 * @param fair whether exclusive locks that do not say otherwise are served first come,
 * first served across instances (see {@link #withFair(boolean)})
 * @since 0.1.0
 */
public record LockSettings(Duration ttl, Duration waitTime, @Nullable Duration renewInterval, Duration safetyMargin,
		String keyPrefix, int maxKeyLength, String owner, Duration initialPollInterval, Duration maxPollInterval,
		@Nullable Duration maxHold, boolean showKeysInMessages, boolean fair) {

	/**
	 * The longest duration any setting or lock attribute may have: 365 days. Longer ones
	 * would overflow the nanosecond arithmetic of renewal and waiting, and mean a
	 * mistake.
	 */
	public static final Duration MAX_DURATION = Duration.ofDays(365);

	private static final int MAX_DESCRIBED_LENGTH = 200;

	/**
	 * Makes settings that keep keys out of messages and logs (see
	 * {@link #withShowKeysInMessages(boolean)}).
	 * @param ttl the time-to-live of a lease that does not set its own
	 * @param waitTime how long to wait for a lock that does not set its own wait time
	 * @param renewInterval the interval between renewals, or {@code null} for a third of
	 * each lease's TTL
	 * @param safetyMargin how long before the backend could expire a lease this process
	 * stops relying on it
	 * @param keyPrefix the text put before every key
	 * @param maxKeyLength the longest key allowed, prefix included
	 * @param owner the owner name of this process
	 * @param initialPollInterval the first interval between attempts of a waiter that
	 * hears no release notification
	 * @param maxPollInterval the longest interval between such attempts
	 * @param maxHold the longest a lease is held unless a lock sets its own, or
	 * {@code null} for no limit
	 */
	public LockSettings(Duration ttl, Duration waitTime, @Nullable Duration renewInterval, Duration safetyMargin,
			String keyPrefix, int maxKeyLength, String owner, Duration initialPollInterval, Duration maxPollInterval,
			@Nullable Duration maxHold) {
		this(ttl, waitTime, renewInterval, safetyMargin, keyPrefix, maxKeyLength, owner, initialPollInterval,
				maxPollInterval, maxHold, false, false);
	}

	/**
	 * Makes settings whose exclusive locks are not fair unless they ask (see
	 * {@link #withFair(boolean)}).
	 * @param ttl the time-to-live of a lease that does not set its own
	 * @param waitTime how long to wait for a lock that does not set its own wait time
	 * @param renewInterval the interval between renewals, or {@code null} for a third of
	 * each lease's TTL
	 * @param safetyMargin how long before the backend could expire a lease this process
	 * stops relying on it
	 * @param keyPrefix the text put before every key
	 * @param maxKeyLength the longest key allowed, prefix included
	 * @param owner the owner name of this process
	 * @param initialPollInterval the first interval between attempts of a waiter that
	 * hears no release notification
	 * @param maxPollInterval the longest interval between such attempts
	 * @param maxHold the longest a lease is held unless a lock sets its own, or
	 * {@code null} for no limit
	 * @param showKeysInMessages whether exception messages and log lines above DEBUG show
	 * a lock's key beside its name
	 */
	public LockSettings(Duration ttl, Duration waitTime, @Nullable Duration renewInterval, Duration safetyMargin,
			String keyPrefix, int maxKeyLength, String owner, Duration initialPollInterval, Duration maxPollInterval,
			@Nullable Duration maxHold, boolean showKeysInMessages) {
		this(ttl, waitTime, renewInterval, safetyMargin, keyPrefix, maxKeyLength, owner, initialPollInterval,
				maxPollInterval, maxHold, showKeysInMessages, false);
	}

	public LockSettings {
		checkRange("TTL", ttl);
		checkRange("Wait time", waitTime);
		if (renewInterval != null) {
			checkRange("Renew interval", renewInterval);
		}
		checkRange("Safety margin", safetyMargin);
		checkRange("Initial poll interval", initialPollInterval);
		checkRange("Maximum poll interval", maxPollInterval);
		Assert.isTrue(isPositive(ttl), "TTL must be positive");
		Assert.isTrue(!waitTime.isNegative(), "Wait time must not be negative");
		Assert.isTrue(renewInterval == null || isPositive(renewInterval), "Renew interval must be positive");
		Assert.isTrue(!safetyMargin.isNegative(), "Safety margin must not be negative");
		Assert.notNull(keyPrefix, "Key prefix must not be null");
		Assert.isTrue(maxKeyLength > keyPrefix.length(), "Maximum key length must be longer than the key prefix");
		Assert.hasText(owner, "Owner must not be empty");
		Assert.isTrue(isPositive(initialPollInterval), "Initial poll interval must be positive");
		Assert.isTrue(maxPollInterval.compareTo(initialPollInterval) >= 0,
				"Maximum poll interval must not be shorter than the initial poll interval");
		if (maxHold != null) {
			checkMaxHold(maxHold);
		}
	}

	/**
	 * Checks a maximum hold time: positive, and no longer than {@link #MAX_DURATION}.
	 * @param maxHold the maximum hold time
	 * @throws IllegalArgumentException if it is zero, negative or too long
	 */
	static void checkMaxHold(Duration maxHold) {
		checkRange("Maximum hold time", maxHold);
		Assert.isTrue(isPositive(maxHold), () -> "Maximum hold time must be positive, was " + maxHold);
	}

	/**
	 * Checks that a lock's minimum hold time fits within its maximum hold time.
	 * @param minHold the minimum hold time
	 * @param maxHold the maximum hold time, or {@code null} for none
	 * @param maxHoldSource where the maximum hold time was set, for the message
	 * @throws IllegalArgumentException if the minimum hold time is longer
	 */
	static void checkHoldTimes(Duration minHold, @Nullable Duration maxHold, String maxHoldSource) {
		// Checked on every acquisition: no message supplier is built when it passes.
		if (maxHold != null && minHold.compareTo(maxHold) > 0) {
			throw new IllegalArgumentException("Minimum hold time " + minHold + " is longer than the maximum hold time "
					+ maxHold + " (" + maxHoldSource + ")");
		}
	}

	private static void checkRange(String what, Duration duration) {
		Assert.notNull(duration, () -> what + " must not be null");
		Assert.isTrue(duration.compareTo(MAX_DURATION) <= 0, () -> what + " of " + duration
				+ " is longer than the longest allowed, " + MAX_DURATION.toDays() + " days");
	}

	private static boolean isPositive(Duration duration) {
		return !duration.isNegative() && !duration.isZero();
	}

	/**
	 * The owner name a process has unless one is set: {@code application@host:pid}, or
	 * {@code host:pid} without an application name. It is what inspection shows;
	 * ownership itself is each lease's random token.
	 *
	 * <pre class="code">
	 * LockSettings settings = LockSettings.defaults().withOwner(LockSettings.defaultOwner("billing"));
	 * </pre>
	 * @param applicationName the application's name, or {@code null}
	 * @return the owner name
	 */
	public static String defaultOwner(@Nullable String applicationName) {
		return OwnerIdentity.defaultOwner(applicationName);
	}

	/**
	 * The defaults: TTL 30s, no waiting, renewal every third of the TTL, safety margin
	 * 100ms, no key prefix, keys up to 512 characters, polling from 50ms up to 1s, no
	 * maximum hold time.
	 * @return the default settings
	 */
	public static LockSettings defaults() {
		return new LockSettings(Duration.ofSeconds(30), Duration.ZERO, null, Duration.ofMillis(100), "", 512,
				OwnerIdentity.defaultOwner(null), Duration.ofMillis(50), Duration.ofSeconds(1), null, false);
	}

	/**
	 * A copy with another default TTL.
	 * @param ttl the time-to-live
	 * @return the new settings
	 */
	public LockSettings withTtl(Duration ttl) {
		return new LockSettings(ttl, this.waitTime, this.renewInterval, this.safetyMargin, this.keyPrefix,
				this.maxKeyLength, this.owner, this.initialPollInterval, this.maxPollInterval, this.maxHold,
				this.showKeysInMessages, this.fair);
	}

	/**
	 * A copy with another default wait time.
	 * @param waitTime the wait time
	 * @return the new settings
	 */
	public LockSettings withWaitTime(Duration waitTime) {
		return new LockSettings(this.ttl, waitTime, this.renewInterval, this.safetyMargin, this.keyPrefix,
				this.maxKeyLength, this.owner, this.initialPollInterval, this.maxPollInterval, this.maxHold,
				this.showKeysInMessages, this.fair);
	}

	/**
	 * A copy with a fixed renewal interval.
	 * @param renewInterval the renewal interval, or {@code null} for a third of each
	 * lease's TTL
	 * @return the new settings
	 */
	public LockSettings withRenewInterval(@Nullable Duration renewInterval) {
		return new LockSettings(this.ttl, this.waitTime, renewInterval, this.safetyMargin, this.keyPrefix,
				this.maxKeyLength, this.owner, this.initialPollInterval, this.maxPollInterval, this.maxHold,
				this.showKeysInMessages, this.fair);
	}

	/**
	 * A copy with another key prefix.
	 * @param keyPrefix the key prefix
	 * @return the new settings
	 */
	public LockSettings withKeyPrefix(String keyPrefix) {
		return new LockSettings(this.ttl, this.waitTime, this.renewInterval, this.safetyMargin, keyPrefix,
				this.maxKeyLength, this.owner, this.initialPollInterval, this.maxPollInterval, this.maxHold,
				this.showKeysInMessages, this.fair);
	}

	/**
	 * A copy with another maximum key length.
	 * @param maxKeyLength the longest key allowed
	 * @return the new settings
	 */
	public LockSettings withMaxKeyLength(int maxKeyLength) {
		return new LockSettings(this.ttl, this.waitTime, this.renewInterval, this.safetyMargin, this.keyPrefix,
				maxKeyLength, this.owner, this.initialPollInterval, this.maxPollInterval, this.maxHold,
				this.showKeysInMessages, this.fair);
	}

	/**
	 * A copy with another owner name.
	 * @param owner the owner name
	 * @return the new settings
	 */
	public LockSettings withOwner(String owner) {
		return new LockSettings(this.ttl, this.waitTime, this.renewInterval, this.safetyMargin, this.keyPrefix,
				this.maxKeyLength, owner, this.initialPollInterval, this.maxPollInterval, this.maxHold,
				this.showKeysInMessages, this.fair);
	}

	/**
	 * A copy with other poll intervals: how soon a waiter tries again when no release
	 * notification woke it, from the first interval doubling up to the longest.
	 *
	 * <pre class="code">
	 * LockSettings settings = LockSettings.defaults().withPollIntervals(Duration.ofMillis(10), Duration.ofSeconds(1));
	 * </pre>
	 * @param initialPollInterval the first poll interval
	 * @param maxPollInterval the longest poll interval
	 * @return the new settings
	 */
	public LockSettings withPollIntervals(Duration initialPollInterval, Duration maxPollInterval) {
		return new LockSettings(this.ttl, this.waitTime, this.renewInterval, this.safetyMargin, this.keyPrefix,
				this.maxKeyLength, this.owner, initialPollInterval, maxPollInterval, this.maxHold,
				this.showKeysInMessages, this.fair);
	}

	/**
	 * A copy with another maximum hold time: how long a lease may be held at most,
	 * renewals included, unless a lock sets its own. At that limit the lease stops being
	 * renewed, is lost ({@link LossReason#MAX_HOLD_EXCEEDED}: its work is told as for any
	 * loss) and is given back at the backend.
	 *
	 * <pre class="code">
	 * LockSettings settings = LockSettings.defaults().withMaxHold(Duration.ofHours(1));
	 * </pre>
	 * @param maxHold the maximum hold time, or {@code null} for no limit
	 * @return the new settings
	 */
	public LockSettings withMaxHold(@Nullable Duration maxHold) {
		return new LockSettings(this.ttl, this.waitTime, this.renewInterval, this.safetyMargin, this.keyPrefix,
				this.maxKeyLength, this.owner, this.initialPollInterval, this.maxPollInterval, maxHold,
				this.showKeysInMessages, this.fair);
	}

	/**
	 * A copy that shows keys in messages, or not. By default exception messages and log
	 * lines at INFO, WARN and ERROR name a lock by its name (an annotation's key
	 * template, {@code customer:#email}), never by its key, which is made of method
	 * arguments and may be personal data. Turned on, they add the key after the name, and
	 * audit records hold it: for applications whose keys hold nothing personal.
	 *
	 * <pre class="code">
	 * LockSettings settings = LockSettings.defaults().withShowKeysInMessages(true);
	 * // Lock 'customer:#email' (key 'customer:alice@example.com') is held elsewhere
	 * </pre>
	 * @param showKeysInMessages whether messages and logs show keys
	 * @return the new settings
	 */
	public LockSettings withShowKeysInMessages(boolean showKeysInMessages) {
		return new LockSettings(this.ttl, this.waitTime, this.renewInterval, this.safetyMargin, this.keyPrefix,
				this.maxKeyLength, this.owner, this.initialPollInterval, this.maxPollInterval, this.maxHold,
				showKeysInMessages, this.fair);
	}

	/**
	 * A copy whose exclusive locks are fair, or not, unless a lock says otherwise
	 * ({@code LockOperation.fair}, {@code @Exclusive(fair = true)}): a fair lock is
	 * granted to its waiters strictly in the order they asked, across instances, where
	 * the backend keeps a queue (socket; etcd; Redis; memory within its JVM). On JDBC a
	 * fair lock fails with a {@link LockConfigurationException}. Off by default: an
	 * unfair lock hands a freed key to whoever asks first, which is faster.
	 *
	 * <pre class="code">
	 * LockSettings settings = LockSettings.defaults().withFair(true);
	 * </pre>
	 * @param fair whether exclusive locks are fair by default
	 * @return the new settings
	 */
	public LockSettings withFair(boolean fair) {
		return new LockSettings(this.ttl, this.waitTime, this.renewInterval, this.safetyMargin, this.keyPrefix,
				this.maxKeyLength, this.owner, this.initialPollInterval, this.maxPollInterval, this.maxHold,
				this.showKeysInMessages, fair);
	}

	/**
	 * How a message or a log line names a lock: its name in quotes, followed by its key
	 * when {@link #showKeysInMessages()} is on and the key differs from the name.
	 * @param name the lock's name
	 * @param key the lock's key
	 * @return the lock as messages name it, quotes included
	 */
	String describe(String name, String key) {
		return (this.showKeysInMessages && !name.equals(key))
				? "'" + abbreviated(name) + "' (key '" + abbreviated(key) + "')" : "'" + abbreviated(name) + "'";
	}

	/**
	 * A name or key as messages show it: cut after 200 characters. A lock of many keys is
	 * named by all of them joined, by default, and each of its messages would otherwise
	 * carry them all.
	 */
	private static String abbreviated(String text) {
		return StringUtils.truncate(text, MAX_DESCRIBED_LENGTH);
	}

	/**
	 * The renewal interval of a lease with the given TTL.
	 * @param leaseTtl the lease's TTL
	 * @return the renewal interval
	 */
	public Duration renewIntervalFor(Duration leaseTtl) {
		// Nanosecond arithmetic: Duration.dividedBy goes through BigDecimal, and this
		// runs on every acquisition.
		return (this.renewInterval != null) ? this.renewInterval : Duration.ofNanos(leaseTtl.toNanos() / 3);
	}

	/**
	 * The safety margin of a lease with the given TTL.
	 * @param leaseTtl the lease's TTL
	 * @return the safety margin, at most a fifth of the TTL
	 */
	public Duration safetyMarginFor(Duration leaseTtl) {
		long cap = leaseTtl.toNanos() / 5;
		return (this.safetyMargin.toNanos() > cap) ? Duration.ofNanos(cap) : this.safetyMargin;
	}

	/**
	 * Checks that leases with the given TTL can be renewed in time.
	 * @param leaseTtl the lease's TTL
	 * @throws IllegalArgumentException if the renewal interval is not shorter than the
	 * TTL minus the safety margin
	 */
	public void checkTtl(Duration leaseTtl) {
		Assert.isTrue(isPositive(leaseTtl), () -> "TTL must be positive, was " + leaseTtl);
		checkRange("TTL", leaseTtl);
		Duration validity = leaseTtl.minus(safetyMarginFor(leaseTtl));
		Assert.isTrue(renewIntervalFor(leaseTtl).compareTo(validity) < 0,
				() -> "Renew interval " + renewIntervalFor(leaseTtl) + " must be shorter than the TTL " + leaseTtl
						+ " minus the safety margin " + safetyMarginFor(leaseTtl));
	}

}
