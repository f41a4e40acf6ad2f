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

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

/**
 * What the arbiter serves, apart from how bytes travel: requests answered from the
 * {@link LockTable}, the watchers of each key, the grace period of a new arbiter, and the
 * {@link ArbiterState} kept for a successor. {@link SocketArbiter} owns the connections,
 * calls it under its lock and sends what it answers or pushes.
 * <p>
 * <b>Taking over.</b> A new arbiter reads the {@link ArbiterState} its predecessor left.
 * If a client that may hold leases is still alive and the predecessor's horizon is still
 * ahead, it starts in a <em>grace period</em>: it grants nothing new and accepts only
 * re-assertions of leases, until every such client has re-asserted (or its process is
 * gone) or the horizon passes. Attempts that do not queue wait up to
 * {@link #DEFERRAL_NANOS} for the grace to end, then are answered "held".
 */
final class ArbiterService {

	private static final LogAccessor logger = new LogAccessor(ArbiterService.class);

	/**
	 * How long an attempt that does not queue waits for a grace period to end before it
	 * is answered "held".
	 */
	static final long DEFERRAL_NANOS = TimeUnit.SECONDS.toNanos(1);

	private final ArbiterState state;

	private final LockTable<ArbiterPeer> table;

	private final Set<ArbiterPeer> peers;

	private final Outbox outbox;

	private final String ownerId;

	private final Map<String, Set<ArbiterPeer>> watchers = new HashMap<>();

	/**
	 * Clients of the previous arbiter that may still re-assert leases; empty once the
	 * grace period is over.
	 */
	private final Map<String, ArbiterState.Client> awaited = new LinkedHashMap<>();

	private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();

	// The latest expiry the predecessor promised: what the grace period waits for at
	// most. Not the state's horizon, which this arbiter's own promises move on (a renewal
	// of a lease re-asserted already, an owner record made meanwhile).
	private final long predecessorHorizon;

	// Every request handled since the arbiter started, for STATS.
	private long requests;

	/**
	 * Takes over the lock directory whose state file is given: in a grace period if a
	 * client of the predecessor may still hold leases.
	 * @param stateFile the directory's state file
	 * @param ownerId the client identity of the repository that runs this arbiter: it
	 * stops with the arbiter, so its successor need not wait for it
	 * @param peers the arbiter's connections, which it adds and removes
	 * @param outbox sends answers and pushes to a connection
	 */
	ArbiterService(Path stateFile, String ownerId, Set<ArbiterPeer> peers, Outbox outbox) {
		this.ownerId = ownerId;
		this.peers = peers;
		this.outbox = outbox;
		long now = System.nanoTime();
		this.state = ArbiterState.read(stateFile, now);
		this.table = new LockTable<>(this.state::nextToken, this.state::cover);
		this.predecessorHorizon = this.state.horizon();
		if (this.predecessorHorizon - now > 0) {
			for (ArbiterState.Client client : this.state.clients()) {
				if (client.isAlive()) {
					this.awaited.put(client.id(), client);
				}
			}
		}
		if (!this.awaited.isEmpty()) {
			this.table.setGranting(false, now, new LockTable.Effects<>());
			logger.info(() -> "Taking over the locks of " + stateFile.getParent() + ": waiting for "
					+ this.awaited.size() + " client(s) to re-assert their leases");
		}
		// Whoever takes over from this arbiter must still wait for the clients this one
		// waits for.
		this.state.clients(this.awaited.values());
	}

	/**
	 * Handles one request, with the lock held.
	 * @return the answer, or {@code null} when it is deferred (sent later)
	 */
	@Nullable ByteBuffer handle(ArbiterPeer peer, Protocol.Request request) {
		long now = System.nanoTime();
		if (peer.client == null && !(request instanceof Protocol.Hello)) {
			throw new IllegalArgumentException("The first request must be HELLO");
		}
		LockTable.Effects<ArbiterPeer> effects = new LockTable.Effects<>();
		long id = request.id();
		this.requests++;
		ByteBuffer answer = switch (request.kind()) {
			case Protocol.HELLO -> hello(peer, (Protocol.Hello) request, now);
			case Protocol.ACQUIRE -> acquire(peer, (Protocol.Acquire) request, now, effects);
			case Protocol.RELEASE, Protocol.DEQUEUE -> keyToken(peer, (Protocol.KeyToken) request, now, effects);
			case Protocol.RENEW ->
				Protocol.tokens(id, this.table.renew(peer, ((Protocol.Renew) request).renewals(), now));
			case Protocol.RECORD, Protocol.RENEW_RECORD -> ownerRecord((Protocol.OwnerRecord) request, now);
			case Protocol.REASSERT -> reassert(peer, (Protocol.Reassert) request, now);
			case Protocol.REASSERTED -> reasserted(peer, id, now, effects);
			case Protocol.STATS -> Protocol.Bare.stats(id, this.peers.size(), this.table.keys(), this.table.holders(),
					this.table.grants(), this.requests);
			case Protocol.LIST -> list((Protocol.ListPage) request, now);
			default -> keyOnly(peer, (Protocol.KeyOnly) request, now, effects);
		};
		deliver(effects);
		return answer;
	}

	private ByteBuffer hello(ArbiterPeer peer, Protocol.Hello hello, long now) {
		peer.name = hello.name();
		peer.client = new ArbiterState.Client(hello.clientId(), hello.pid(), hello.started(), hello.pidNamespace());
		recordClients();
		return Protocol.Hello.answer(hello.id(), now);
	}

	private @Nullable ByteBuffer acquire(ArbiterPeer peer, Protocol.Acquire acquire, long now,
			LockTable.Effects<ArbiterPeer> effects) {
		if (!this.table.isGranting() && !acquire.queue()) {
			// A grace period: the key may belong to a client that has not re-asserted
			// yet. Answer when it ends.
			this.deferred.addLast(new Deferred(peer, acquire, now + DEFERRAL_NANOS));
			return null;
		}
		LockTable.Outcome outcome = this.table.acquire(peer, acquire.key(), acquire.token(), acquire.permits(),
				acquire.ttlNanos(), acquire.owner(), acquire.description().isEmpty() ? null : acquire.description(),
				acquire.queue(), acquire.record(), now, effects);
		return switch (outcome.kind()) {
			case GRANTED -> Protocol.Acquire.granted(acquire.id(), outcome.fencingToken(), outcome.expiresAtNanos());
			case QUEUED -> Protocol.Acquire.queued(acquire.id());
			case HELD -> Protocol.Acquire.held(acquire.id());
			case LIMIT_CONFLICT -> Protocol.Acquire.limitConflict(acquire.id(), outcome.heldLimit());
			case RECORD_GONE -> Protocol.Acquire.recordGone(acquire.id());
		};
	}

	private ByteBuffer ownerRecord(Protocol.OwnerRecord request, long now) {
		if (request.kind() == Protocol.RECORD) {
			return this.table.createRecord(request.name(), request.ttlNanos(), now) ? Protocol.yes(request.id())
					: Protocol.no(request.id());
		}
		List<String> evicted = this.table.renewRecord(request.name(), request.ttlNanos(), now);
		return (evicted != null) ? Protocol.OwnerRecord.renewed(request.id(), evicted) : Protocol.no(request.id());
	}

	private ByteBuffer keyToken(ArbiterPeer peer, Protocol.KeyToken request, long now,
			LockTable.Effects<ArbiterPeer> effects) {
		boolean done = (request.kind() == Protocol.RELEASE)
				? this.table.release(peer, request.key(), request.token(), now, effects)
				: this.table.dequeue(peer, request.key(), request.token(), now, effects);
		return done ? Protocol.yes(request.id()) : Protocol.no(request.id());
	}

	private ByteBuffer keyOnly(ArbiterPeer peer, Protocol.KeyOnly request, long now,
			LockTable.Effects<ArbiterPeer> effects) {
		String key = request.key();
		return switch (request.kind()) {
			case Protocol.FORCE_RELEASE ->
				this.table.forceRelease(key, now, effects) ? Protocol.yes(request.id()) : Protocol.no(request.id());
			case Protocol.INSPECT -> this.table.inspect(key, now)
				.map((lock) -> Protocol.KeyOnly.lock(request.id(), lock))
				.orElseGet(() -> Protocol.no(request.id()));
			case Protocol.WAITERS -> Protocol.KeyOnly.waiters(request.id(), this.table.waiters(key));
			case Protocol.WATCH -> {
				this.watchers.computeIfAbsent(key, (k) -> new LinkedHashSet<>()).add(peer);
				peer.watched.add(key);
				yield Protocol.yes(request.id());
			}
			default -> {
				unwatch(peer, key);
				peer.watched.remove(key);
				yield Protocol.yes(request.id());
			}
		};
	}

	private ByteBuffer reassert(ArbiterPeer peer, Protocol.Reassert reassert, long now) {
		List<String> refused = new ArrayList<>();
		for (Protocol.Claim claim : reassert.claims()) {
			if (!this.table.reassert(peer, claim, now)) {
				refused.add(claim.token());
			}
		}
		return Protocol.tokens(reassert.id(), refused);
	}

	private ByteBuffer reasserted(ArbiterPeer peer, long id, long now, LockTable.Effects<ArbiterPeer> effects) {
		if (peer.client != null && this.awaited.remove(peer.client.id()) != null) {
			endGraceIfDone(now, effects);
		}
		return Protocol.yes(id);
	}

	private ByteBuffer list(Protocol.ListPage page, long now) {
		Protocol.Page locks = this.table.list(page.after(), Frame.CHUNK_BYTES / 2, now);
		Frame.Writer frame = Protocol.ListPage.startAnswer(page.id());
		Protocol.ListPage.writeLocks(frame, locks.locks(), locks.more());
		return frame.finish();
	}

	/**
	 * Expires leases and ends the grace period when its time has come; answers the
	 * attempts that waited too long for it.
	 * @param now the time, from {@link System#nanoTime()}
	 */
	void sweep(long now) {
		LockTable.Effects<ArbiterPeer> effects = new LockTable.Effects<>();
		if (!this.awaited.isEmpty()) {
			this.awaited.values().removeIf((client) -> !client.isAlive());
			endGraceIfDone(now, effects);
		}
		this.table.sweep(now, effects);
		while (!this.deferred.isEmpty() && now - this.deferred.peekFirst().deadlineNanos >= 0) {
			Deferred late = this.deferred.removeFirst();
			this.outbox.send(late.peer, Protocol.Acquire.held(late.request.id()));
		}
		deliver(effects);
	}

	private void endGraceIfDone(long now, LockTable.Effects<ArbiterPeer> effects) {
		if (this.table.isGranting() || (!this.awaited.isEmpty() && this.predecessorHorizon - now > 0)) {
			return;
		}
		if (!this.awaited.isEmpty()) {
			logger.info(() -> "Lock arbiter grace period over: the leases of " + this.awaited.size()
					+ " silent client(s) have expired");
			this.awaited.clear();
		}
		this.table.setGranting(true, now, effects);
		recordClients();
		while (!this.deferred.isEmpty()) {
			Deferred waiting = this.deferred.removeFirst();
			if (this.peers.contains(waiting.peer)) {
				ByteBuffer answer = acquire(waiting.peer, waiting.request, now, effects);
				if (answer != null) {
					this.outbox.send(waiting.peer, answer);
				}
			}
		}
	}

	/**
	 * Records whom a successor must wait for: the clients still awaited, the connected
	 * ones, and those whose leases outlive their connection (the arbiter closed it).
	 */
	private void recordClients() {
		Map<String, ArbiterState.Client> clients = new LinkedHashMap<>(this.awaited);
		for (ArbiterPeer peer : this.peers) {
			if (peer.client != null) {
				clients.put(peer.client.id(), peer.client);
			}
		}
		for (ArbiterPeer peer : this.table.clientsWithLeases()) {
			if (peer.client != null) {
				clients.put(peer.client.id(), peer.client);
			}
		}
		this.state.clients(clients.values());
	}

	private void deliver(LockTable.Effects<ArbiterPeer> effects) {
		for (LockTable.Grant<ArbiterPeer> grant : effects.grants) {
			this.outbox.send(grant.client(),
					Protocol.pushedGrant(grant.key(), grant.token(), grant.fencingToken(), grant.expiresAtNanos()));
		}
		for (String key : effects.released) {
			Set<ArbiterPeer> watching = this.watchers.get(key);
			if (watching != null) {
				ByteBuffer push = Protocol.pushedRelease(key);
				for (ArbiterPeer peer : List.copyOf(watching)) {
					this.outbox.send(peer, push.duplicate());
				}
			}
		}
	}

	/**
	 * Forgets a connection the arbiter dropped.
	 * @param peer the connection
	 * @param gone whether the client closed it: its leases are freed at once; otherwise
	 * the arbiter closed it, and its leases run out unless it takes them back
	 * @param closing whether the arbiter is stopping (the state is then written once, by
	 * {@link #handOver})
	 */
	void disconnected(ArbiterPeer peer, boolean gone, boolean closing) {
		for (String key : peer.watched) {
			unwatch(peer, key);
		}
		this.deferred.removeIf((waiting) -> waiting.peer == peer);
		LockTable.Effects<ArbiterPeer> effects = new LockTable.Effects<>();
		if (gone) {
			this.table.disconnect(peer, System.nanoTime(), effects);
		}
		else {
			this.table.orphan(peer, System.nanoTime(), effects);
		}
		if (peer.client != null && !closing) {
			recordClients();
		}
		deliver(effects);
	}

	private void unwatch(ArbiterPeer peer, String key) {
		Set<ArbiterPeer> watching = this.watchers.get(key);
		if (watching != null && watching.remove(peer) && watching.isEmpty()) {
			this.watchers.remove(key);
		}
	}

	/**
	 * Writes the state a successor starts from: exactly the clients that hold or wait for
	 * something (not the one that runs this arbiter, which stops with it), and a horizon
	 * no later than their leases run.
	 */
	void handOver() {
		long now = System.nanoTime();
		Map<String, ArbiterState.Client> clients = new LinkedHashMap<>(this.awaited);
		for (ArbiterPeer peer : this.table.clientsWithLeases()) {
			if (peer.client != null && !peer.client.id().equals(this.ownerId)) {
				clients.put(peer.client.id(), peer.client);
			}
		}
		long horizon = this.awaited.isEmpty() ? this.table.latestExpiry(now)
				: Math.max(this.state.horizon(), this.table.latestExpiry(now));
		this.state.handOver(clients.values(), horizon);
	}

	/**
	 * Sends a frame to a connection.
	 */
	@FunctionalInterface
	interface Outbox {

		void send(ArbiterPeer peer, ByteBuffer frame);

	}

	private record Deferred(ArbiterPeer peer, Protocol.Acquire request, long deadlineNanos) {
	}

}
