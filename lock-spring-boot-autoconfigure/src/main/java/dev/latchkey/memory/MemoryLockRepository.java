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

package dev.latchkey.memory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockInfo;
import dev.latchkey.LockPermitsConflictException;
import dev.latchkey.LockRepository;
import dev.latchkey.QueueingLockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.support.FairExclusiveQueueing;
import dev.latchkey.support.ReleaseListeners;

import org.jspecify.annotations.Nullable;

/**
 * The in-JVM backend: locks shared by the threads of one process. The reference
 * implementation of the {@link LockRepository} contract; also handy in tests.
 *
 * <pre class="code">
 * LockTemplate locks = new LockTemplate(new MemoryLockRepository(), LockSettings.defaults());
 * </pre>
 * <p>
 * Every mode is supported, read/write locks included. Its clock is
 * {@link System#nanoTime()}. Expired leases are purged whenever their key is touched and
 * by {@link #list()}. One counter supplies the fencing tokens of every key, so they never
 * go backwards, even for a key whose entry was purged.
 * <p>
 * Fair exclusive leases ({@link LeaseSpec#fair()}) wait in a first-in, first-out queue
 * per key ({@link QueueingLockRepository}): a freed key goes to the first of them, and a
 * fair single attempt is refused while any wait. Unfair callers are not queued and may
 * take a free key before the queue's first; the fair waiters' order among themselves
 * holds all the same.
 *
 * <pre class="code">
 * LockTemplate locks = new LockTemplate(new MemoryLockRepository(), LockSettings.defaults().withFair(true));
 * </pre>
 *
 * @since 0.1.0
 */
public class MemoryLockRepository implements FairExclusiveQueueing {

	private final Map<String, Slot> slots = new ConcurrentHashMap<>();

	private final ReleaseListeners listeners = new ReleaseListeners();

	private final AtomicLong fencingTokens = new AtomicLong();

	// Writers waiting per key: token to expiry (System.nanoTime()); guarded by the slots
	// map's compute on the same key.
	private final Map<String, Map<String, Long>> writerWaits = new ConcurrentHashMap<>();

	// Fair waiters per key, first first; guarded by the slots map's compute on the same
	// key.
	private final Map<String, ArrayDeque<Queued>> queues = new ConcurrentHashMap<>();

	@Override
	public String backend() {
		return "memory";
	}

	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		return grant(lease);
	}

	@Override
	public CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease) {
		CompletableFuture<QueuedGrant> grant = new CompletableFuture<>();
		long requestedAt = System.nanoTime();
		long[] granted = { -1 };
		long[] blockedUntil = { 0 };
		this.slots.compute(lease.key(), (key, existing) -> {
			long now = System.nanoTime();
			Slot slot = (existing != null) ? existing.purge(now) : null;
			ArrayDeque<Queued> queue = this.queues.get(key);
			if ((queue == null || queue.isEmpty()) && slot == null) {
				slot = new Slot(LeaseMode.EXCLUSIVE, 1);
				granted[0] = hold(slot, lease, now);
				return slot;
			}
			this.queues.computeIfAbsent(key, (k) -> new ArrayDeque<>()).addLast(new Queued(lease, grant));
			blockedUntil[0] = (slot != null) ? slot.firstExpiry() : now;
			return slot;
		});
		if (granted[0] > 0) {
			grant.complete(new QueuedGrant(granted[0], requestedAt));
		}
		else {
			serveAt(lease.key(), blockedUntil[0]);
		}
		return grant;
	}

	@Override
	public boolean cancelQueued(LeaseSpec lease) {
		Queued[] withdrawn = { null };
		this.slots.compute(lease.key(), (key, slot) -> {
			ArrayDeque<Queued> queue = this.queues.get(key);
			if (queue != null) {
				for (Queued queued : queue) {
					if (queued.lease.token().equals(lease.token())) {
						withdrawn[0] = queued;
					}
				}
				if (withdrawn[0] != null) {
					queue.remove(withdrawn[0]);
					if (queue.isEmpty()) {
						this.queues.remove(key);
					}
				}
			}
			return slot;
		});
		if (withdrawn[0] == null) {
			return false;
		}
		withdrawn[0].grant.completeExceptionally(new CancellationException("Withdrawn"));
		// The next waiter may fit now (nothing holds the key, say).
		serve(lease.key());
		return true;
	}

	/**
	 * Grants the key to its first fair waiters while it is free; when a holder still
	 * keeps it, looks again when that holder's lease would expire.
	 */
	private void serve(String key) {
		List<Queued> served = new ArrayList<>(1);
		List<Long> tokens = new ArrayList<>(1);
		long[] blockedUntil = { 0 };
		this.slots.compute(key, (k, existing) -> {
			ArrayDeque<Queued> queue = this.queues.get(k);
			long now = System.nanoTime();
			Slot slot = (existing != null) ? existing.purge(now) : null;
			if (queue == null) {
				return slot;
			}
			while (!queue.isEmpty() && slot == null) {
				Queued first = queue.pollFirst();
				if (first.grant.isDone()) {
					continue;
				}
				slot = new Slot(LeaseMode.EXCLUSIVE, 1);
				tokens.add(hold(slot, first.lease, now));
				served.add(first);
			}
			if (queue.isEmpty()) {
				this.queues.remove(k);
			}
			else {
				blockedUntil[0] = slot.firstExpiry();
			}
			return slot;
		});
		for (int i = 0; i < served.size(); i++) {
			Queued queued = served.get(i);
			if (!queued.grant.complete(new QueuedGrant(tokens.get(i), System.nanoTime()))) {
				release(queued.lease);
			}
		}
		if (blockedUntil[0] != 0) {
			serveAt(key, blockedUntil[0]);
		}
	}

	/**
	 * Serves a key's queue again when its holder's lease would expire, should nobody
	 * release it before.
	 */
	private void serveAt(String key, long nanoTime) {
		long delay = Math.max(1, nanoTime - System.nanoTime() + 1);
		CompletableFuture.runAsync(() -> serve(key), CompletableFuture.delayedExecutor(delay, TimeUnit.NANOSECONDS));
	}

	private long hold(Slot slot, LeaseSpec lease, long now) {
		long token = this.fencingTokens.incrementAndGet();
		slot.holders.put(lease.token(),
				new Holder(lease.owner(), token, now + lease.ttl().toNanos(), lease.description()));
		return token;
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		return grant(lease);
	}

	@Override
	public OptionalLong tryAcquireShared(LeaseSpec lease) {
		return grant(lease);
	}

	@Override
	public OptionalLong tryAcquireWaiting(LeaseSpec lease) {
		return grant(lease, true);
	}

	@Override
	public void stopWaiting(LeaseSpec lease) {
		this.slots.compute(lease.key(), (key, slot) -> {
			removeWait(key, lease.token());
			return slot;
		});
	}

	private OptionalLong grant(LeaseSpec lease) {
		return grant(lease, false);
	}

	private OptionalLong grant(LeaseSpec lease, boolean waiting) {
		long[] granted = { -1 };
		this.slots.compute(lease.key(), (key, existing) -> {
			long now = System.nanoTime();
			Slot slot = (existing != null) ? existing.purge(now) : null;
			if (slot == null) {
				slot = new Slot(lease.mode(), lease.permits());
			}
			if (slot.mode == LeaseMode.SEMAPHORE && lease.mode() == LeaseMode.SEMAPHORE && !slot.holders.isEmpty()
					&& slot.limit != lease.permits()) {
				// Thrown out of compute: the map is left unchanged.
				throw new LockPermitsConflictException(lease.key(), lease.permits(), slot.limit);
			}
			boolean refused = slot.mode != lease.mode()
					|| (lease.mode() != LeaseMode.SHARED && slot.holders.size() >= lease.permits());
			if (!refused && lease.mode() == LeaseMode.SHARED) {
				// A writer waits: a recorded wait, or a fair writer in the queue.
				ArrayDeque<Queued> queue = this.queues.get(key);
				refused = writerWaits(key, now) || (queue != null && !queue.isEmpty());
			}
			if (!refused && lease.fair()) {
				// A fair single attempt does not pass the queue by.
				ArrayDeque<Queued> queue = this.queues.get(key);
				refused = queue != null && !queue.isEmpty();
			}
			if (refused) {
				if (waiting) {
					this.writerWaits.computeIfAbsent(key, (k) -> new ConcurrentHashMap<>())
						.put(lease.token(), now + lease.ttl().toNanos());
				}
				return slot.holders.isEmpty() ? null : slot;
			}
			removeWait(key, lease.token());
			long token = this.fencingTokens.incrementAndGet();
			slot.holders.put(lease.token(),
					new Holder(lease.owner(), token, now + lease.ttl().toNanos(), lease.description()));
			granted[0] = token;
			return slot;
		});
		return (granted[0] > 0) ? OptionalLong.of(granted[0]) : OptionalLong.empty();
	}

	private boolean writerWaits(String key, long now) {
		Map<String, Long> waits = this.writerWaits.get(key);
		if (waits == null) {
			return false;
		}
		waits.values().removeIf((expiresAt) -> now - expiresAt >= 0);
		if (waits.isEmpty()) {
			this.writerWaits.remove(key);
			return false;
		}
		return true;
	}

	private void removeWait(String key, String token) {
		Map<String, Long> waits = this.writerWaits.get(key);
		if (waits != null && waits.remove(token) != null && waits.isEmpty()) {
			this.writerWaits.remove(key);
		}
	}

	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		Set<String> lost = new HashSet<>();
		for (LeaseSpec lease : leases) {
			boolean[] renewed = { false };
			this.slots.computeIfPresent(lease.key(), (key, slot) -> {
				long now = System.nanoTime();
				Holder holder = slot.holders.get(lease.token());
				if (holder != null && now - holder.expiresAtNanos < 0) {
					holder.expiresAtNanos = now + lease.ttl().toNanos();
					renewed[0] = true;
				}
				return slot.purge(now);
			});
			if (!renewed[0]) {
				lost.add(lease.token());
			}
		}
		return lost;
	}

	@Override
	public boolean release(LeaseSpec lease) {
		boolean[] released = { false };
		this.slots.computeIfPresent(lease.key(), (key, slot) -> {
			long now = System.nanoTime();
			Holder holder = slot.holders.remove(lease.token());
			released[0] = holder != null && now - holder.expiresAtNanos < 0;
			return slot.purge(now);
		});
		if (released[0]) {
			this.listeners.released(lease.key());
			if (this.queues.containsKey(lease.key())) {
				serve(lease.key());
			}
		}
		return released[0];
	}

	@Override
	public boolean forceRelease(String key) {
		boolean[] evicted = { false };
		this.slots.computeIfPresent(key, (k, slot) -> {
			evicted[0] = slot.purge(System.nanoTime()) != null;
			return null;
		});
		if (evicted[0]) {
			// One counter serves every key: bumping it fences the evicted holders off.
			this.fencingTokens.incrementAndGet();
			this.listeners.released(key);
			if (this.queues.containsKey(key)) {
				serve(key);
			}
		}
		return evicted[0];
	}

	@Override
	public Optional<LockInfo> inspect(String key) {
		// Described inside compute: a slot's holders may only be read while its key is
		// locked.
		LockInfo[] described = { null };
		this.slots.computeIfPresent(key, (k, existing) -> {
			long now = System.nanoTime();
			Slot slot = existing.purge(now);
			if (slot != null) {
				described[0] = slot.describe(k, now);
			}
			return slot;
		});
		return Optional.ofNullable(described[0]);
	}

	@Override
	public List<LockInfo> list() {
		List<LockInfo> held = new ArrayList<>();
		for (String key : this.slots.keySet()) {
			inspect(key).ifPresent(held::add);
		}
		held.sort(Comparator.comparing(LockInfo::key));
		return held;
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		return this.listeners.add(key, onRelease);
	}

	private static final class Slot {

		final LeaseMode mode;

		final int limit;

		final Map<String, Holder> holders = new LinkedHashMap<>();

		Slot(LeaseMode mode, int limit) {
			this.mode = mode;
			this.limit = limit;
		}

		long firstExpiry() {
			long first = Long.MAX_VALUE;
			boolean any = false;
			for (Holder holder : this.holders.values()) {
				if (!any || holder.expiresAtNanos - first < 0) {
					first = holder.expiresAtNanos;
					any = true;
				}
			}
			return first;
		}

		Slot purge(long now) {
			this.holders.values().removeIf((holder) -> now - holder.expiresAtNanos >= 0);
			return this.holders.isEmpty() ? null : this;
		}

		LockInfo describe(String key, long now) {
			List<LockInfo.Holder> described = new ArrayList<>(this.holders.size());
			for (Holder holder : this.holders.values()) {
				described.add(new LockInfo.Holder(holder.owner, holder.fencingToken,
						Duration.ofNanos(Math.max(0, holder.expiresAtNanos - now)), holder.description));
			}
			return new LockInfo(key, this.mode, this.limit, described);
		}

	}

	private record Queued(LeaseSpec lease, CompletableFuture<QueuedGrant> grant) {
	}

	private static final class Holder {

		final String owner;

		final long fencingToken;

		long expiresAtNanos;

		final @Nullable String description;

		Holder(String owner, long fencingToken, long expiresAtNanos, @Nullable String description) {
			this.owner = owner;
			this.fencingToken = fencingToken;
			this.expiresAtNanos = expiresAtNanos;
			this.description = description;
		}

	}

}
