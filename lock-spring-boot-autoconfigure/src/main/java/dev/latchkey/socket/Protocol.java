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
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The arbiter's wire format, every message in one place: how each is written and read,
 * side by side.
 * <p>
 * Messages are {@link Frame frames}. A request starts with its kind and an id chosen by
 * the client; the arbiter's answer carries the same id, so a client may have several
 * requests in flight. The arbiter also pushes two messages of its own: a grant to a
 * queued waiter, and a release to the watchers of a key. Times are readings of the host's
 * monotonic clock ({@link System#nanoTime()}), which every process of the host shares;
 * the client checks that it does when it connects ({@link Hello}).
 *
 * <pre>
 * request                                              answer
 * HELLO clientId name pid started pidNamespace clientNanos   arbiterNanos
 * ACQUIRE key token limit ttlNanos owner description queue record
 *                                                      GRANTED fencing expiresAt | QUEUED | HELD | LIMIT heldLimit | GONE
 * DEQUEUE key token                                    OK | NO
 * RELEASE key token                                    OK | NO
 * FORCE_RELEASE key                                    OK | NO
 * RENEW n (key token ttlNanos)*                        n token*   (those no longer held)
 * RECORD name ttlNanos                                 OK | NO    (NO: the name is taken)
 * RENEW_RECORD name ttlNanos                           OK n token* (those evicted) | NO (gone)
 * REASSERT n (key token limit owner fencing expiresAt description record)*  n token* (those refused)
 * REASSERTED                                           OK         (this client has re-asserted everything)
 * INSPECT key                                          OK lock | NO
 * WAITERS key                                          OK count   (requests queued for the key)
 * LIST afterKey                                        n lock* more
 * WATCH key, UNWATCH key                               OK
 * STATS                                                clients keys holders grants requests
 * pushed: GRANTED key token fencing expiresAt, RELEASED key
 * </pre>
 * <p>
 * A limit of 0 asks for an exclusive lease, -1 for a shared one (a read/write lock's
 * reader). A lock is written {@code key exclusive limit n (owner fencing remainingNanos
 * description)*}, with a limit of -1 for shared holders. A description is {@code ""} when
 * the holder has none. A lease's {@code record} names the owner record that keeps it held
 * ({@link LockTable}), {@code ""} for none; an acquisition that names a record the
 * arbiter does not have (or has seen expire) is answered {@code GONE}. A frame that does
 * not parse closes the connection that sent it, and nothing else: the arbiter and its
 * clients are of one version of Latchkey (the frames changed when holders got
 * descriptions, and again when leases got owner records).
 */
final class Protocol {

	static final int HELLO = 1;

	static final int ACQUIRE = 2;

	static final int DEQUEUE = 3;

	static final int RELEASE = 4;

	static final int FORCE_RELEASE = 5;

	static final int RENEW = 6;

	static final int REASSERT = 7;

	static final int REASSERTED = 8;

	static final int INSPECT = 9;

	static final int LIST = 10;

	static final int WATCH = 11;

	static final int UNWATCH = 12;

	static final int STATS = 13;

	static final int WAITERS = 14;

	static final int RECORD = 15;

	static final int RENEW_RECORD = 16;

	static final int ANSWER = 64;

	static final int PUSHED_GRANT = 65;

	static final int PUSHED_RELEASE = 66;

	private static final int OK = 0;

	private static final int NO = 1;

	private static final int QUEUED = 2;

	private static final int LIMIT = 3;

	private static final int GONE = 4;

	private Protocol() {
	}

	/**
	 * Reads one request, checking that nothing follows its fields.
	 * @param frame the frame's payload
	 * @return the request
	 * @throws IllegalArgumentException if the frame is not a well-formed request
	 */
	static Request readRequest(Frame.Reader frame) {
		int kind = frame.kind();
		long id = frame.getLong();
		Request request = switch (kind) {
			case HELLO -> new Hello(id, frame.getString(), frame.getString(), frame.getLong(), frame.getLong(),
					frame.getString(), frame.getLong());
			case ACQUIRE -> new Acquire(id, frame.getString(), frame.getString(), frame.getInt(), frame.getLong(),
					frame.getString(), frame.getString(), frame.getBoolean(), frame.getString());
			case DEQUEUE, RELEASE -> new KeyToken(id, kind, frame.getString(), frame.getString());
			case FORCE_RELEASE, INSPECT, WATCH, UNWATCH, WAITERS -> new KeyOnly(id, kind, frame.getString());
			case RENEW -> Renew.read(id, frame);
			case REASSERT -> Reassert.read(id, frame);
			case REASSERTED, STATS -> new Bare(id, kind);
			case LIST -> new ListPage(id, frame.getString());
			case RECORD, RENEW_RECORD -> new OwnerRecord(id, kind, frame.getString(), frame.getLong());
			default -> throw new IllegalArgumentException("Unknown request kind " + kind);
		};
		frame.end();
		return request;
	}

	/**
	 * A request from a client.
	 */
	sealed interface Request permits Hello, Acquire, KeyToken, KeyOnly, Renew, Reassert, Bare, ListPage, OwnerRecord {

		long id();

		int kind();

	}

	/**
	 * The first request on a connection.
	 *
	 * @param clientId the client's identity, one per repository instance: what a new
	 * arbiter waits for
	 * @param name the client's name, for logs
	 * @param pid the client's process id
	 * @param started when the client's process started (epoch milliseconds), to tell a
	 * reused pid, or -1
	 * @param pidNamespace the namespace of the pid, so that the arbiter checks only pids
	 * it can see
	 * @param clientNanos the client's clock when it sent the request
	 */
	record Hello(long id, String clientId, String name, long pid, long started, String pidNamespace,
			long clientNanos) implements Request {

		@Override
		public int kind() {
			return HELLO;
		}

		ByteBuffer write() {
			return new Frame.Writer(HELLO).putLong(this.id)
				.putString(this.clientId)
				.putString(this.name)
				.putLong(this.pid)
				.putLong(this.started)
				.putString(this.pidNamespace)
				.putLong(this.clientNanos)
				.finish();
		}

		static ByteBuffer answer(long id, long arbiterNanos) {
			return Protocol.answer(id, OK).putLong(arbiterNanos).finish();
		}

		static long readAnswer(Frame.Reader answer) {
			expectOk(answer);
			return answer.getLong();
		}

	}

	/**
	 * An attempt to acquire a lease, or to queue for it.
	 *
	 * @param permits the semaphore's permits, 0 for an exclusive lease, -1 for a shared
	 * one
	 * @param description the holder's description, {@code ""} for none
	 * @param queue whether to queue when the key is held, rather than answer
	 * {@link AcquireOutcome#held()}
	 * @param record the owner record the lease is to name, {@code ""} for none
	 */
	record Acquire(long id, String key, String token, int permits, long ttlNanos, String owner, String description,
			boolean queue, String record) implements Request {

		Acquire(long id, String key, String token, int permits, long ttlNanos, String owner, String description,
				boolean queue) {
			this(id, key, token, permits, ttlNanos, owner, description, queue, "");
		}

		@Override
		public int kind() {
			return ACQUIRE;
		}

		ByteBuffer write() {
			return new Frame.Writer(ACQUIRE).putLong(this.id)
				.putString(this.key)
				.putString(this.token)
				.putInt(this.permits)
				.putLong(this.ttlNanos)
				.putString(this.owner)
				.putString(this.description)
				.putBoolean(this.queue)
				.putString(this.record)
				.finish();
		}

		static ByteBuffer granted(long id, long fencingToken, long expiresAtNanos) {
			return answer(id, OK).putLong(fencingToken).putLong(expiresAtNanos).finish();
		}

		static ByteBuffer queued(long id) {
			return answer(id, QUEUED).finish();
		}

		static ByteBuffer held(long id) {
			return answer(id, NO).finish();
		}

		static ByteBuffer limitConflict(long id, int heldLimit) {
			return answer(id, LIMIT).putInt(heldLimit).finish();
		}

		static ByteBuffer recordGone(long id) {
			return answer(id, GONE).finish();
		}

		static AcquireOutcome readAnswer(Frame.Reader answer) {
			int status = answer.getByte();
			return switch (status) {
				case OK -> new AcquireOutcome(status, answer.getLong(), answer.getLong(), 0);
				case NO, QUEUED, GONE -> new AcquireOutcome(status, 0, 0, 0);
				case LIMIT -> new AcquireOutcome(status, 0, 0, answer.getInt());
				default -> throw new IllegalArgumentException("Unknown acquire answer " + status);
			};
		}

	}

	/**
	 * The arbiter's answer to an {@link Acquire}.
	 *
	 * @param fencingToken the grant's fencing token, when granted
	 * @param expiresAtNanos when the arbiter expires the grant unless renewed, when
	 * granted
	 * @param heldLimit the limit the key's holders have, when the request's limit
	 * conflicts with it
	 */
	record AcquireOutcome(int status, long fencingToken, long expiresAtNanos, int heldLimit) {

		boolean granted() {
			return this.status == OK;
		}

		boolean queued() {
			return this.status == QUEUED;
		}

		boolean held() {
			return this.status == NO;
		}

		boolean limitConflict() {
			return this.status == LIMIT;
		}

		boolean recordGone() {
			return this.status == GONE;
		}

	}

	/**
	 * {@code DEQUEUE} or {@code RELEASE}: a request about one lease, answered
	 * {@link #yes}/{@link #no}.
	 */
	record KeyToken(long id, int kind, String key, String token) implements Request {

		static ByteBuffer write(int kind, long id, String key, String token) {
			return new Frame.Writer(kind).putLong(id).putString(key).putString(token).finish();
		}

	}

	/**
	 * {@code FORCE_RELEASE}, {@code INSPECT}, {@code WATCH}, {@code UNWATCH} or
	 * {@code WAITERS}: a request about one key.
	 */
	record KeyOnly(long id, int kind, String key) implements Request {

		static ByteBuffer write(int kind, long id, String key) {
			return new Frame.Writer(kind).putLong(id).putString(key).finish();
		}

		static ByteBuffer lock(long id, LockTable.Description lock) {
			Frame.Writer frame = answer(id, OK);
			writeLock(frame, lock);
			return frame.finish();
		}

		static LockTable.@Nullable Description readLock(Frame.Reader answer) {
			return (answer.getByte() == OK) ? readLockFields(answer) : null;
		}

		static ByteBuffer waiters(long id, int count) {
			return answer(id, OK).putInt(count).finish();
		}

		static int readWaiters(Frame.Reader answer) {
			expectOk(answer);
			return answer.getInt();
		}

	}

	/**
	 * {@code REASSERTED} or {@code STATS}: a request with no fields.
	 */
	record Bare(long id, int kind) implements Request {

		static ByteBuffer write(int kind, long id) {
			return new Frame.Writer(kind).putLong(id).finish();
		}

		static ByteBuffer stats(long id, long clients, long keys, long holders, long grants, long requests) {
			return answer(id, OK).putLong(clients)
				.putLong(keys)
				.putLong(holders)
				.putLong(grants)
				.putLong(requests)
				.finish();
		}

		static long[] readStats(Frame.Reader answer) {
			expectOk(answer);
			return new long[] { answer.getLong(), answer.getLong(), answer.getLong(), answer.getLong(),
					answer.getLong() };
		}

	}

	/**
	 * Renews leases, in frames of at most about {@link Frame#CHUNK_BYTES}.
	 */
	record Renew(long id, List<Renewal> renewals) implements Request {

		@Override
		public int kind() {
			return RENEW;
		}

		static Renew read(long id, Frame.Reader frame) {
			int count = frame.getCount(16);
			List<Renewal> renewals = new ArrayList<>(count);
			for (int i = 0; i < count; i++) {
				renewals.add(new Renewal(frame.getString(), frame.getString(), frame.getLong()));
			}
			return new Renew(id, renewals);
		}

		ByteBuffer write() {
			Frame.Writer frame = new Frame.Writer(RENEW).putLong(this.id).putInt(this.renewals.size());
			for (Renewal renewal : this.renewals) {
				frame.putString(renewal.key()).putString(renewal.token()).putLong(renewal.ttlNanos());
			}
			return frame.finish();
		}

	}

	record Renewal(String key, String token, long ttlNanos) {
	}

	/**
	 * {@code RECORD} or {@code RENEW_RECORD}: makes or renews an owner record, which
	 * lives {@code ttlNanos} from when the arbiter reads the request.
	 */
	record OwnerRecord(long id, int kind, String name, long ttlNanos) implements Request {

		static ByteBuffer write(int kind, long id, String name, long ttlNanos) {
			return new Frame.Writer(kind).putLong(id).putString(name).putLong(ttlNanos).finish();
		}

		/**
		 * The answer to a renewal: renewed, with the tokens of the record's leases that a
		 * force-release evicted since the last renewal.
		 */
		static ByteBuffer renewed(long id, List<String> evicted) {
			return tokens(id, evicted);
		}

		/**
		 * Reads the answer to a renewal.
		 * @return the evicted tokens, or {@code null} when the record is gone
		 */
		static @Nullable List<String> readRenewal(Frame.Reader answer) {
			if (answer.getByte() != OK) {
				return null;
			}
			return readTokenList(answer);
		}

	}

	/**
	 * Re-asserts, at a new arbiter, leases granted by an earlier one, in frames of at
	 * most about {@link Frame#CHUNK_BYTES}.
	 */
	record Reassert(long id, List<Claim> claims) implements Request {

		@Override
		public int kind() {
			return REASSERT;
		}

		static Reassert read(long id, Frame.Reader frame) {
			int count = frame.getCount(40);
			List<Claim> claims = new ArrayList<>(count);
			for (int i = 0; i < count; i++) {
				claims.add(new Claim(frame.getString(), frame.getString(), frame.getInt(), frame.getString(),
						frame.getLong(), frame.getLong(), frame.getString(), frame.getString()));
			}
			return new Reassert(id, claims);
		}

		ByteBuffer write() {
			Frame.Writer frame = new Frame.Writer(REASSERT).putLong(this.id).putInt(this.claims.size());
			for (Claim claim : this.claims) {
				frame.putString(claim.key())
					.putString(claim.token())
					.putInt(claim.permits())
					.putString(claim.owner())
					.putLong(claim.fencingToken())
					.putLong(claim.expiresAtNanos())
					.putString(claim.description())
					.putString(claim.record());
			}
			return frame.finish();
		}

	}

	/**
	 * A lease as its holder knows it.
	 *
	 * @param permits the semaphore's permits, 0 for an exclusive lease, -1 for a shared
	 * one
	 * @param expiresAtNanos the holder's own deadline, never later than the arbiter's
	 * that granted or renewed it
	 * @param description the holder's description, {@code ""} for none
	 * @param record the owner record the lease names, {@code ""} for none
	 */
	record Claim(String key, String token, int permits, String owner, long fencingToken, long expiresAtNanos,
			String description, String record) {

		Claim(String key, String token, int permits, String owner, long fencingToken, long expiresAtNanos) {
			this(key, token, permits, owner, fencingToken, expiresAtNanos, "", "");
		}

	}

	/**
	 * One page of the held keys, in key order, after a key ({@code ""} for the first
	 * page).
	 */
	record ListPage(long id, String after) implements Request {

		@Override
		public int kind() {
			return LIST;
		}

		ByteBuffer write() {
			return new Frame.Writer(LIST).putLong(this.id).putString(this.after).finish();
		}

		static Frame.Writer startAnswer(long id) {
			return answer(id, OK);
		}

		static void writeLocks(Frame.Writer frame, List<LockTable.Description> locks, boolean more) {
			frame.putInt(locks.size());
			locks.forEach((lock) -> writeLock(frame, lock));
			frame.putBoolean(more);
		}

		static Page readAnswer(Frame.Reader answer) {
			expectOk(answer);
			int count = answer.getCount(13);
			List<LockTable.Description> locks = new ArrayList<>(count);
			for (int i = 0; i < count; i++) {
				locks.add(readLockFields(answer));
			}
			return new Page(locks, answer.getBoolean());
		}

	}

	record Page(List<LockTable.Description> locks, boolean more) {
	}

	// Answers shared by several requests

	static ByteBuffer yes(long id) {
		return answer(id, OK).finish();
	}

	static ByteBuffer no(long id) {
		return answer(id, NO).finish();
	}

	static boolean readYesNo(Frame.Reader answer) {
		return answer.getByte() == OK;
	}

	/**
	 * The answer to {@link Renew} and {@link Reassert}: the tokens that are not held.
	 */
	static ByteBuffer tokens(long id, List<String> tokens) {
		Frame.Writer frame = answer(id, OK).putInt(tokens.size());
		tokens.forEach(frame::putString);
		return frame.finish();
	}

	static List<String> readTokens(Frame.Reader answer) {
		expectOk(answer);
		return readTokenList(answer);
	}

	private static List<String> readTokenList(Frame.Reader answer) {
		int count = answer.getCount(4);
		List<String> tokens = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			tokens.add(answer.getString());
		}
		return tokens;
	}

	// Pushes

	static ByteBuffer pushedGrant(String key, String token, long fencingToken, long expiresAtNanos) {
		return new Frame.Writer(PUSHED_GRANT).putString(key)
			.putString(token)
			.putLong(fencingToken)
			.putLong(expiresAtNanos)
			.finish();
	}

	/**
	 * A grant pushed to a queued waiter.
	 */
	record PushedGrant(String key, String token, long fencingToken, long expiresAtNanos) {

		static PushedGrant read(Frame.Reader frame) {
			return new PushedGrant(frame.getString(), frame.getString(), frame.getLong(), frame.getLong());
		}

	}

	static ByteBuffer pushedRelease(String key) {
		return new Frame.Writer(PUSHED_RELEASE).putString(key).finish();
	}

	static String readPushedRelease(Frame.Reader frame) {
		return frame.getString();
	}

	// Helpers

	private static Frame.Writer answer(long id, int status) {
		return new Frame.Writer(ANSWER).putLong(id).putByte(status);
	}

	private static void expectOk(Frame.Reader answer) {
		if (answer.getByte() != OK) {
			throw new IllegalArgumentException("Unexpected answer");
		}
	}

	private static void writeLock(Frame.Writer frame, LockTable.Description lock) {
		frame.putString(lock.key()).putBoolean(lock.exclusive()).putInt(lock.permits()).putInt(lock.holders().size());
		for (LockTable.Description.Holder holder : lock.holders()) {
			frame.putString(holder.owner())
				.putLong(holder.fencingToken())
				.putLong(holder.remainingNanos())
				.putString((holder.description() != null) ? holder.description() : "");
		}
	}

	private static LockTable.Description readLockFields(Frame.Reader frame) {
		String key = frame.getString();
		boolean exclusive = frame.getBoolean();
		int limit = frame.getInt();
		int count = frame.getCount(24);
		List<LockTable.Description.Holder> holders = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			String owner = frame.getString();
			long fencingToken = frame.getLong();
			long remainingNanos = frame.getLong();
			String description = frame.getString();
			holders.add(new LockTable.Description.Holder(owner, fencingToken, remainingNanos,
					description.isEmpty() ? null : description));
		}
		return new LockTable.Description(key, exclusive, limit, holders);
	}

}
