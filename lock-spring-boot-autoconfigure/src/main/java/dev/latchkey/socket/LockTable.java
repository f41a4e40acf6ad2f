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

package dev.latchkey.socket;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The arbiter's lock table: holders, FIFO queues, semaphore limits, expiry and fencing,
 * and nothing about sockets. Only the arbiter's one thread touches it, so it has no
 * locks; every method takes the time ({@link System#nanoTime()}) as an argument, which
 * makes it testable by the tick.
 * <p>
 * Rules: a key has one mode at a time (an exclusive lease, semaphore permits or shared
 * leases); a semaphore's limit is fixed by its first holder or waiter while it has any,
 * and a request with another limit is refused with the limit in force; a key with waiters
 * is not free for newcomers (first come, first served), which also gives a read/write
 * lock's writers their preference: a reader that comes after a queued writer queues
 * behind it; a holder expires at the time its grant or last renewal set, and the key then
 * goes to the next waiter. While {@link #setGranting granting} is off (a new arbiter's
 * grace period) nothing new is granted: only re-assertions are accepted, and requests
 * queue.
 * <p>
 * <b>Owner records.</b> A lease may name an owner record of its client's (one per TTL
 * class, made with {@link #createRecord}): it is then held while its own expiry or its
 * record's has not passed, so that one {@link #renewRecord renewal} of the record keeps
 * every such lease, however many. A record that expired is never renewed again, and an
 * acquisition that names it is refused with {@link Outcome.Kind#RECORD_GONE}: a lease
 * whose record expired (its client paused past the TTL) cannot come back for a client
 * that went on without it. A force-release of a lease that names a record is told to the
 * record's next renewal; a lease {@link #renew renewed by itself} leaves its record and
 * keeps its own expiry.
 *
 * @param <C> the type that identifies a client (its connection)
 */
final class LockTable<C> {

	/**
	 * The limit of an exclusive lease.
	 */
	static final int EXCLUSIVE = 0;

	/**
	 * The limit of a shared lease (a read/write lock's reader).
	 */
	static final int SHARED = -1;

	// The most keys one page of a listing is chosen from, in one pass over the table.
	private static final int LIST_BATCH = 4_096;

	// A hash map, not a sorted one: every renewal looks its keys up here, and comparing
	// keys with long common prefixes down a tree cost about half of a renewal's time.
	// Only a listing wants key order, and sorts the keys of its page.
	private final Map<String, Entry<C>> entries = new HashMap<>();

	// The owner records, by name: one per client and TTL class, so few.
	private final Map<String, Record> records = new HashMap<>();

	private final LongSupplier fencing;

	private final LongConsumer horizon;

	private boolean granting = true;

	// No holder expires before earliestExpiry (nanoTime), when anyExpiry: a lower bound,
	// lowered as holders are added or renewed for less, and made exact by each full pass.
	// Lets the arbiter's frequent sweep skip the pass over every key while nothing can
	// have expired.
	private boolean anyExpiry;

	private long earliestExpiry;

	private long grants;

	// The owner of the last request, so that the holders of one process share one string
	// rather than each keeping the copy its request was read into.
	private String lastOwner = "";

	/**
	 * Creates an empty table.
	 * @param fencing draws the next fencing token (one counter for every key, so tokens
	 * strictly rise per key)
	 * @param horizon told every expiry the table is about to promise, before the promise
	 * is made: what a successor must wait for if this arbiter dies
	 */
	LockTable(LongSupplier fencing, LongConsumer horizon) {
		this.fencing = fencing;
		this.horizon = horizon;
	}

	/**
	 * Tries to grant a lease, or queues the request.
	 * @param limit the semaphore's permits, {@value #EXCLUSIVE} for an exclusive lease or
	 * {@value #SHARED} for a shared one
	 * @param description the holder's description, or {@code null} for none
	 * @param queue whether to queue when the key cannot be granted now
	 * @return the outcome
	 */
	Outcome acquire(C client, String key, String token, int limit, long ttlNanos, String owner,
			@Nullable String description, boolean queue, long now, Effects<C> effects) {
		return acquire(client, key, token, limit, ttlNanos, owner, description, queue, "", now, effects);
	}

	/**
	 * Tries to grant a lease that names an owner record, or queues the request.
	 * @param recordName the owner record the lease is to name, {@code ""} for none
	 * @return the outcome: {@link Outcome.Kind#RECORD_GONE} when the table has no such
	 * record, or it expired
	 * @see #acquire(Object, String, String, int, long, String, String, boolean, long,
	 * Effects)
	 */
	Outcome acquire(C client, String key, String token, int limit, long ttlNanos, String owner,
			@Nullable String description, boolean queue, String recordName, long now, Effects<C> effects) {
		Record record = null;
		if (!recordName.isEmpty()) {
			record = this.records.get(recordName);
			if (record == null || !record.isLive(now)) {
				return Outcome.RECORD_GONE;
			}
		}
		Entry<C> entry = this.entries.computeIfAbsent(key, (k) -> new Entry<>());
		String shared = owner.equals(this.lastOwner) ? this.lastOwner : owner;
		this.lastOwner = shared;
		Request<C> request = new Request<>(client, token, limit, ttlNanos, shared, description, record);
		if (limit > 0) {
			int fixed = entry.semaphoreLimit();
			if (fixed != 0 && fixed != limit) {
				dropIfIdle(key, entry);
				return Outcome.limitConflict(fixed);
			}
		}
		// Holders that just expired make room for the waiters queued first.
		expire(key, entry, now, effects);
		drain(key, entry, now, effects);
		if (this.granting && !entry.hasWaiters() && entry.fits(request)) {
			Holder<C> holder = grant(entry, request, now);
			return Outcome.granted(holder.fencingToken, holder.expiresAtNanos);
		}
		if (queue) {
			entry.enqueue(request);
			return Outcome.QUEUED;
		}
		dropIfIdle(key, entry);
		return Outcome.HELD;
	}

	/**
	 * Withdraws a queued request.
	 * @return whether it was still queued
	 */
	boolean dequeue(C client, String key, String token, long now, Effects<C> effects) {
		Entry<C> entry = this.entries.get(key);
		if (entry == null) {
			return false;
		}
		boolean removed = entry.withdraw((request) -> request.client == client && request.token.equals(token));
		// The withdrawn request may have stood in front of others that fit now.
		drain(key, entry, now, effects);
		dropIfIdle(key, entry);
		return removed;
	}

	/**
	 * Releases a lease of the client's.
	 * @return whether it was held (and not expired)
	 */
	boolean release(C client, String key, String token, long now, Effects<C> effects) {
		Entry<C> entry = this.entries.get(key);
		if (entry == null) {
			return false;
		}
		Holder<C> holder = entry.holders.get(token);
		boolean released = false;
		if (holder != null && holder.client == client) {
			entry.holders.remove(holder);
			released = holder.isLive(now);
		}
		expire(key, entry, now, effects);
		drain(key, entry, now, effects);
		if (released) {
			effects.released.add(key);
		}
		dropIfIdle(key, entry);
		return released;
	}

	/**
	 * Evicts every holder of a key, fencing them off: the next grant's token is above any
	 * of theirs.
	 * @return whether a live holder was evicted
	 */
	boolean forceRelease(String key, long now, Effects<C> effects) {
		Entry<C> entry = this.entries.get(key);
		if (entry == null) {
			return false;
		}
		boolean evicted = entry.holders.anyLive(now);
		for (Holder<C> holder : entry.holders) {
			if (holder.record != null && holder.isLive(now)) {
				holder.record.evicted(holder.token);
			}
		}
		entry.holders.clear();
		if (evicted) {
			this.fencing.getAsLong();
			effects.released.add(key);
		}
		drain(key, entry, now, effects);
		dropIfIdle(key, entry);
		return evicted;
	}

	/**
	 * Renews leases of the client's, each by itself: a lease that named an owner record
	 * leaves it, and keeps the expiry this renewal gives it.
	 * @return the tokens of the leases it no longer holds
	 */
	List<String> renew(C client, List<Protocol.Renewal> renewals, long now) {
		List<String> lost = new ArrayList<>();
		long latest = now;
		for (Protocol.Renewal renewal : renewals) {
			latest = Math.max(latest, now + renewal.ttlNanos());
		}
		this.horizon.accept(latest);
		for (Protocol.Renewal renewal : renewals) {
			Entry<C> entry = this.entries.get(renewal.key());
			Holder<C> holder = (entry != null) ? entry.holders.get(renewal.token()) : null;
			if (holder != null && holder.client == client && holder.isLive(now)) {
				holder.expiresAtNanos = now + renewal.ttlNanos();
				holder.record = null;
				// A renewal may ask for less than before (a maximum hold's last one).
				noteExpiry(holder.expiresAtNanos);
			}
			else {
				lost.add(renewal.token());
			}
		}
		return lost;
	}

	/**
	 * Makes an owner record, which lives {@code ttlNanos} from now.
	 * @param name the record's name, which its client chose unique
	 * @return whether it was made: {@code false} when the name is taken
	 */
	boolean createRecord(String name, long ttlNanos, long now) {
		if (this.records.containsKey(name)) {
			return false;
		}
		long expiresAt = now + ttlNanos;
		this.horizon.accept(expiresAt);
		this.records.put(name, new Record(expiresAt));
		return true;
	}

	/**
	 * Renews an owner record, and with it every lease that names it, unless it expired
	 * (which it then never does again: it is forgotten).
	 * @return the tokens of the record's leases that a force-release evicted since its
	 * last renewal, or {@code null} when the record is gone
	 */
	@Nullable List<String> renewRecord(String name, long ttlNanos, long now) {
		Record record = this.records.get(name);
		if (record == null || !record.isLive(now)) {
			this.records.remove(name);
			return null;
		}
		long expiresAt = now + ttlNanos;
		this.horizon.accept(expiresAt);
		record.extendTo(expiresAt);
		return record.takeEvicted();
	}

	int records() {
		return this.records.size();
	}

	/**
	 * Takes back a lease, as its holder describes it. A lease this table still has under
	 * the claim's token and fencing token (its holder lost its connection and came back)
	 * moves to the new connection, keeping its expiry. Otherwise, only while not
	 * {@link #isGranting() granting} (a new arbiter's grace period), a lease that an
	 * earlier arbiter granted is accepted if it has not expired and fits beside the key's
	 * other holders, keeping its fencing token and its expiry, and the owner record it
	 * names: made here when the table does not have it yet, living until the claim's
	 * expiry or the latest of its claims'; a claim whose record the table has seen expire
	 * keeps its own expiry only.
	 * @return whether it was accepted
	 */
	boolean reassert(C client, Protocol.Claim claim, long now) {
		Entry<C> known = this.entries.get(claim.key());
		Holder<C> existing = (known != null) ? known.holders.get(claim.token()) : null;
		if (existing != null) {
			if (existing.fencingToken != claim.fencingToken() || !existing.isLive(now)) {
				return false;
			}
			existing.client = client;
			return true;
		}
		if (this.granting || now - claim.expiresAtNanos() >= 0) {
			return false;
		}
		Entry<C> entry = this.entries.computeIfAbsent(claim.key(), (k) -> new Entry<>());
		Request<C> request = new Request<>(client, claim.token(), claim.permits(), 0, claim.owner(),
				claim.description().isEmpty() ? null : claim.description(), null);
		int fixed = entry.semaphoreLimit();
		if (!entry.fits(request) || (claim.permits() > 0 && fixed != 0 && fixed != claim.permits())) {
			dropIfIdle(claim.key(), entry);
			return false;
		}
		this.horizon.accept(claim.expiresAtNanos());
		Holder<C> holder = add(entry, request, claim.fencingToken(), claim.expiresAtNanos());
		holder.record = reassertedRecord(claim.record(), claim.expiresAtNanos(), now);
		return true;
	}

	private @Nullable Record reassertedRecord(String name, long expiresAt, long now) {
		if (name.isEmpty()) {
			return null;
		}
		Record record = this.records.get(name);
		if (record == null) {
			record = new Record(expiresAt);
			this.records.put(name, record);
			return record;
		}
		if (!record.isLive(now)) {
			return null;
		}
		record.extendTo(expiresAt);
		return record;
	}

	/**
	 * Frees everything a client held or waited for: its connection closed.
	 */
	void disconnect(C client, long now, Effects<C> effects) {
		for (Iterator<Map.Entry<String, Entry<C>>> it = this.entries.entrySet().iterator(); it.hasNext();) {
			Map.Entry<String, Entry<C>> mapped = it.next();
			Entry<C> entry = mapped.getValue();
			boolean withdrawn = entry.withdraw((request) -> request.client == client);
			boolean freed = entry.holders.removeIf((holder) -> holder.client == client);
			if (freed || withdrawn) {
				drain(mapped.getKey(), entry, now, effects);
			}
			if (freed) {
				effects.released.add(mapped.getKey());
			}
			if (entry.isIdle()) {
				it.remove();
			}
		}
	}

	/**
	 * Withdraws what a client waited for, but leaves its leases to run out: its
	 * connection was closed by the arbiter (it stopped reading, or sent garbage), so it
	 * may still believe it holds them. It may take them back on a new connection with
	 * {@link #reassert}.
	 */
	void orphan(C client, long now, Effects<C> effects) {
		for (Iterator<Map.Entry<String, Entry<C>>> it = this.entries.entrySet().iterator(); it.hasNext();) {
			Map.Entry<String, Entry<C>> mapped = it.next();
			Entry<C> entry = mapped.getValue();
			if (entry.withdraw((request) -> request.client == client)) {
				drain(mapped.getKey(), entry, now, effects);
			}
			if (entry.isIdle()) {
				it.remove();
			}
		}
	}

	/**
	 * The arbiter's periodic sweep: {@link #expire} when a holder may have expired, else
	 * nothing, so that many held keys cost nothing between their expiries.
	 */
	void sweep(long now, Effects<C> effects) {
		if (this.anyExpiry && now - this.earliestExpiry >= 0) {
			expire(now, effects);
		}
	}

	/**
	 * Expires the holders whose time is up and grants their keys to the waiters.
	 */
	void expire(long now, Effects<C> effects) {
		this.anyExpiry = false;
		if (this.granting) {
			// Not in a grace period, whose re-assertions make the records they name.
			this.records.values().removeIf((record) -> !record.isLive(now));
		}
		for (Iterator<Map.Entry<String, Entry<C>>> it = this.entries.entrySet().iterator(); it.hasNext();) {
			Map.Entry<String, Entry<C>> mapped = it.next();
			Entry<C> entry = mapped.getValue();
			// Notes the expiries of the holders that stay; those the drain grants are
			// noted as they are added.
			expire(mapped.getKey(), entry, now, effects);
			// Also after a grace period, when nothing expired but the queue may be
			// served.
			drain(mapped.getKey(), entry, now, effects);
			if (entry.isIdle()) {
				it.remove();
			}
		}
	}

	private void noteExpiry(long expiresAt) {
		if (!this.anyExpiry || expiresAt - this.earliestExpiry < 0) {
			this.earliestExpiry = expiresAt;
			this.anyExpiry = true;
		}
	}

	/**
	 * Stops or resumes granting. Resuming serves every queue at once.
	 */
	void setGranting(boolean granting, long now, Effects<C> effects) {
		this.granting = granting;
		if (granting) {
			expire(now, effects);
		}
	}

	boolean isGranting() {
		return this.granting;
	}

	/**
	 * The number of requests queued for a key, of every client.
	 */
	int waiters(String key) {
		Entry<C> entry = this.entries.get(key);
		return (entry != null) ? entry.waiters() : 0;
	}

	Optional<Description> inspect(String key, long now) {
		Entry<C> entry = this.entries.get(key);
		return Optional.ofNullable((entry != null) ? entry.describe(key, now) : null);
	}

	/**
	 * The held keys after a key, in key order, up to about a number of bytes of keys and
	 * owners.
	 * @param after the last key of the previous page, or {@code ""}
	 * @param maxChars where to stop adding locks (at least one is added)
	 * @return the page, and whether more follow
	 */
	Protocol.Page list(String after, int maxChars, long now) {
		List<Description> locks = new ArrayList<>();
		int chars = 0;
		String from = after;
		while (true) {
			// The next keys in key order: the smallest after 'from', chosen in one pass.
			PriorityQueue<String> batch = new PriorityQueue<>(Comparator.reverseOrder());
			boolean beyond = false;
			for (String key : this.entries.keySet()) {
				if (!from.isEmpty() && key.compareTo(from) <= 0) {
					continue;
				}
				if (batch.size() < LIST_BATCH) {
					batch.add(key);
				}
				else {
					beyond = true;
					if (key.compareTo(batch.peek()) < 0) {
						batch.poll();
						batch.add(key);
					}
				}
			}
			List<String> keys = new ArrayList<>(batch);
			keys.sort(null);
			for (String key : keys) {
				if (!locks.isEmpty() && chars >= maxChars) {
					return new Protocol.Page(locks, true);
				}
				Description lock = this.entries.get(key).describe(key, now);
				if (lock != null) {
					locks.add(lock);
					chars += lock.size();
				}
			}
			if (!beyond) {
				return new Protocol.Page(locks, false);
			}
			if (!locks.isEmpty()) {
				// The page ends with the batch; the next page goes on after its last key.
				return new Protocol.Page(locks, true);
			}
			// Nothing held among these keys (only waiters): the page goes on past them.
			from = keys.get(keys.size() - 1);
		}
	}

	int keys() {
		return this.entries.size();
	}

	long holders() {
		return this.entries.values().stream().mapToLong((entry) -> entry.holders.size()).sum();
	}

	long grants() {
		return this.grants;
	}

	/**
	 * The clients that hold or wait for something: those a successor must wait for.
	 */
	Set<C> clientsWithLeases() {
		Set<C> clients = new HashSet<>();
		for (Entry<C> entry : this.entries.values()) {
			entry.holders.forEach((holder) -> clients.add(holder.client));
			entry.waiting().forEach((request) -> clients.add(request.client));
		}
		return clients;
	}

	/**
	 * The latest expiry of any holder, or {@code now} when nobody holds anything.
	 */
	long latestExpiry(long now) {
		long latest = now;
		for (Entry<C> entry : this.entries.values()) {
			for (Holder<C> holder : entry.holders) {
				latest = Math.max(latest, holder.expiresAt());
			}
		}
		return latest;
	}

	private Holder<C> grant(Entry<C> entry, Request<C> request, long now) {
		long expiresAt = now + request.ttlNanos;
		this.horizon.accept(expiresAt);
		this.grants++;
		Holder<C> holder = add(entry, request, this.fencing.getAsLong(), expiresAt);
		Record record = holder.record;
		if (record != null) {
			if (!record.isLive(now)) {
				// It expired while the request was queued: the lease keeps its own
				// expiry, and its holder renews it by itself once it finds the record
				// gone.
				holder.record = null;
			}
			else {
				// The record lasts at least as long as the lease it is given: a record
				// that nothing renewed for a while (its client held nothing of its TTL)
				// must not expire before the new lease's first renewal.
				record.extendTo(expiresAt);
			}
		}
		return holder;
	}

	private Holder<C> add(Entry<C> entry, Request<C> request, long fencingToken, long expiresAt) {
		if (entry.holders.isEmpty()) {
			entry.exclusive = request.limit == EXCLUSIVE;
			entry.limit = entry.exclusive ? 1 : request.limit;
		}
		Holder<C> holder = new Holder<>(request.client, request.token, request.owner, request.description, fencingToken,
				expiresAt);
		holder.record = request.record;
		entry.holders.add(holder);
		noteExpiry(expiresAt);
		return holder;
	}

	private void drain(String key, Entry<C> entry, long now, Effects<C> effects) {
		while (this.granting && entry.hasWaiters() && entry.fits(entry.firstWaiter())) {
			Request<C> next = entry.takeFirstWaiter();
			Holder<C> holder = grant(entry, next, now);
			effects.grants.add(new Grant<>(next.client, key, next.token, holder.fencingToken, holder.expiresAtNanos));
		}
	}

	/**
	 * Removes a key's expired holders and notes the expiries of the live ones, in one
	 * walk. Noting is what rebuilds the bound in the full pass; elsewhere it changes
	 * nothing, since every holder's expiry was noted when it was set.
	 */
	private void expire(String key, Entry<C> entry, long now, Effects<C> effects) {
		boolean expired = entry.holders.removeIf((holder) -> {
			if (holder.isLive(now)) {
				noteExpiry(holder.expiresAt());
				return false;
			}
			return true;
		});
		if (expired) {
			effects.released.add(key);
		}
	}

	private void dropIfIdle(String key, Entry<C> entry) {
		if (entry.isIdle()) {
			this.entries.remove(key);
		}
	}

	/**
	 * What a table operation asks the arbiter to tell others: grants to push to queued
	 * waiters, and keys whose watchers to wake. Filled by the table, sent by the arbiter.
	 */
	static final class Effects<C> {

		final List<Grant<C>> grants = new ArrayList<>();

		final Set<String> released = new HashSet<>();

		boolean isEmpty() {
			return this.grants.isEmpty() && this.released.isEmpty();
		}

	}

	record Grant<C>(C client, String key, String token, long fencingToken, long expiresAtNanos) {
	}

	/**
	 * The outcome of {@link #acquire}.
	 */
	record Outcome(Kind kind, long fencingToken, long expiresAtNanos, int heldLimit) {

		static final Outcome QUEUED = new Outcome(Kind.QUEUED, 0, 0, 0);

		static final Outcome HELD = new Outcome(Kind.HELD, 0, 0, 0);

		static final Outcome RECORD_GONE = new Outcome(Kind.RECORD_GONE, 0, 0, 0);

		static Outcome granted(long fencingToken, long expiresAtNanos) {
			return new Outcome(Kind.GRANTED, fencingToken, expiresAtNanos, 0);
		}

		static Outcome limitConflict(int heldLimit) {
			return new Outcome(Kind.LIMIT_CONFLICT, 0, 0, heldLimit);
		}

		enum Kind {

			GRANTED, QUEUED, HELD, LIMIT_CONFLICT, RECORD_GONE

		}

	}

	/**
	 * One held key, as {@code inspect} and {@code list} show it: {@code permits} is the
	 * semaphore's limit, 1 for an exclusive lease and {@value #SHARED} for shared leases.
	 */
	record Description(String key, boolean exclusive, int permits, List<Holder> holders) {

		int size() {
			int chars = this.key.length() + 16;
			for (Holder holder : this.holders) {
				chars += holder.owner().length() + 20
						+ ((holder.description() != null) ? holder.description().length() : 0);
			}
			return chars;
		}

		/**
		 * One holder.
		 *
		 * @param description the holder's description, or {@code null} for none
		 */
		record Holder(String owner, long fencingToken, long remainingNanos, @Nullable String description) {
		}

	}

	private record Request<C>(C client, String token, int limit, long ttlNanos, String owner,
			@Nullable String description, @Nullable Record record) {
	}

	/**
	 * An owner record: keeps every lease that names it held until it expires.
	 */
	private static final class Record {

		long expiresAtNanos;

		// Tokens of its leases that a force-release evicted, until its next renewal.
		private @Nullable List<String> evicted;

		Record(long expiresAtNanos) {
			this.expiresAtNanos = expiresAtNanos;
		}

		boolean isLive(long now) {
			return now - this.expiresAtNanos < 0;
		}

		/**
		 * Makes the record live at least until the given time. Never shortened, so that
		 * the bound on the earliest expiry, noted when its leases were added, stays a
		 * bound.
		 */
		void extendTo(long expiresAtNanos) {
			if (expiresAtNanos - this.expiresAtNanos > 0) {
				this.expiresAtNanos = expiresAtNanos;
			}
		}

		void evicted(String token) {
			if (this.evicted == null) {
				this.evicted = new ArrayList<>();
			}
			this.evicted.add(token);
		}

		List<String> takeEvicted() {
			List<String> taken = (this.evicted != null) ? this.evicted : List.of();
			this.evicted = null;
			return taken;
		}

	}

	private static final class Holder<C> {

		C client;

		final String token;

		final String owner;

		final @Nullable String description;

		final long fencingToken;

		// Its own expiry, from its grant or its last renewal by itself.
		long expiresAtNanos;

		// The owner record that keeps it held past its own expiry, or null.
		@Nullable Record record;

		Holder(C client, String token, String owner, @Nullable String description, long fencingToken,
				long expiresAtNanos) {
			this.client = client;
			this.token = token;
			this.owner = owner;
			this.description = description;
			this.fencingToken = fencingToken;
			this.expiresAtNanos = expiresAtNanos;
		}

		/**
		 * When it expires: its own expiry, or its record's when later.
		 */
		long expiresAt() {
			Record named = this.record;
			return (named != null && named.expiresAtNanos - this.expiresAtNanos > 0) ? named.expiresAtNanos
					: this.expiresAtNanos;
		}

		boolean isLive(long now) {
			return now - expiresAt() < 0;
		}

	}

	private static final class Entry<C> {

		boolean exclusive = true;

		int limit = 1;

		final Holders<C> holders = new Holders<>();

		// Made with the first waiter: most held keys never have one.
		private @Nullable ArrayDeque<Request<C>> queue;

		boolean hasWaiters() {
			return this.queue != null && !this.queue.isEmpty();
		}

		int waiters() {
			return (this.queue != null) ? this.queue.size() : 0;
		}

		void enqueue(Request<C> request) {
			if (this.queue == null) {
				this.queue = new ArrayDeque<>(2);
			}
			this.queue.addLast(request);
		}

		boolean withdraw(Predicate<Request<C>> which) {
			return this.queue != null && this.queue.removeIf(which);
		}

		Request<C> firstWaiter() {
			return waitingQueue().getFirst();
		}

		Request<C> takeFirstWaiter() {
			return waitingQueue().removeFirst();
		}

		private ArrayDeque<Request<C>> waitingQueue() {
			ArrayDeque<Request<C>> waiting = this.queue;
			Assert.state(waiting != null, "The key has waiters");
			return waiting;
		}

		Iterable<Request<C>> waiting() {
			return (this.queue != null) ? this.queue : List.of();
		}

		boolean fits(Request<C> request) {
			if (this.holders.isEmpty()) {
				return true;
			}
			if (this.limit == SHARED) {
				return request.limit == SHARED;
			}
			return !this.exclusive && request.limit > 0 && this.holders.size() < this.limit;
		}

		/**
		 * The limit of this key's semaphore while it has permit holders or permit
		 * waiters; 0 when it has neither.
		 */
		int semaphoreLimit() {
			if (!this.holders.isEmpty() && !this.exclusive && this.limit > 0) {
				return this.limit;
			}
			for (Request<C> request : waiting()) {
				if (request.limit > 0) {
					return request.limit;
				}
			}
			return 0;
		}

		boolean isIdle() {
			return this.holders.isEmpty() && !hasWaiters();
		}

		@Nullable Description describe(String key, long now) {
			List<Description.Holder> live = new ArrayList<>(this.holders.size());
			for (Holder<C> holder : this.holders) {
				if (holder.isLive(now)) {
					live.add(new Description.Holder(holder.owner, holder.fencingToken, holder.expiresAt() - now,
							holder.description));
				}
			}
			return live.isEmpty() ? null : new Description(key, this.exclusive, this.limit, live);
		}

	}

	/**
	 * A key's holders, in the order they were granted: one is kept in a field (the most
	 * common case by far: an exclusive lease), more in a map, so that a held key does not
	 * cost a map's 150 bytes.
	 */
	private static final class Holders<C> implements Iterable<Holder<C>> {

		private @Nullable Holder<C> one;

		private @Nullable Map<String, Holder<C>> many;

		@Nullable Holder<C> get(String token) {
			if (this.one != null) {
				return this.one.token.equals(token) ? this.one : null;
			}
			return (this.many != null) ? this.many.get(token) : null;
		}

		void add(Holder<C> holder) {
			Map<String, Holder<C>> more = this.many;
			if (more != null) {
				more.put(holder.token, holder);
				return;
			}
			Holder<C> single = this.one;
			if (single == null || single.token.equals(holder.token)) {
				this.one = holder;
				return;
			}
			more = new LinkedHashMap<>();
			more.put(single.token, single);
			more.put(holder.token, holder);
			this.many = more;
			this.one = null;
		}

		void remove(Holder<C> holder) {
			if (this.one == holder) {
				this.one = null;
			}
			else if (this.many != null && this.many.remove(holder.token, holder) && this.many.isEmpty()) {
				this.many = null;
			}
		}

		boolean removeIf(Predicate<Holder<C>> which) {
			if (this.one != null) {
				if (which.test(this.one)) {
					this.one = null;
					return true;
				}
				return false;
			}
			if (this.many == null) {
				return false;
			}
			boolean removed = this.many.values().removeIf(which);
			if (this.many.isEmpty()) {
				this.many = null;
			}
			return removed;
		}

		boolean anyLive(long now) {
			for (Holder<C> holder : this) {
				if (holder.isLive(now)) {
					return true;
				}
			}
			return false;
		}

		void clear() {
			this.one = null;
			this.many = null;
		}

		boolean isEmpty() {
			return this.one == null && this.many == null;
		}

		int size() {
			if (this.one != null) {
				return 1;
			}
			return (this.many != null) ? this.many.size() : 0;
		}

		@Override
		public Iterator<Holder<C>> iterator() {
			if (this.one != null) {
				return List.of(this.one).iterator();
			}
			return (this.many != null) ? this.many.values().iterator() : Collections.emptyIterator();
		}

	}

}
