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

package dev.latchkey.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.ClusterSlotHashUtil;
import org.springframework.data.redis.connection.MessageListener;
import org.springframework.data.redis.connection.RedisClusterConnection;
import org.springframework.data.redis.connection.RedisClusterNode;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.util.Assert;
import org.springframework.util.ClassUtils;
import org.springframework.util.backoff.FixedBackOff;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockBackendException;
import dev.latchkey.LockInfo;
import dev.latchkey.LockPermitsConflictException;
import dev.latchkey.LockRepository;
import dev.latchkey.ReleaseSubscription;
import dev.latchkey.support.FailureMessages;
import dev.latchkey.support.FairExclusiveQueueing;
import dev.latchkey.support.OwnerRecordLeases;
import dev.latchkey.support.ReleaseListeners;

/**
 * The Redis backend: locks shared by every process that uses the same Redis, through the
 * application's own {@link RedisConnectionFactory} (standalone, Sentinel or Cluster; TLS
 * and ACL users work because the factory does).
 *
 * <pre class="code">
 * RedisLockRepository repository = new RedisLockRepository(connectionFactory, "latchkey");
 * LockTemplate locks = new LockTemplate(repository, LockSettings.defaults());
 * locks.exclusive("order:42").run(() -&gt; pay(42));
 * </pre>
 * <p>
 * Every operation is one Lua script, run with {@code EVALSHA} (falling back to
 * {@code EVAL} once per script and server): acquiring and releasing are one round trip
 * each. Renewing any number of exclusive leases is one round trip per TTL, through their
 * owner record (below); on a Cluster, where each slot has records of its own, one round
 * trip per primary and 2,000 records, touching keys of many slots, which Redis 7.0
 * allows. Other leases are renewed one round trip per 2,000 leases (on a Cluster, of one
 * primary; before Redis 7.0, of one slot, and there exclusive leases name no records), so
 * that no script holds the server for long. Redis's clock decides expiry ({@code PEXPIRE}
 * and {@code TIME}); the client's clock is never compared with it.
 * <p>
 * Key layout, for a lock key {@code k} in the namespace {@code ns}; the hash tag
 * {@code {ns:k}} puts all of a key's entries in one Cluster slot, so that each script but
 * a Cluster renewal touches one slot only:
 * <ul>
 * <li>{@code {ns:k}:lock}: a hash ({@code token}, {@code owner}, {@code fence}, and
 * {@code description} when the lease has one) while the key is held exclusively: with the
 * lease's TTL, or with a {@code record} field naming its holder's owner record, and held
 * while that record exists;</li>
 * <li>{@code {ns:k}:permits}: a sorted set of the semaphore's permits, lease token to
 * expiry (milliseconds of the server's clock), and {@code {ns:k}:holders}: a hash of
 * lease token to {@code "<fence> <limit> <owner>\n<description>"} (the description empty
 * when there is none; it holds no line break, so the last one separates it); both expire
 * with their last permit, and expired permits are purged by the next acquisition;</li>
 * <li>shared holders of a read/write lock are kept as the permits are, with a limit of
 * {@code 0}; {@code {ns:k}:writers}: a sorted set of the writers waiting for the key,
 * lease token to expiry, which keeps new shared holders out while it has an unexpired
 * entry (writer preference; it expires with its last entry);</li>
 * <li>{@code {ns:k}:fence}: the key's fencing counter, incremented by every grant. It is
 * kept when the key is free, so that fencing tokens never go backwards.</li>
 * <li>{@code {ns:k}:queue} and {@code {ns:k}:queued}: the key's fair queue
 * ({@link #acquireQueued}), a sorted set of places ({@code <instance> <token>}) by the
 * order they joined, and a hash of each place's deadline and of the counter that orders
 * them; both expire with their longest-lived waiter.</li>
 * <li>{@code {ns:}:owner:<id>}: an owner record, one per repository and TTL, with that
 * TTL: renewing it renews every lock that names it. A record that is gone is never made
 * again. {@code {ns:}:owner:<id>:revoked} holds the tokens of its leases that a
 * force-release evicted, until its next renewal reads them. On a Cluster a lock names a
 * record of its own slot, one per repository, TTL and slot (made with the slot's first
 * such lock): {@code {ns:~<n>}:owner:<id>:<serial>}, whose hash tag {@code ns:~<n>} is
 * the first of that form that hashes to the slot.</li>
 * </ul>
 * A release wakes one instance: the first in the key's wake line {@code {ns:k}:wake}, a
 * sorted set of the repositories whose exclusive callers wait for the key, by the time
 * each joined (a waiting caller's refused attempt puts its repository there, unless it is
 * there already, and a waiting caller's grant takes it off). The release takes that
 * instance off the line and publishes the key on its channel {@code ns:wake:<id>}; with
 * nobody in the line, on {@code ns:released}, which every instance hears. One
 * subscription per repository to both (started when the first waiter subscribes)
 * dispatches those messages to the waiters of this process. A key with fair waiters is
 * woken differently: its release wakes the first of them alone, by a message that names
 * it, and leaves the wake line as it is.
 * <p>
 * Redis failures (refused connection, timeout, a script refused by an ACL) are thrown as
 * {@link LockBackendException}. Close the repository to stop its subscription.
 *
 * @since 0.1.0
 */
public class RedisLockRepository implements FairExclusiveQueueing, AutoCloseable {

	/**
	 * The namespace used when none is given.
	 */
	public static final String DEFAULT_NAMESPACE = "latchkey";

	/**
	 * The name prefix of the repository's threads when no thread factory is given.
	 */
	public static final String DEFAULT_THREAD_NAME_PREFIX = "latchkey-redis-";

	private static final LogAccessor logger = new LogAccessor(RedisLockRepository.class);

	private static final boolean LETTUCE_PRESENT = ClassUtils.isPresent("io.lettuce.core.RedisFuture",
			RedisLockRepository.class.getClassLoader());

	// The most leases one renewal script names: a script runs alone on the server, and
	// 2,000 leases take it a few milliseconds, under the 10 ms that Redis's slow log
	// reports by default. Renewing 100,000 leases in one script took it 100-270 ms.
	private static final int MAX_RENEWAL_BATCH = 2_000;

	// The most leases one renewal call names on a Cluster, whose scripts (one per primary
	// and 2,000 leases, or one per slot) are sent at once. Each lease's renewal is timed
	// from when its call began: 100,000 in one call took 0.7 to 1 s to answer.
	private static final int MAX_CLUSTER_RENEWAL_BATCH = 20_000;

	// The answer of an acquisition whose owner record is gone.
	private static final long GONE = -1;

	// What starts a message that wakes a fair waiter, before the waiter's token (a lock
	// key's release message is the key).
	private static final String FAIR_WAKE = "\u0001";

	// What starts a message that tells a fair waiter that a release granted it the key,
	// before '<fencing token> <length of the token in bytes> <token><owner record>'.
	private static final byte FAIR_GRANT = 2;

	// clock(): the server's time, in milliseconds.
	private static final String CLOCK = """
			local function clock()
				local time = redis.call('TIME')
				return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
			end
			""";

	// holds(): whether an exclusive lock is held: its key exists and, when it names an
	// owner record, so does that record. held_now(): whether a key is held at all:
	// exclusively, or by a permit or shared holder that has not expired at the server's
	// time 'now' (read when needed, if nil). holder(): the lock's token, fencing token
	// and owner record when the lease 'token' holds it, else nil. With clock().
	private static final String HELD = CLOCK + """
			local function holds(lock)
				local owner = redis.call('HGET', lock, 'record')
				if owner then
					return redis.call('EXISTS', owner) == 1
				end
				return redis.call('EXISTS', lock) == 1
			end
			local function held_now(lock, permits, now)
				return holds(lock) or (redis.call('EXISTS', permits) == 1
					and redis.call('ZCOUNT', permits, '(' .. (now or clock()), '+inf') > 0)
			end
			local function holder(lock, token)
				local held = redis.call('HMGET', lock, 'token', 'fence', 'record')
				if held[1] == token and holds(lock) then
					return held
				end
				return nil
			end
			""";

	// Grants the exclusive lock KEYS[lock] at the fencing token 'fence', with ARGV
	// token, owner, ttl, description, record and lifetime at the given indexes: named by
	// the owner record, and kept for the lock key's lifetime, or with the lease's TTL
	// when the record is ''. A dead holder's entry is replaced whole.
	private static final String GRANT = """
			local function grant(lock, fence, token, owner, ttl, description, record, lifetime)
				redis.call('DEL', lock)
				redis.call('HSET', lock, 'token', token, 'owner', owner, 'fence', fence)
				if description ~= '' then
					redis.call('HSET', lock, 'description', description)
				end
				if record ~= '' then
					redis.call('HSET', lock, 'record', record)
					redis.call('PEXPIRE', lock, lifetime)
				else
					redis.call('PEXPIRE', lock, ttl)
				end
			end
			-- Whether the owner record 'record' ('' for none) still exists; it then lasts
			-- at least 'ttl' from now, as the lease granted with it must.
			local function owned(record, ttl)
				if record == '' then
					return true
				end
				if redis.call('EXISTS', record) == 0 then
					return false
				end
				if redis.call('PTTL', record) < tonumber(ttl) then
					redis.call('PEXPIRE', record, ttl)
				end
				return true
			end
			""";

	// The fair queue of a key: 'queue', a sorted set of places ('<instance> <token>') by
	// the order they joined, and 'queued', a hash of each place's deadline (milliseconds
	// of the server's clock), of what a release needs to grant the place the key ('>'
	// before the place: its owner, TTL, description, owner record and lock key lifetime,
	// in JSON; written by the waiter's attempts when its lease names an owner record) and
	// of the counter that orders them ('~seq'). drop() deletes a place and what it
	// keeps; head() answers the first place whose deadline has not passed, dropping the
	// ones before it; split() answers a place's instance and token; wake_first()
	// publishes the first place's token, after U+0001, on its instance's wake channel,
	// and answers whether there was one. After HELD.
	private static final String FAIR_QUEUE = """
			local function drop(queue, queued, place)
				redis.call('ZREM', queue, place)
				redis.call('HDEL', queued, place, '>' .. place)
			end
			local function head(queue, queued, now)
				while true do
					local first = redis.call('ZRANGE', queue, 0, 0)[1]
					if not first then
						return nil
					end
					if tonumber(redis.call('HGET', queued, first) or '0') > now then
						return first
					end
					drop(queue, queued, first)
				end
			end
			local function split(place)
				local space = string.find(place, ' ', 1, true)
				return string.sub(place, 1, space - 1), string.sub(place, space + 1)
			end
			local function wake_first(queue, queued, now, prefix)
				local first = head(queue, queued, now)
				if not first then
					return false
				end
				local instance, token = split(first)
				redis.call('PUBLISH', prefix .. instance, '\\1' .. token)
				return true
			end
			""";

	// KEYS: lock, permits, fence, writers, wake. ARGV: token, owner, ttl (ms), waiting
	// ('1' or '0'), description ('' for none), owner record ('' for none), lock key
	// lifetime (ms), instance. Answers the fencing token, nil when held, or -1 when the
	// owner record is gone; a waiting caller that is refused records (or renews) its
	// writer wait and puts its instance in the wake line, unless it is there already (it
	// keeps its place), and a grant removes both.
	private static final RedisScript<Long> ACQUIRE = RedisScript.of(HELD + GRANT + """
			if held_now(KEYS[1], KEYS[2]) then
				if ARGV[4] == '1' then
					local now = clock()
					redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
					redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[1])
					redis.call('PEXPIREAT', KEYS[4], redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')[2])
					redis.call('ZADD', KEYS[5], 'NX', now, ARGV[8])
					if redis.call('PTTL', KEYS[5]) < tonumber(ARGV[3]) then
						redis.call('PEXPIRE', KEYS[5], ARGV[3])
					end
				end
				return false
			end
			if not owned(ARGV[6], ARGV[3]) then
				return -1
			end
			local fence = redis.call('INCR', KEYS[3])
			grant(KEYS[1], fence, ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[6], ARGV[7])
			if ARGV[4] == '1' then
				redis.call('ZREM', KEYS[4], ARGV[1])
				redis.call('ZREM', KEYS[5], ARGV[8])
			end
			return fence
			""", Long.class);

	// KEYS: lock, permits, fence of each lease. ARGV: token, owner, ttl (ms), description
	// ('' for none) of each lease, then the owner record ('' for none) and the lock keys'
	// lifetime (ms). Answers the fencing tokens, in the leases' order, {} when any key is
	// held (every key is checked before any is written, so none is granted then), or
	// {'-1'} when the owner record is gone.
	private static final RedisScript<List<String>> ACQUIRE_ALL = listScript(HELD + GRANT + """
			for i = 0, #KEYS / 3 - 1 do
				if held_now(KEYS[i * 3 + 1], KEYS[i * 3 + 2]) then
					return {}
				end
			end
			local record, lifetime = ARGV[#ARGV - 1], ARGV[#ARGV]
			if not owned(record, ARGV[3]) then
				return { '-1' }
			end
			local fences = {}
			for i = 0, #KEYS / 3 - 1 do
				local fence = redis.call('INCR', KEYS[i * 3 + 3])
				grant(KEYS[i * 3 + 1], fence, ARGV[i * 4 + 1], ARGV[i * 4 + 2], ARGV[i * 4 + 3], ARGV[i * 4 + 4],
					record, lifetime)
				fences[#fences + 1] = tostring(fence)
			end
			return fences
			""");

	// KEYS: lock, permits, holders, fence, writers, queue, queued. ARGV: token, owner,
	// ttl (ms), description ('' for none). Answers the fencing token, or nil when the key
	// is held exclusively or as a semaphore, or a writer waits for it (a recorded writer
	// wait, or a fair writer in the queue). Shared holders are kept as permits whose
	// limit is 0.
	private static final RedisScript<Long> ACQUIRE_SHARED = RedisScript.of(HELD + FAIR_QUEUE + """
			if holds(KEYS[1]) then
				return false
			end
			local now = clock()
			local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
			for _, token in ipairs(expired) do
				redis.call('ZREM', KEYS[2], token)
				redis.call('HDEL', KEYS[3], token)
			end
			if redis.call('ZCARD', KEYS[2]) > 0 then
				local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
				local holder = redis.call('HGET', KEYS[3], first)
				if holder and string.match(holder, '^%S+ (%d+)') ~= '0' then
					return false
				end
			end
			redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
			if redis.call('ZCARD', KEYS[5]) > 0 then
				return false
			end
			if redis.call('EXISTS', KEYS[6]) == 1 and head(KEYS[6], KEYS[7], now) then
				return false
			end
			local fence = redis.call('INCR', KEYS[4])
			redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
			redis.call('HSET', KEYS[3], ARGV[1], fence .. ' 0 ' .. ARGV[2] .. '\\n' .. ARGV[4])
			local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
			redis.call('PEXPIREAT', KEYS[2], last)
			redis.call('PEXPIREAT', KEYS[3], last)
			return fence
			""", Long.class);

	// KEYS: lock, permits, holders, fence. ARGV: token, owner, ttl (ms), limit,
	// description ('' for none). Answers the fencing token, nil when all permits are
	// held, or minus the holders' limit when it is not the requested one.
	private static final RedisScript<Long> ACQUIRE_PERMIT = RedisScript.of(HELD + """
			if holds(KEYS[1]) then
				return false
			end
			local now = clock()
			local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
			for _, token in ipairs(expired) do
				redis.call('ZREM', KEYS[2], token)
				redis.call('HDEL', KEYS[3], token)
			end
			local held = redis.call('ZCARD', KEYS[2])
			if held > 0 then
				local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
				local holder = redis.call('HGET', KEYS[3], first)
				local limit = holder and tonumber(string.match(holder, '^%S+ (%d+)'))
				if limit == 0 then
					return false
				end
				if limit and limit ~= tonumber(ARGV[4]) then
					return -limit
				end
			end
			if held >= tonumber(ARGV[4]) then
				return false
			end
			local fence = redis.call('INCR', KEYS[4])
			redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
			redis.call('HSET', KEYS[3], ARGV[1], fence .. ' ' .. ARGV[4] .. ' ' .. ARGV[2] .. '\\n' .. ARGV[5])
			local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
			redis.call('PEXPIREAT', KEYS[2], last)
			redis.call('PEXPIREAT', KEYS[3], last)
			return fence
			""", Long.class);

	// KEYS: lock, permits, holders, fence, queue, queued. ARGV: channel, key, wake
	// channel prefix. Answers 1 when a holder was evicted, else 0. An exclusive holder
	// that names an owner record learns of it from the revocation added to the record
	// (a line with the lease's token, see RENEW_RECORD), which its next renewal reads.
	// The first fair waiter, if any, is woken beside every instance.
	private static final RedisScript<Long> FORCE_RELEASE = RedisScript.of(HELD + FAIR_QUEUE + """
			local held = holds(KEYS[1])
			if held then
				local lock = redis.call('HMGET', KEYS[1], 'token', 'record')
				if lock[2] then
					redis.call('APPEND', lock[2], '\\n' .. lock[1])
				end
			else
				held = held_now(KEYS[1], KEYS[2])
			end
			redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
			if not held then
				return 0
			end
			redis.call('INCR', KEYS[4])
			redis.call('PUBLISH', ARGV[1], ARGV[2])
			if redis.call('EXISTS', KEYS[5]) == 1 then
				wake_first(KEYS[5], KEYS[6], clock(), ARGV[3])
			end
			return 1
			""", Long.class);

	// KEYS: lock, permits, fence, queue, queued. ARGV: token, owner, ttl (ms),
	// description ('' for none), owner record ('' for none), lock key lifetime (ms),
	// instance, mode. The modes: 'join' puts the caller's place at the back of the
	// queue unless it is there, then does as 'poll'; 'poll' renews the place (its
	// deadline is the TTL from now) and grants the key if it is free and the place is
	// first, answering {'x'} when the place is gone (a place past its deadline is gone,
	// deleted or not); 'once' grants the key if it is free and nobody is queued. Answers
	// {'g', fencing token}, {'q', position} when not granted (0 for first; none for
	// 'once'), or {'r'} when the owner record is gone (nothing changed then). A 'join' or
	// 'poll' of a waiter that a release granted the key already answers that grant.
	private static final RedisScript<List<String>> FAIR = listScript(HELD + GRANT + FAIR_QUEUE + """
			local now = clock()
			local member = ARGV[7] .. ' ' .. ARGV[1]
			local mode = ARGV[8]
			if mode ~= 'once' then
				-- Granted by a release whose message did not arrive (or not yet).
				local granted = holder(KEYS[1], ARGV[1])
				if granted then
					return { 'g', granted[2] }
				end
			end
			local deadline = redis.call('HGET', KEYS[5], member)
			if deadline and tonumber(deadline) <= now then
				-- Past its deadline: gone, whether or not a script deleted it yet.
				drop(KEYS[4], KEYS[5], member)
				deadline = nil
			end
			if mode == 'join' and not deadline then
				redis.call('ZADD', KEYS[4], redis.call('HINCRBY', KEYS[5], '~seq', 1), member)
			elseif mode == 'poll' and not deadline then
				return { 'x' }
			end
			if mode ~= 'once' then
				redis.call('HSET', KEYS[5], member, now + tonumber(ARGV[3]))
				if ARGV[5] ~= '' then
					redis.call('HSET', KEYS[5], '>' .. member,
						cjson.encode({ ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6] }))
				end
				for i = 4, 5 do
					if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[3]) then
						redis.call('PEXPIRE', KEYS[i], ARGV[3])
					end
				end
			end
			local first = head(KEYS[4], KEYS[5], now)
			if held_now(KEYS[1], KEYS[2], now) or (first and first ~= member) then
				if mode == 'once' then
					return { 'q' }
				end
				return { 'q', tostring(redis.call('ZRANK', KEYS[4], member)) }
			end
			if not owned(ARGV[5], ARGV[3]) then
				return { 'r' }
			end
			if mode ~= 'once' then
				drop(KEYS[4], KEYS[5], member)
			end
			local fence = redis.call('INCR', KEYS[3])
			grant(KEYS[1], fence, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
			return { 'g', tostring(fence) }
			""");

	// KEYS: lock, queue, queued. ARGV: instance, token, wake channel prefix. Withdraws a
	// fair waiter's place: answers {'w'} when it was there, {'g', fencing token, owner
	// record ('' for none)} when a release granted the waiter the key instead (its
	// message may still be on its way), else {'x'}. A place that was first wakes the next
	// when the key is free.
	private static final RedisScript<List<String>> WITHDRAW = listScript(HELD + FAIR_QUEUE + """
			local member = ARGV[1] .. ' ' .. ARGV[2]
			local position = redis.call('ZRANK', KEYS[2], member)
			if not position then
				local granted = holder(KEYS[1], ARGV[2])
				if granted then
					return { 'g', granted[2], granted[3] or '' }
				end
				return { 'x' }
			end
			drop(KEYS[2], KEYS[3], member)
			if position == 0 and not holds(KEYS[1]) then
				wake_first(KEYS[2], KEYS[3], clock(), ARGV[3])
			end
			return { 'w' }
			""");

	// KEYS: lock, permits, holders, wake, queue, queued, fence. ARGV: token, channel,
	// key, wake channel prefix, instance. Answers 0 when no longer held; when released,
	// 1 if another instance is woken, 2 if the releasing instance's waiters are to be
	// woken; 3 when no longer held (its owner record had expired) but the lock's hash
	// was deleted all the same and the releasing instance, first in the line, is to wake
	// its waiters. The release wakes the instance first in the key's wake line, on its
	// own channel, and takes it off the line (it joins again if its attempt fails); the
	// releasing instance, if first, is told by the answer alone; with nobody in the
	// line, the release tells every instance, the releasing one by the answer too. A key
	// with fair waiters serves the first of them alone, and leaves the wake line as it
	// is: when the key is free and the place says how (see FAIR_QUEUE), the release
	// grants it the key at the next fencing token (KEYS[7]) and tells its instance,
	// after U+0002, the fencing token, the length in bytes of the waiter's token, the
	// token and the owner record ('<fence> <length> <token><record>'); otherwise it
	// wakes the waiter, whose attempt follows.
	private static final RedisScript<Long> RELEASE = RedisScript.of(HELD + GRANT + FAIR_QUEUE + """
			local function serve_first()
				local now = clock()
				local first = head(KEYS[5], KEYS[6], now)
				local how = first and redis.call('HGET', KEYS[6], '>' .. first)
				if how and not held_now(KEYS[1], KEYS[2], now) then
					local place = cjson.decode(how)
					if owned(place[4], place[2]) then
						local instance, token = split(first)
						drop(KEYS[5], KEYS[6], first)
						local fence = redis.call('INCR', KEYS[7])
						grant(KEYS[1], fence, token, place[1], place[2], place[3], place[4], place[5])
						redis.call('PUBLISH', ARGV[4] .. instance,
							'\\2' .. fence .. ' ' .. string.len(token) .. ' ' .. token .. place[4])
						return true
					end
				end
				return wake_first(KEYS[5], KEYS[6], now, ARGV[4])
			end
			local function wake()
				if redis.call('EXISTS', KEYS[5]) == 1 and serve_first() then
					return 1
				end
				local next = redis.call('ZPOPMIN', KEYS[4])
				if next[1] == ARGV[5] then
					return 2
				end
				if next[1] then
					redis.call('PUBLISH', ARGV[4] .. next[1], ARGV[3])
					return 1
				end
				redis.call('PUBLISH', ARGV[2], ARGV[3])
				return 2
			end
			local lock = redis.call('HMGET', KEYS[1], 'token', 'record')
			if lock[1] == ARGV[1] then
				redis.call('DEL', KEYS[1])
				local woken = wake()
				if lock[2] and redis.call('EXISTS', lock[2]) == 0 then
					if woken == 2 then
						return 3
					end
					return 0
				end
				return woken
			end
			local expires = redis.call('ZSCORE', KEYS[2], ARGV[1])
			if not expires then
				return 0
			end
			redis.call('ZREM', KEYS[2], ARGV[1])
			redis.call('HDEL', KEYS[3], ARGV[1])
			local now = clock()
			if tonumber(expires) <= now then
				return 0
			end
			return wake()
			""", Long.class);

	// KEYS: writers, wake. ARGV: token, instance. Withdraws a writer that gives up
	// waiting: its writer wait, and its instance's place in the wake line (another caller
	// of the instance that still waits joins again with its next attempt).
	private static final RedisScript<Long> STOP_WAITING = RedisScript.of("""
			redis.call('ZREM', KEYS[1], ARGV[1])
			redis.call('ZREM', KEYS[2], ARGV[2])
			return 1
			""", Long.class);

	// Renews one lease given its lock, permits and holders keys, token, ttl (ms) and mode
	// ('e' or 's'), adding its token to the list 'lost' when it is no longer held. An
	// exclusive lease that names an owner record is moved off it, to a TTL of its own.
	private static final String RENEW_LEASE = CLOCK + """
			local now = clock()
			local lost = {}
			local function renew(lock, permits, holders, token, ttl, mode)
				if mode == 'e' then
					local held = redis.call('HMGET', lock, 'token', 'record')
					if held[1] == token and (not held[2] or redis.call('EXISTS', held[2]) == 1) then
						-- Kept with a TTL of its own from now on, rather than by its owner
						-- record.
						if held[2] then
							redis.call('HDEL', lock, 'record')
						end
						redis.call('PEXPIRE', lock, ttl)
					else
						lost[#lost + 1] = token
					end
				else
					local expires = redis.call('ZSCORE', permits, token)
					if expires and tonumber(expires) > now then
						redis.call('ZADD', permits, 'XX', now + tonumber(ttl), token)
						local last = redis.call('ZRANGE', permits, -1, -1, 'WITHSCORES')[2]
						redis.call('PEXPIREAT', permits, last)
						redis.call('PEXPIREAT', holders, last)
					else
						if expires then
							redis.call('ZREM', permits, token)
							redis.call('HDEL', holders, token)
						end
						lost[#lost + 1] = token
					end
				end
			end
			""";

	// KEYS: lock, permits, holders of each lease. ARGV: token, ttl (ms), mode of each
	// lease. Answers the tokens of the leases that are no longer held.
	private static final RedisScript<List<String>> RENEW = listScript(RENEW_LEASE + """
			for i = 0, #KEYS / 3 - 1 do
				renew(KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3], ARGV[i * 3 + 1], ARGV[i * 3 + 2],
					ARGV[i * 3 + 3])
			end
			return lost
			""");

	// The same for the leases of many slots of one Cluster primary. KEYS: the first
	// lease's lock, which routes the call to the node (a Cluster refuses a call whose
	// declared keys are of several slots). ARGV: lock, permits, holders, token, ttl and
	// mode of each lease. Redis 7's script flag lets it touch keys of several slots; a
	// key of a slot the node does not serve makes the node refuse it.
	private static final RedisScript<List<String>> RENEW_ACROSS_SLOTS = listScript(
			"#!lua flags=allow-cross-slot-keys\n" + RENEW_LEASE + """
					for i = 0, #ARGV / 6 - 1 do
						renew(ARGV[i * 6 + 1], ARGV[i * 6 + 2], ARGV[i * 6 + 3], ARGV[i * 6 + 4], ARGV[i * 6 + 5],
							ARGV[i * 6 + 6])
					end
					return lost
					""");

	// Renewing an owner record. Its value is its holder's owner, then a line for each
	// lease a force-release revoked since the record's last renewal, with the lease's
	// token: kept in the record itself, so that the revocations move with it should its
	// slot migrate to another Cluster node. renew_record(record, value, ttl) renews the
	// record whose value is 'value' for 'ttl' ms, clearing its revocations, and answers
	// their tokens.
	private static final String RENEW_RECORD = """
			local function renew_record(record, value, ttl)
				local revoked = {}
				local cut = string.find(value, '\\n', 1, true)
				if cut then
					for token in string.gmatch(string.sub(value, cut + 1), '[^\\n]+') do
						revoked[#revoked + 1] = token
					end
					redis.call('SET', record, string.sub(value, 1, cut - 1), 'PX', ttl)
				else
					redis.call('PEXPIRE', record, ttl)
				end
				return revoked
			end
			""";

	// KEYS: owner record, then the lock of each lease whose lock key's own expiry is
	// due. ARGV: ttl (ms), lock key lifetime (ms), then the token of each of those
	// leases. Answers {'gone'} when the record is gone (every lease that names it is
	// lost), else 'renewed' followed by the tokens of the leases that are not held: those
	// a force-release revoked, and those of the given locks that no longer name the
	// record.
	private static final RedisScript<List<String>> RENEW_OWNER = listScript(RENEW_RECORD + """
			local value = redis.call('GET', KEYS[1])
			if not value then
				return { 'gone' }
			end
			local lost = { 'renewed' }
			for _, token in ipairs(renew_record(KEYS[1], value, ARGV[1])) do
				lost[#lost + 1] = token
			end
			for i = 2, #KEYS do
				local held = redis.call('HMGET', KEYS[i], 'token', 'record')
				if held[1] == ARGV[i + 1] and held[2] == KEYS[1] then
					redis.call('PEXPIRE', KEYS[i], ARGV[2])
				else
					lost[#lost + 1] = ARGV[i + 1]
				end
			end
			return lost
			""");

	// The same for many owner records of one Cluster primary, whatever their slots, sent
	// to that node with no declared keys (so never as the redirection of another node's
	// call, which would let it read keys of a slot it is still importing as missing).
	// ARGV: the number of records, then the name, ttl (ms) and lock key lifetime (ms) of
	// each record, then the lock, token and record (its place among the records, from 1)
	// of each lease whose lock key's own expiry is due. Answers, for each record in
	// order, 'gone', or the number of its leases that are not held followed by their
	// tokens. Every key is read before any is written: a node that does not serve one of
	// them (its slot moved, or is migrating and the key went already) refuses the script
	// before it changed anything.
	private static final RedisScript<List<String>> RENEW_OWNERS_ACROSS_SLOTS = listScript(
			"#!lua flags=allow-cross-slot-keys\n" + RENEW_RECORD + """
					local n = tonumber(ARGV[1])
					local first = n * 3 + 2
					local values = {}
					for i = 1, n do
						values[i] = redis.call('GET', ARGV[i * 3 - 1])
					end
					for j = first, #ARGV, 3 do
						redis.call('EXISTS', ARGV[j])
					end
					local lost = {}
					for i = 1, n do
						if values[i] then
							lost[i] = renew_record(ARGV[i * 3 - 1], values[i], ARGV[i * 3])
						else
							lost[i] = false
						end
					end
					for j = first, #ARGV, 3 do
						local i = tonumber(ARGV[j + 2])
						if lost[i] then
							local held = redis.call('HMGET', ARGV[j], 'token', 'record')
							if held[1] == ARGV[j + 1] and held[2] == ARGV[i * 3 - 1] then
								redis.call('PEXPIRE', ARGV[j], ARGV[i * 3 + 1])
							else
								table.insert(lost[i], ARGV[j + 1])
							end
						end
					end
					local answer = {}
					for i = 1, n do
						if lost[i] then
							answer[#answer + 1] = tostring(#lost[i])
							for _, token in ipairs(lost[i]) do
								answer[#answer + 1] = token
							end
						else
							answer[#answer + 1] = 'gone'
						end
					end
					return answer
					""");

	// KEYS: lock, permits, holders. Answers {'e', owner, fence, pttl, description} for an
	// exclusive holder ('' for no description), {'s', now, token, expiry, holder, ...}
	// for the unexpired permits of a semaphore, or {} when free.
	private static final RedisScript<List<String>> INSPECT = listScript(CLOCK + """
			local lock = redis.call('HMGET', KEYS[1], 'owner', 'fence', 'description', 'record')
			if lock[1] and (not lock[4] or redis.call('EXISTS', lock[4]) == 1) then
				local pttl = redis.call('PTTL', lock[4] or KEYS[1])
				return { 'e', lock[1], lock[2], tostring(pttl), lock[3] or '' }
			end
			local now = clock()
			local permits = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf', 'WITHSCORES')
			if #permits == 0 then
				return {}
			end
			local result = { 's', tostring(now) }
			for i = 1, #permits, 2 do
				local holder = redis.call('HGET', KEYS[3], permits[i])
				if holder then
					result[#result + 1] = permits[i]
					result[#result + 1] = permits[i + 1]
					result[#result + 1] = holder
				end
			end
			return result
			""");

	private final RedisConnectionFactory connectionFactory;

	private final StringRedisTemplate redis;

	private final String namespace;

	private final String channel;

	// This repository's name in the wake lines of the keys it waits for, and the channel
	// on which a release wakes it.
	private final String instance = UUID.randomUUID().toString();

	private final String wakeChannelPrefix;

	private final ReleaseListeners listeners = new ReleaseListeners();

	/**
	 * Guards the release subscription's start and stop. A lock, not a monitor: starting
	 * blocks until Redis confirms the subscription, and a virtual thread must not stay
	 * pinned to its carrier meanwhile.
	 */
	private final ReentrantLock lifecycleLock = new ReentrantLock();

	private @Nullable RedisMessageListenerContainer container;

	private @Nullable ExecutorService dispatcher;

	private volatile boolean closed;

	private volatile @Nullable Boolean cluster;

	// Whether renewals on a Cluster may name the keys of many slots of one node in one
	// script: false once a node could not run such a script (a Redis before 7.0).
	private volatile boolean renewAcrossSlots = true;

	private final RedisHeldLeases held;

	private final RedisFairQueue queue;

	private final ThreadFactory threadFactory;

	// How many TTLs a lock key that names an owner record lives without a refresh of
	// its own: long enough that refreshing every key once in a quarter of it costs a
	// renewal few keys, short enough that the keys of a holder that died are gone soon.
	int keyLifetimeTtls = 100;

	/**
	 * Makes a repository in the {@linkplain #DEFAULT_NAMESPACE default namespace}.
	 * @param connectionFactory the application's connection factory
	 */
	public RedisLockRepository(RedisConnectionFactory connectionFactory) {
		this(connectionFactory, DEFAULT_NAMESPACE);
	}

	/**
	 * Makes a repository.
	 * @param connectionFactory the application's connection factory
	 * @param namespace the namespace of the repository's keys and release channel;
	 * repositories lock together only when they use the same namespace
	 */
	public RedisLockRepository(RedisConnectionFactory connectionFactory, String namespace) {
		this(connectionFactory, namespace, defaultThreadFactory());
	}

	/**
	 * Makes a repository whose threads come from the application's thread factory: the
	 * one that delivers release messages (from the first wait on) and the expiry sweep of
	 * leases on owner records (from the first such lease).
	 *
	 * <pre class="code">
	 * ThreadFactory threads = new CustomizableThreadFactory("locks-");
	 * RedisLockRepository repository = new RedisLockRepository(connectionFactory, "latchkey", threads);
	 * </pre>
	 * @param connectionFactory the application's connection factory
	 * @param namespace the namespace of the repository's keys and release channel;
	 * repositories lock together only when they use the same namespace
	 * @param threadFactory makes the threads the repository runs, which {@link #close()}
	 * stops
	 */
	public RedisLockRepository(RedisConnectionFactory connectionFactory, String namespace,
			ThreadFactory threadFactory) {
		Assert.notNull(connectionFactory, "RedisConnectionFactory must not be null");
		Assert.notNull(threadFactory, "ThreadFactory must not be null");
		Assert.hasText(namespace, "Namespace must not be empty");
		Assert.isTrue(namespace.indexOf('{') < 0 && namespace.indexOf('}') < 0,
				() -> "Namespace must not contain '{' or '}' (it is part of every key's hash tag): " + namespace);
		this.connectionFactory = connectionFactory;
		this.redis = new StringRedisTemplate(connectionFactory);
		this.namespace = namespace;
		this.channel = namespace + ":released";
		this.wakeChannelPrefix = namespace + ":wake:";
		this.threadFactory = threadFactory;
		this.held = new RedisHeldLeases(namespace, this::deleteExpired, threadFactory);
		this.queue = new RedisFairQueue(new FairAttempts(), threadFactory);
	}

	private static ThreadFactory defaultThreadFactory() {
		CustomizableThreadFactory threads = new CustomizableThreadFactory(DEFAULT_THREAD_NAME_PREFIX);
		threads.setDaemon(true);
		return threads;
	}

	@SuppressWarnings({ "rawtypes", "unchecked" })
	private static RedisScript<List<String>> listScript(String script) {
		return (RedisScript) RedisScript.of(script, List.class);
	}

	@Override
	public String backend() {
		return "redis";
	}

	/**
	 * The namespace of this repository's keys.
	 * @return the namespace
	 */
	public String getNamespace() {
		return this.namespace;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * A fair exclusive lease is refused while fair waiters are queued for the key.
	 */
	@Override
	public OptionalLong tryAcquire(LeaseSpec lease) {
		if (queues(lease)) {
			RedisFairQueue.Answer answer = attemptFair(lease, RedisFairQueue.Mode.ONCE);
			return (answer.fencingToken() != null) ? OptionalLong.of(answer.fencingToken()) : OptionalLong.empty();
		}
		return acquire(lease, false);
	}

	@Override
	public OptionalLong tryAcquireWaiting(LeaseSpec lease) {
		return queues(lease) ? tryAcquire(lease) : acquire(lease, true);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * For a fair exclusive lease: one script puts the waiter's place at the back of the
	 * key's queue, or grants the key at once if it is free and nobody is queued; it
	 * returns once Redis has the place. A release of the key then wakes the first place's
	 * instance alone, naming the waiter, whose next attempt is granted; every waiter also
	 * attempts a third of its TTL after its last attempt, which keeps its place (a place
	 * lives for its TTL from its waiter's last attempt). A waiter whose place is gone
	 * fails, and the template joins again.
	 */
	@Override
	public CompletableFuture<QueuedGrant> acquireQueued(LeaseSpec lease) {
		Assert.isTrue(queues(lease), "The Redis backend queues fair exclusive leases only");
		return this.queue.join(lease);
	}

	@Override
	public boolean cancelQueued(LeaseSpec lease) {
		return this.queue.cancel(lease);
	}

	/**
	 * One fair attempt, with the owner record of the lease's TTL class as
	 * {@link #acquire} has it.
	 */
	private RedisFairQueue.Answer attemptFair(LeaseSpec lease, RedisFairQueue.Mode mode) {
		List<String> answer = acquireNamingRecord(List.of(lease), lease.key(), "Acquiring the lock",
				(owner) -> execute(lease.key(), () -> "Acquiring the lock",
						() -> this.redis.execute(FAIR, keys(lease.key(), "lock", "permits", "fence", "queue", "queued"),
								lease.token(), lease.owner(), millis(lease.ttl()), description(lease), record(owner),
								lifetime(owner), this.instance, mode.argument)),
				(sent) -> List.of("r").equals(sent),
				(sent) -> sent != null && !sent.isEmpty() && "g".equals(sent.get(0)));
		return RedisFairQueue.Answer.parse((answer != null && !answer.isEmpty()) ? answer : List.of("x"));
	}

	/**
	 * The repository's side of its fair queue.
	 */
	private final class FairAttempts implements RedisFairQueue.Attempts {

		@Override
		public void listen() {
			RedisLockRepository.this.listen();
		}

		@Override
		public RedisFairQueue.Answer attempt(LeaseSpec lease, RedisFairQueue.Mode mode) {
			return attemptFair(lease, mode);
		}

		@Override
		public RedisFairQueue.Answer withdraw(LeaseSpec lease) {
			List<String> answer = execute(lease.key(), () -> "Withdrawing the fair waiter of the lock",
					() -> RedisLockRepository.this.redis.execute(WITHDRAW, keys(lease.key(), "lock", "queue", "queued"),
							RedisLockRepository.this.instance, lease.token(),
							RedisLockRepository.this.wakeChannelPrefix));
			return RedisFairQueue.Answer.parse((answer != null && !answer.isEmpty()) ? answer : List.of("x"));
		}

		@Override
		public boolean granted(LeaseSpec lease, String record) {
			OwnerRecordLeases.Record owner = owner(List.of(lease), lease.key(), "Acquiring the lock");
			if (owner == null || !owner.name().equals(record)) {
				return false;
			}
			RedisLockRepository.this.held.track(lease, owner);
			RedisLockRepository.this.granted(lease);
			return true;
		}

	}

	/**
	 * Hands a release's grant to the fair waiter it names: the message is
	 * {@code <fencing token> <length of the token in bytes> <token><owner record>}, after
	 * its first byte.
	 */
	private void fairGrant(byte[] message) {
		String text = new String(message, 1, message.length - 1, StandardCharsets.ISO_8859_1);
		int fenceEnd = text.indexOf(' ');
		int lengthEnd = (fenceEnd < 0) ? -1 : text.indexOf(' ', fenceEnd + 1);
		if (lengthEnd < 0) {
			logger.warn(() -> "Ignoring a malformed fair grant message of " + message.length + " bytes");
			return;
		}
		long fencingToken = Long.parseLong(text.substring(0, fenceEnd));
		int tokenStart = 1 + lengthEnd + 1;
		int tokenEnd = tokenStart + Integer.parseInt(text.substring(fenceEnd + 1, lengthEnd));
		String token = new String(message, tokenStart, tokenEnd - tokenStart, StandardCharsets.UTF_8);
		String record = new String(message, tokenEnd, message.length - tokenEnd, StandardCharsets.UTF_8);
		this.queue.granted(token, fencingToken, record);
	}

	private OptionalLong acquire(LeaseSpec lease, boolean waiting) {
		Long fencingToken = acquireNamingRecord(List.of(lease), lease.key(), "Acquiring the lock", (owner) -> execute(
				lease.key(), () -> "Acquiring the lock",
				() -> this.redis.execute(ACQUIRE, keys(lease.key(), "lock", "permits", "fence", "writers", "wake"),
						lease.token(), lease.owner(), millis(lease.ttl()), waiting ? "1" : "0", description(lease),
						record(owner), lifetime(owner), this.instance)),
				(sent) -> Long.valueOf(GONE).equals(sent), Objects::nonNull);
		return (fencingToken != null) ? OptionalLong.of(fencingToken) : OptionalLong.empty();
	}

	/**
	 * Sends one acquisition's script with the owner record its exclusive leases are to
	 * name ({@code null} when they keep TTLs of their own), tracking the leases from
	 * before it is sent, so that the sweep sees a grant however its answer comes back.
	 * When the script finds the record gone (its renewals failed for a whole TTL), the
	 * leases are forgotten and the script is sent once more with a new record.
	 * @param <T> the script's answer
	 * @param leases the leases the script acquires
	 * @param key their key, for errors; {@code null} for several keys
	 * @param action what the acquisition does, for errors
	 * @param script sends the script, naming the given record
	 * @param recordGone whether an answer says that the record was gone
	 * @param granted whether an answer grants the leases
	 * @return the script's answer
	 */
	private <T> @Nullable T acquireNamingRecord(List<LeaseSpec> leases, @Nullable String key, String action,
			Function<OwnerRecordLeases.@Nullable Record, @Nullable T> script, Predicate<@Nullable T> recordGone,
			Predicate<@Nullable T> granted) {
		for (int attempt = 1;; attempt++) {
			OwnerRecordLeases.Record owner = owner(leases, key, action);
			if (owner != null) {
				leases.forEach((lease) -> this.held.track(lease, owner));
			}
			T answer = script.apply(owner);
			if (owner == null) {
				return answer;
			}
			if (recordGone.test(answer)) {
				ownerGone(owner, leases, attempt);
				continue;
			}
			if (granted.test(answer)) {
				leases.forEach(this::granted);
			}
			else {
				leases.forEach((lease) -> this.held.forget(lease.token()));
			}
			return answer;
		}
	}

	/**
	 * The owner record the exclusive leases of one acquisition are to name, or
	 * {@code null} when they keep TTLs of their own: shared leases and permits, leases of
	 * different TTLs or (on a Cluster) slots, once the repository is closed (and its
	 * sweep stopped), or on a Cluster whose records could not be renewed a node at a time
	 * (see {@link #recordsOnCluster()}). On a Cluster, where a script may not read a key
	 * of another slot, the record is one of the leases' slot. Making the record fails as
	 * the acquisition would, with its key and action.
	 */
	private OwnerRecordLeases.@Nullable Record owner(List<LeaseSpec> leases, @Nullable String key, String action) {
		long ttl = ttlMillis(leases.get(0));
		for (LeaseSpec lease : leases) {
			if (lease.mode() != LeaseMode.EXCLUSIVE || ttlMillis(lease) != ttl) {
				return null;
			}
		}
		if (this.closed) {
			return null;
		}
		// The owner, for whoever reads the record; its line breaks would be read as
		// revocations (see RENEW_RECORD).
		String value = leases.get(0).owner().replace('\n', ' ');
		Consumer<OwnerRecordLeases.Record> create = (owner) -> {
			Boolean made = execute(key, () -> action,
					() -> this.redis.opsForValue().setIfAbsent(owner.name(), value, owner.ttl()));
			if (!Boolean.TRUE.equals(made)) {
				// A random name that exists already: nothing a retry would not fix.
				throw new LockBackendException(backend(), key, action
						+ " at the Redis backend failed: its new owner record " + owner.name() + " existed already",
						null);
			}
		};
		if (!isCluster(key, action)) {
			return this.held.owner(ttl, create);
		}
		if (!recordsOnCluster()) {
			return null;
		}
		int slot = slot(leases.get(0));
		for (LeaseSpec lease : leases) {
			if (slot(lease) != slot) {
				return null;
			}
		}
		return this.held.owner(ttl, slot, create);
	}

	/**
	 * Whether exclusive leases on a Cluster name owner records: when the client is
	 * Lettuce, which sends the renewals of every node at once, and no node has refused a
	 * script across slots (a Redis before 7.0), which renews a node's records together.
	 * Otherwise each record would take a call of its own, one per slot: more than
	 * renewing the leases a node at a time.
	 */
	private boolean recordsOnCluster() {
		return this.renewAcrossSlots && LETTUCE_PRESENT && LettuceScriptPipeline.isLettuce(this.connectionFactory);
	}

	private int slot(LeaseSpec lease) {
		return ClusterSlotHashUtil.calculateSlot(redisKey(lease.key(), "lock"));
	}

	/**
	 * Forgets leases whose acquisition found its owner record gone (its renewals failed
	 * for a whole TTL), so that the next attempt makes a new one.
	 */
	private void ownerGone(OwnerRecordLeases.Record owner, List<LeaseSpec> leases, int attempt) {
		owner.gone();
		leases.forEach((lease) -> this.held.forget(lease.token()));
		if (attempt > 1) {
			throw new LockBackendException(backend(), (leases.size() == 1) ? leases.get(0).key() : null,
					"Acquiring at the Redis backend failed: the owner record " + owner.name()
							+ " was gone as soon as it was made; is the server evicting keys (maxmemory-policy)?",
					null);
		}
	}

	private void granted(LeaseSpec lease) {
		RedisHeldLeases.Held entry = this.held.get(lease.token());
		if (entry != null) {
			entry.renewed();
			entry.refreshAt = this.held.nextRefresh(lifetimeMillis(entry.record()));
		}
	}

	/**
	 * Deletes the lock of a lease whose local deadline passed without a renewal, if it is
	 * still the lease's.
	 */
	private void deleteExpired(RedisHeldLeases.Held entry) {
		LeaseSpec lease = entry.spec();
		releaseAtServer(lease, "Deleting the expired lease of the lock");
	}

	private static String record(OwnerRecordLeases.@Nullable Record owner) {
		return (owner != null) ? owner.name() : "";
	}

	private String lifetime(OwnerRecordLeases.@Nullable Record owner) {
		return (owner != null) ? Long.toString(lifetimeMillis(owner)) : "0";
	}

	private long lifetimeMillis(OwnerRecordLeases.Record owner) {
		return owner.ttlMillis() * this.keyLifetimeTtls;
	}

	private static long ttlMillis(LeaseSpec lease) {
		return Math.max(1, lease.ttl().toMillis());
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * One script for every key: it checks that none is held, then grants them all, so no
	 * other instance ever sees part of them taken. On a Redis Cluster a script may only
	 * touch one slot, and each key's hash tag gives it a slot of its own: there the keys
	 * are taken one by one as the interface's default does, unless they all hash to one
	 * slot.
	 */
	@Override
	public List<Long> tryAcquireAll(List<LeaseSpec> leases) {
		LockRepository.checkAll(leases);
		if (isCluster() && groupBySlot(leases).size() > 1) {
			return FairExclusiveQueueing.super.tryAcquireAll(leases);
		}
		List<String> keys = new ArrayList<>(leases.size() * 3);
		List<String> leaseArguments = new ArrayList<>(leases.size() * 4 + 2);
		for (LeaseSpec lease : leases) {
			keys.addAll(keys(lease.key(), "lock", "permits", "fence"));
			leaseArguments.add(lease.token());
			leaseArguments.add(lease.owner());
			leaseArguments.add(millis(lease.ttl()));
			leaseArguments.add(description(lease));
		}
		String action = "Acquiring " + leases.size() + " locks at once";
		List<String> fences = acquireNamingRecord(leases, null, action, (owner) -> {
			List<String> arguments = new ArrayList<>(leaseArguments);
			arguments.add(record(owner));
			arguments.add(lifetime(owner));
			return execute(null, () -> action, () -> this.redis.execute(ACQUIRE_ALL, keys, arguments.toArray()));
		}, (sent) -> List.of(Long.toString(GONE)).equals(sent), (sent) -> sent != null && !sent.isEmpty());
		return (fences != null) ? fences.stream().map(Long::valueOf).toList() : List.of();
	}

	@Override
	public OptionalLong tryAcquireShared(LeaseSpec lease) {
		Long fencingToken = execute(lease.key(), () -> "Acquiring a shared lease of the lock",
				() -> this.redis.execute(ACQUIRE_SHARED,
						keys(lease.key(), "lock", "permits", "holders", "fence", "writers", "queue", "queued"),
						lease.token(), lease.owner(), millis(lease.ttl()), description(lease)));
		return (fencingToken != null) ? OptionalLong.of(fencingToken) : OptionalLong.empty();
	}

	@Override
	public void stopWaiting(LeaseSpec lease) {
		execute(lease.key(), () -> "Withdrawing the writer wait on the lock", () -> this.redis.execute(STOP_WAITING,
				keys(lease.key(), "writers", "wake"), lease.token(), this.instance));
	}

	@Override
	public OptionalLong tryAcquirePermit(LeaseSpec lease) {
		Long fencingToken = execute(lease.key(), () -> "Acquiring a permit of the semaphore",
				() -> this.redis.execute(ACQUIRE_PERMIT, keys(lease.key(), "lock", "permits", "holders", "fence"),
						lease.token(), lease.owner(), millis(lease.ttl()), Integer.toString(lease.permits()),
						description(lease)));
		if (fencingToken != null && fencingToken < 0) {
			throw new LockPermitsConflictException(lease.key(), lease.permits(), (int) -fencingToken);
		}
		return (fencingToken != null) ? OptionalLong.of(fencingToken) : OptionalLong.empty();
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * The exclusive leases this repository granted name the owner record of their TTL
	 * class (on a Cluster, of their TTL class and slot): one script per record renews it,
	 * and with it every such lease, reads the force-releases of its leases, and pushes
	 * back the expiry of the few lock keys whose turn it is; on a Cluster, one script per
	 * primary and 2,000 records does the same for all of them. Other leases (shared
	 * leases, permits, leases of another repository, a lease whose TTL changed) are
	 * renewed lock by lock, in scripts of at most 2,000.
	 */
	@Override
	public Set<String> renew(Collection<LeaseSpec> leases) {
		if (leases.isEmpty()) {
			return Set.of();
		}
		Set<String> lost = new HashSet<>();
		Map<OwnerRecordLeases.Record, List<RedisHeldLeases.Held>> byOwner = new IdentityHashMap<>();
		List<LeaseSpec> oneByOne = new ArrayList<>();
		for (LeaseSpec lease : leases) {
			RedisHeldLeases.Held entry = this.held.get(lease.token());
			if (entry == null || entry.record().ttlMillis() != ttlMillis(lease)) {
				oneByOne.add(lease);
			}
			else {
				byOwner.computeIfAbsent(entry.record(), (owner) -> new ArrayList<>()).add(entry);
			}
		}
		if (!byOwner.isEmpty()) {
			lost.addAll(renewOwners(byOwner));
		}
		for (int from = 0; from < oneByOne.size(); from += MAX_CLUSTER_RENEWAL_BATCH) {
			lost.addAll(
					renewOneByOne(oneByOne.subList(from, Math.min(oneByOne.size(), from + MAX_CLUSTER_RENEWAL_BATCH))));
		}
		// Moved off their owner records, if they named one: tracked no longer.
		oneByOne.forEach((lease) -> this.held.forget(lease.token()));
		return lost;
	}

	/**
	 * Renews owner records and the leases that name them: one script per record, or, on a
	 * Cluster of Lettuce connections, one per primary and 2,000 records, all sent at
	 * once.
	 * @param byOwner the tracking entries of the leases, as {@link #renew} found them, by
	 * the record they name
	 * @return the tokens of the leases no longer held
	 */
	private Set<String> renewOwners(Map<OwnerRecordLeases.Record, List<RedisHeldLeases.Held>> byOwner) {
		if (LETTUCE_PRESENT && isCluster()) {
			// Even for one record, which its node may refuse (a migrating slot).
			Set<String> lost = renewOwnersByNode(byOwner);
			if (lost != null) {
				return lost;
			}
		}
		Set<String> lost = new HashSet<>();
		byOwner.forEach((owner, named) -> lost.addAll(renewOwner(owner, named)));
		return lost;
	}

	/**
	 * Renews the owner record of the given leases, which all name it, and pushes back the
	 * expiry of the lock keys whose turn it is.
	 * @param entries the tracking entries of the leases, as {@link #renew} found them
	 * @return the tokens of those no longer held
	 */
	private Set<String> renewOwner(OwnerRecordLeases.Record owner, List<RedisHeldLeases.Held> entries) {
		long now = System.nanoTime();
		OwnerRenewal renewal = new OwnerRenewal(owner, entries, this.held.nowSeconds(), MAX_RENEWAL_BATCH);
		List<String> answer = execute(null, () -> "Renewing " + entries.size() + " lease(s)",
				() -> this.redis.execute(RENEW_OWNER, renewal.keys(), renewal.arguments().toArray()));
		return ownerAnswered(renewal, answer, now);
	}

	/**
	 * Takes the answer of {@link #RENEW_OWNER} for one record.
	 * @return the tokens of the record's leases no longer held
	 */
	private Set<String> ownerAnswered(OwnerRenewal renewal, @Nullable List<String> answer, long sentAtNanos) {
		boolean renewed = answer != null && !answer.isEmpty() && "renewed".equals(answer.get(0));
		return renewed(renewal.owner, renewal.entries, renewal.refreshed, renewed, sentAtNanos,
				renewed ? answer.subList(1, answer.size()) : List.of());
	}

	/**
	 * Takes what the server answered for one record: schedules the next refresh of the
	 * lock keys it refreshed, and marks the record's leases renewed or lost.
	 * @return the tokens of the record's leases no longer held
	 */
	private Set<String> renewed(OwnerRecordLeases.Record owner, List<RedisHeldLeases.Held> entries,
			List<RedisHeldLeases.Held> refreshed, boolean renewed, long sentAtNanos, List<String> revoked) {
		if (renewed) {
			for (RedisHeldLeases.Held entry : refreshed) {
				entry.refreshAt = this.held.nextRefresh(lifetimeMillis(owner));
			}
		}
		return this.held.answered(owner, entries, renewed, sentAtNanos, revoked);
	}

	/**
	 * The leases among {@code entries} whose lock key's own expiry is due, at most
	 * {@code budget}.
	 */
	private static List<RedisHeldLeases.Held> dueRefreshes(List<RedisHeldLeases.Held> entries, int nowSeconds,
			int budget) {
		List<RedisHeldLeases.Held> due = new ArrayList<>();
		for (RedisHeldLeases.Held entry : entries) {
			if (due.size() >= budget) {
				break;
			}
			if (nowSeconds - entry.refreshAt >= 0) {
				due.add(entry);
			}
		}
		return due;
	}

	/**
	 * A call of {@link #RENEW_OWNER} for one record: its keys and arguments, and the
	 * leases whose lock keys it refreshes.
	 */
	private final class OwnerRenewal {

		final OwnerRecordLeases.Record owner;

		final List<RedisHeldLeases.Held> entries;

		final List<RedisHeldLeases.Held> refreshed;

		/**
		 * The renewal of a record that refreshes at most {@code refreshes} of its leases'
		 * lock keys, those whose turn it is.
		 */
		OwnerRenewal(OwnerRecordLeases.Record owner, List<RedisHeldLeases.Held> entries, int nowSeconds,
				int refreshes) {
			this.owner = owner;
			this.entries = entries;
			this.refreshed = dueRefreshes(entries, nowSeconds, refreshes);
		}

		List<String> keys() {
			List<String> keys = new ArrayList<>(this.refreshed.size() + 1);
			keys.add(this.owner.name());
			for (RedisHeldLeases.Held entry : this.refreshed) {
				keys.add(redisKey(entry.spec().key(), "lock"));
			}
			return keys;
		}

		List<String> arguments() {
			List<String> arguments = new ArrayList<>(this.refreshed.size() + 2);
			arguments.add(Long.toString(this.owner.ttlMillis()));
			arguments.add(lifetime(this.owner));
			for (RedisHeldLeases.Held entry : this.refreshed) {
				arguments.add(entry.spec().token());
			}
			return arguments;
		}

	}

	/**
	 * Renews the owner records of a Cluster on a Lettuce connection: one script per
	 * primary and 2,000 records, whatever their slots, all sent at once, each to the
	 * primary of its records' slots as the connection sees the Cluster. A call whose node
	 * refuses it (the connection's view moved on: a slot migrated or is migrating, or
	 * failed over) changed nothing, and its records are renewed one script each, which
	 * the client routes to each slot's node wherever it went.
	 * @return the tokens of the leases no longer held, or {@code null} when the
	 * connection is not a Lettuce Cluster connection
	 */
	private @Nullable Set<String> renewOwnersByNode(Map<OwnerRecordLeases.Record, List<RedisHeldLeases.Held>> byOwner) {
		int leases = byOwner.values().stream().mapToInt(List::size).sum();
		return pipelined(leases, (connection) -> {
			Map<@Nullable String, List<OwnerRecordLeases.Record>> byNode = LettuceScriptPipeline.groupByNode(connection,
					byOwner.keySet(), OwnerRecordLeases.Record::shard);
			if (byNode == null) {
				return null;
			}
			List<OwnerRecordLeases.Record> refused = new ArrayList<>(byNode.getOrDefault(null, List.of()));
			int nowSeconds = this.held.nowSeconds();
			List<NodeRecordsRenewal> calls = new ArrayList<>();
			byNode.forEach((node, records) -> {
				if (node != null) {
					for (int from = 0; from < records.size(); from += MAX_RENEWAL_BATCH) {
						calls.add(new NodeRecordsRenewal(node,
								records.subList(from, Math.min(records.size(), from + MAX_RENEWAL_BATCH)), byOwner,
								nowSeconds));
					}
				}
			});
			long now = System.nanoTime();
			List<LettuceScriptPipeline.Answer> answers = LettuceScriptPipeline.evalOnNodes(this.connectionFactory,
					connection, RENEW_OWNERS_ACROSS_SLOTS, calls.stream().map((call) -> call.node).toList(),
					calls.stream().map((call) -> call.arguments).toList());
			Set<String> lost = new HashSet<>();
			for (int i = 0; i < calls.size(); i++) {
				List<String> answer = answers.get(i).value();
				if (answer != null) {
					lost.addAll(calls.get(i).answered(answer, now));
				}
				else {
					refusedAcrossSlots(String.valueOf(answers.get(i).refusal()), "its owner records one by one");
					refused.addAll(calls.get(i).records);
				}
			}
			if (!refused.isEmpty()) {
				lost.addAll(renewOwnersEach(connection, refused, byOwner, nowSeconds));
			}
			return lost;
		});
	}

	/**
	 * A call of {@link #RENEW_OWNERS_ACROSS_SLOTS}: up to 2,000 records of one primary,
	 * with the lock keys of their leases whose own expiry is due (at most 2,000 per call,
	 * as one record's renewal refreshes), and what to make of its answer.
	 */
	private final class NodeRecordsRenewal {

		final String node;

		final List<OwnerRecordLeases.Record> records;

		final List<String> arguments;

		private final Map<OwnerRecordLeases.Record, List<RedisHeldLeases.Held>> byOwner;

		private final Map<OwnerRecordLeases.Record, List<RedisHeldLeases.Held>> refreshed = new IdentityHashMap<>();

		NodeRecordsRenewal(String node, List<OwnerRecordLeases.Record> records,
				Map<OwnerRecordLeases.Record, List<RedisHeldLeases.Held>> byOwner, int nowSeconds) {
			this.node = node;
			this.records = records;
			this.byOwner = byOwner;
			this.arguments = new ArrayList<>(records.size() * 3 + 1);
			this.arguments.add(Integer.toString(records.size()));
			for (OwnerRecordLeases.Record owner : records) {
				this.arguments.add(owner.name());
				this.arguments.add(Long.toString(owner.ttlMillis()));
				this.arguments.add(lifetime(owner));
			}
			int budget = MAX_RENEWAL_BATCH;
			for (int i = 0; i < records.size() && budget > 0; i++) {
				List<RedisHeldLeases.Held> due = dueRefreshes(byOwner.get(records.get(i)), nowSeconds, budget);
				for (RedisHeldLeases.Held entry : due) {
					this.arguments.add(redisKey(entry.spec().key(), "lock"));
					this.arguments.add(entry.spec().token());
					this.arguments.add(Integer.toString(i + 1));
				}
				this.refreshed.put(records.get(i), due);
				budget -= due.size();
			}
		}

		/**
		 * Takes the call's answer: for each record in order, {@code gone}, or the number
		 * of its leases not held followed by their tokens.
		 * @return the tokens of the leases no longer held
		 */
		Set<String> answered(List<String> answer, long sentAtNanos) {
			Set<String> lost = new HashSet<>();
			int at = 0;
			for (OwnerRecordLeases.Record owner : this.records) {
				String head = answer.get(at++);
				boolean renewed = !"gone".equals(head);
				List<String> revoked = List.of();
				if (renewed) {
					int count = Integer.parseInt(head);
					revoked = answer.subList(at, at + count);
					at += count;
				}
				lost.addAll(renewed(owner, this.byOwner.get(owner), this.refreshed.getOrDefault(owner, List.of()),
						renewed, sentAtNanos, revoked));
			}
			return lost;
		}

	}

	/**
	 * Renews owner records one script each, all sent at once on a Lettuce Cluster
	 * connection, which routes each to its slot's node, following a moved slot, or a
	 * migrating one's record to where it went. They name their records alone, which carry
	 * their revocations: the lock keys whose own expiry is due wait for the next renewal,
	 * as naming keys that may be on either node of a migrating slot makes the call fail.
	 * @return the tokens of the leases no longer held
	 */
	private Set<String> renewOwnersEach(RedisConnection connection, List<OwnerRecordLeases.Record> records,
			Map<OwnerRecordLeases.Record, List<RedisHeldLeases.Held>> byOwner, int nowSeconds)
			throws InterruptedException, ExecutionException, TimeoutException {
		List<OwnerRenewal> renewals = new ArrayList<>(records.size());
		List<List<String>> keys = new ArrayList<>(records.size());
		List<List<String>> arguments = new ArrayList<>(records.size());
		for (OwnerRecordLeases.Record owner : records) {
			OwnerRenewal renewal = new OwnerRenewal(owner, byOwner.get(owner), nowSeconds, 0);
			renewals.add(renewal);
			keys.add(renewal.keys());
			arguments.add(renewal.arguments());
		}
		long now = System.nanoTime();
		List<List<String>> answers = LettuceScriptPipeline.evalAll(this.connectionFactory, connection, RENEW_OWNER,
				keys, arguments);
		Set<String> lost = new HashSet<>();
		for (int i = 0; i < renewals.size(); i++) {
			lost.addAll(ownerAnswered(renewals.get(i), answers.get(i), now));
		}
		return lost;
	}

	/**
	 * Renews leases lock by lock, in one script per 2,000 leases: on a Cluster, of one
	 * primary, or of one slot where a primary refuses the keys of several slots.
	 * @return the tokens of those no longer held
	 */
	private Set<String> renewOneByOne(Collection<LeaseSpec> leases) {
		Set<String> lost = new HashSet<>();
		Collection<LeaseSpec> bySlot = leases;
		if (this.renewAcrossSlots && LETTUCE_PRESENT && isCluster()) {
			NodeRenewal byNode = renewByNode(leases);
			if (byNode != null) {
				lost.addAll(byNode.lost());
				bySlot = byNode.refused();
				if (bySlot.isEmpty()) {
					return lost;
				}
			}
		}
		List<List<LeaseSpec>> batches = new ArrayList<>();
		for (List<LeaseSpec> slot : groupBySlot(bySlot)) {
			addBatches(slot, batches);
		}
		if (batches.size() > 1 && LETTUCE_PRESENT) {
			List<List<String>> answers = renewInPipeline(batches);
			if (answers != null) {
				answers.forEach(lost::addAll);
				return lost;
			}
		}
		for (List<LeaseSpec> batch : batches) {
			lost.addAll(renewBatch(batch));
		}
		return lost;
	}

	/**
	 * Renews leases on a Lettuce Cluster connection in scripts of at most 2,000 leases of
	 * one primary, whatever their slots, all sent at once: a few calls per node instead
	 * of one per slot. The primary of a slot is the connection's view of the Cluster; a
	 * call whose node refuses it (its view moved on: a slot migrated or failed over; or a
	 * Redis before 7.0, which has no cross-slot scripts) is handed back, for renewal slot
	 * by slot.
	 * @return the tokens of the leases no longer held and the leases handed back, or
	 * {@code null} when the connection is not a Lettuce Cluster connection
	 */
	private @Nullable NodeRenewal renewByNode(Collection<LeaseSpec> leases) {
		return pipelined(leases.size(), (connection) -> {
			Map<@Nullable String, List<LeaseSpec>> byNode = LettuceScriptPipeline.groupByNode(connection, leases,
					(lease) -> ClusterSlotHashUtil.calculateSlot(redisKey(lease.key(), "lock")));
			if (byNode == null) {
				return null;
			}
			List<LeaseSpec> refused = new ArrayList<>(byNode.getOrDefault(null, List.of()));
			List<List<LeaseSpec>> batches = new ArrayList<>();
			byNode.forEach((node, named) -> {
				if (node != null) {
					addBatches(named, batches);
				}
			});
			List<List<String>> keys = new ArrayList<>(batches.size());
			List<List<String>> arguments = new ArrayList<>(batches.size());
			for (List<LeaseSpec> batch : batches) {
				keys.add(List.of(redisKey(batch.get(0).key(), "lock")));
				List<String> named = new ArrayList<>(batch.size() * 6);
				for (LeaseSpec lease : batch) {
					named.addAll(keys(lease.key(), "lock", "permits", "holders"));
					addRenewalArguments(lease, named);
				}
				arguments.add(named);
			}
			List<LettuceScriptPipeline.Answer> answers = LettuceScriptPipeline.evalEach(this.connectionFactory,
					connection, RENEW_ACROSS_SLOTS, keys, arguments);
			Set<String> lost = new HashSet<>();
			for (int i = 0; i < batches.size(); i++) {
				LettuceScriptPipeline.Answer answer = answers.get(i);
				if (answer.value() != null) {
					lost.addAll(answer.value());
					continue;
				}
				refused.addAll(batches.get(i));
				refusedAcrossSlots(String.valueOf(answer.refusal()), "its leases slot by slot");
			}
			return new NodeRenewal(lost, refused);
		});
	}

	/**
	 * Takes a Cluster node's refusal of a renewal script across slots. A Redis before 7.0
	 * has no script flags, so no scripts across slots: leases are renewed slot by slot
	 * from then on, and new leases name no owner records (said once, by the first refused
	 * call). Otherwise the client's view of the Cluster moved on, and only that call is
	 * made again another way.
	 * @param refusal the node's error reply
	 * @param instead how the refused call's leases are renewed instead, for the log
	 */
	private void refusedAcrossSlots(String refusal, String instead) {
		if (this.renewAcrossSlots && (refusal.contains("compiling script") || refusal.contains("shebang"))) {
			this.renewAcrossSlots = false;
			logger.info(() -> "A Redis Cluster node cannot run a script across slots (" + refusal
					+ "); renewing leases slot by slot, and without owner records, from now on");
		}
		else {
			logger.debug(
					() -> "A Redis Cluster node refused a renewal across slots (" + refusal + "); renewing " + instead);
		}
	}

	/**
	 * What {@link #renewByNode} renewed: the tokens of the leases no longer held, and the
	 * leases it hands back for renewal slot by slot.
	 */
	private record NodeRenewal(Set<String> lost, List<LeaseSpec> refused) {
	}

	/**
	 * Sends the renewal scripts of every slot at once on a Lettuce Cluster connection
	 * (they are as many as the slots of the leases' keys, thousands for thousands of
	 * leases, and one after the other they took longer than the leases' TTL).
	 * @return the answers, or {@code null} when the connection cannot pipeline scripts
	 */
	private @Nullable List<List<String>> renewInPipeline(List<List<LeaseSpec>> batches) {
		List<List<String>> keys = new ArrayList<>(batches.size());
		List<List<String>> arguments = new ArrayList<>(batches.size());
		int count = 0;
		for (List<LeaseSpec> batch : batches) {
			keys.add(renewalKeys(batch));
			arguments.add(renewalArguments(batch));
			count += batch.size();
		}
		return pipelined(count, (connection) -> LettuceScriptPipeline.evalAll(this.connectionFactory, connection, RENEW,
				keys, arguments));
	}

	/**
	 * Makes a renewal call on a Lettuce Cluster connection, translating its failures.
	 * @param leases how many leases the call renews, for the messages
	 * @return what the call answers, or {@code null} when the connection cannot pipeline
	 * scripts
	 */
	private <T> @Nullable T pipelined(int leases, PipelinedCall<T> call) {
		return execute(null, () -> "Renewing " + leases + " lease(s)", () -> {
			try (RedisConnection connection = this.connectionFactory.getConnection()) {
				if (!LettuceScriptPipeline.canPipeline(connection)) {
					return null;
				}
				return call.call(connection);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new LockBackendException(backend(), null,
						"Renewing " + leases + " lease(s) at the Redis backend was interrupted", ex);
			}
			catch (ExecutionException | TimeoutException | RuntimeException ex) {
				if (ex instanceof DataAccessException || ex instanceof LockBackendException) {
					throw (RuntimeException) ex;
				}
				Throwable cause = (ex instanceof ExecutionException) ? ex.getCause() : ex;
				throw new LockBackendException(backend(), null, "Renewing " + leases
						+ " lease(s) at the Redis backend failed: " + FailureMessages.reason(cause), cause);
			}
		});
	}

	/**
	 * A call on a Lettuce Cluster connection that {@link #pipelined} makes.
	 */
	@FunctionalInterface
	private interface PipelinedCall<T> {

		@Nullable T call(RedisConnection connection) throws InterruptedException, ExecutionException, TimeoutException;

	}

	/**
	 * No limit where exclusive leases are renewed by their owner records: the leases
	 * renewed lock by lock go in calls of at most 20,000 on a Cluster, in scripts of at
	 * most 2,000. On a Cluster whose leases name no records (see
	 * {@link #recordsOnCluster()}), at most 20,000 leases per renewal call, which sends
	 * its scripts (one per primary and 2,000 leases, or one per slot) at once.
	 */
	@Override
	public int renewalBatchSize() {
		return (isCluster() && !recordsOnCluster()) ? MAX_CLUSTER_RENEWAL_BATCH : Integer.MAX_VALUE;
	}

	/**
	 * Renews leases of one slot in one script call.
	 * @return the tokens of those no longer held
	 */
	private List<String> renewBatch(List<LeaseSpec> batch) {
		List<String> keys = renewalKeys(batch);
		Object[] arguments = renewalArguments(batch).toArray();
		List<String> answered = execute(null, () -> "Renewing " + batch.size() + " lease(s)",
				() -> this.redis.execute(RENEW, keys, arguments));
		return (answered != null) ? answered : List.of();
	}

	/**
	 * The keys of a renewal script call: lock, permits and holders of each lease.
	 */
	private List<String> renewalKeys(List<LeaseSpec> batch) {
		List<String> keys = new ArrayList<>(batch.size() * 3);
		for (LeaseSpec lease : batch) {
			keys.addAll(keys(lease.key(), "lock", "permits", "holders"));
		}
		return keys;
	}

	/**
	 * The arguments of a renewal script call: token, TTL and mode of each lease.
	 */
	private static List<String> renewalArguments(List<LeaseSpec> batch) {
		List<String> arguments = new ArrayList<>(batch.size() * 3);
		for (LeaseSpec lease : batch) {
			addRenewalArguments(lease, arguments);
		}
		return arguments;
	}

	/**
	 * Adds a lease's renewal arguments, its token, TTL and mode, to a script's arguments.
	 */
	private static void addRenewalArguments(LeaseSpec lease, List<String> arguments) {
		arguments.add(lease.token());
		arguments.add(millis(lease.ttl()));
		arguments.add(mode(lease));
	}

	/**
	 * Splits leases into renewal scripts of at most {@value #MAX_RENEWAL_BATCH}, added to
	 * {@code batches}.
	 */
	private static void addBatches(List<LeaseSpec> leases, List<List<LeaseSpec>> batches) {
		for (int from = 0; from < leases.size(); from += MAX_RENEWAL_BATCH) {
			batches.add(leases.subList(from, Math.min(leases.size(), from + MAX_RENEWAL_BATCH)));
		}
	}

	private static String mode(LeaseSpec lease) {
		return (lease.mode() == LeaseMode.EXCLUSIVE) ? "e" : "s";
	}

	/**
	 * Groups leases so that each script call touches one Cluster slot; with a connection
	 * factory that is not for a Cluster, all leases go in one group.
	 */
	private Collection<List<LeaseSpec>> groupBySlot(Collection<LeaseSpec> leases) {
		if (!isCluster()) {
			return List.of(List.copyOf(leases));
		}
		Map<Integer, List<LeaseSpec>> bySlot = new LinkedHashMap<>();
		for (LeaseSpec lease : leases) {
			bySlot.computeIfAbsent(slot(lease), (s) -> new ArrayList<>()).add(lease);
		}
		return bySlot.values();
	}

	private boolean isCluster() {
		return isCluster(null, "Opening a connection");
	}

	/**
	 * Whether the connection factory is for a Cluster, found out once, on the first
	 * connection: should that fail, it fails as the given action on the given key does.
	 */
	private boolean isCluster(@Nullable String key, String action) {
		Boolean cluster = this.cluster;
		if (cluster == null) {
			cluster = execute(key, () -> action, () -> {
				try (RedisConnection connection = this.connectionFactory.getConnection()) {
					return connection instanceof RedisClusterConnection;
				}
			});
			this.cluster = cluster;
		}
		return cluster;
	}

	@Override
	public boolean release(LeaseSpec lease) {
		boolean released = releaseAtServer(lease, "Releasing the lock");
		// Once Redis answered: should it not, the sweep deletes the lock at its deadline.
		this.held.forget(lease.token());
		return released;
	}

	/**
	 * Releases a lease with the release script, which wakes the next instance in the
	 * key's wake line, or every instance when the line is empty: this one's own waiters
	 * are then woken here at once, without waiting for a message.
	 * @return whether the lease was still held
	 */
	private boolean releaseAtServer(LeaseSpec lease, String action) {
		Long released = execute(lease.key(), () -> action,
				() -> this.redis.execute(RELEASE,
						keys(lease.key(), "lock", "permits", "holders", "wake", "queue", "queued", "fence"),
						lease.token(), this.channel, lease.key(), this.wakeChannelPrefix, this.instance));
		if (released != null && released >= 2L) {
			this.listeners.released(lease.key());
		}
		return released != null && (released == 1L || released == 2L);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * A release wakes one instance: the first in the key's wake line, which this one may
	 * be. Its waiters are then woken by the repository, and only then. Not on a Cluster:
	 * there a message crosses the Cluster bus to reach the subscription, which made each
	 * hand-off about three times slower than one to the releasing process's own waiters
	 * (a release of this process wakes them at once there, beside the instance it wakes).
	 */
	@Override
	public boolean wakesWaitersOfItsOwnReleases() {
		Boolean cluster = this.cluster;
		return cluster != null && !cluster;
	}

	@Override
	public boolean forceRelease(String key) {
		Long evicted = execute(key, () -> "Force-releasing the lock",
				() -> this.redis.execute(FORCE_RELEASE,
						keys(key, "lock", "permits", "holders", "fence", "queue", "queued"), this.channel, key,
						this.wakeChannelPrefix));
		return evicted != null && evicted == 1L;
	}

	@Override
	public Optional<LockInfo> inspect(String key) {
		List<String> answer = execute(key, () -> "Inspecting the lock",
				() -> this.redis.execute(INSPECT, keys(key, "lock", "permits", "holders")));
		if (answer == null || answer.isEmpty()) {
			return Optional.empty();
		}
		if (answer.get(0).equals("e")) {
			LockInfo.Holder holder = new LockInfo.Holder(answer.get(1), Long.parseLong(answer.get(2)),
					Duration.ofMillis(Math.max(0, Long.parseLong(answer.get(3)))),
					(answer.size() > 4) ? emptyAsNull(answer.get(4)) : null);
			return Optional.of(new LockInfo(key, LeaseMode.EXCLUSIVE, 1, List.of(holder)));
		}
		long now = Long.parseLong(answer.get(1));
		int limit = 0;
		List<LockInfo.Holder> holders = new ArrayList<>();
		for (int i = 2; i + 2 < answer.size(); i += 3) {
			long expiresAt = (long) Double.parseDouble(answer.get(i + 1));
			// "<fence> <limit> <owner>\n<description>": the owner may contain spaces, the
			// numbers do not, and the description holds no line break. A holder written
			// before descriptions were stored has no line break at all.
			String value = answer.get(i + 2);
			int newline = value.lastIndexOf('\n');
			String[] holder = ((newline >= 0) ? value.substring(0, newline) : value).split(" ", 3);
			limit = Math.max(limit, Integer.parseInt(holder[1]));
			holders.add(new LockInfo.Holder(holder[2], Long.parseLong(holder[0]),
					Duration.ofMillis(Math.max(0, expiresAt - now)),
					(newline >= 0) ? emptyAsNull(value.substring(newline + 1)) : null));
		}
		if (holders.isEmpty()) {
			return Optional.empty();
		}
		// Shared holders are permits of limit 0.
		return Optional.of((limit == 0) ? new LockInfo(key, LeaseMode.SHARED, 1, holders)
				: new LockInfo(key, LeaseMode.SEMAPHORE, limit, holders));
	}

	private static String description(LeaseSpec lease) {
		return (lease.description() != null) ? lease.description() : "";
	}

	private static @Nullable String emptyAsNull(String description) {
		return description.isEmpty() ? null : description;
	}

	@Override
	public List<LockInfo> list() {
		Set<String> keys = execute(null, () -> "Listing the held keys", this::scanHeldKeys);
		List<LockInfo> held = new ArrayList<>();
		for (String key : keys) {
			inspect(key).ifPresent(held::add);
		}
		held.sort(Comparator.comparing(LockInfo::key));
		return held;
	}

	private Set<String> scanHeldKeys() {
		ScanOptions options = ScanOptions.scanOptions()
			.match("{" + escapeGlob(this.namespace) + ":*}:*")
			.count(1000)
			.build();
		Set<String> keys = new TreeSet<>();
		if (isCluster()) {
			try (RedisClusterConnection connection = this.connectionFactory.getClusterConnection()) {
				for (RedisClusterNode node : connection.clusterGetNodes()) {
					if (node.isMaster()) {
						try (Cursor<byte[]> cursor = connection.scan(node, options)) {
							cursor.forEachRemaining((key) -> addHeldKey(keys, new String(key, StandardCharsets.UTF_8)));
						}
					}
				}
			}
		}
		else {
			try (Cursor<String> cursor = this.redis.scan(options)) {
				cursor.forEachRemaining((key) -> addHeldKey(keys, key));
			}
		}
		return keys;
	}

	private void addHeldKey(Set<String> keys, String redisKey) {
		String prefix = "{" + this.namespace + ":";
		for (String suffix : List.of("}:lock", "}:permits")) {
			if (redisKey.startsWith(prefix) && redisKey.endsWith(suffix)
					&& redisKey.length() >= prefix.length() + suffix.length()) {
				keys.add(redisKey.substring(prefix.length(), redisKey.length() - suffix.length()));
			}
		}
	}

	private static String escapeGlob(String text) {
		StringBuilder escaped = new StringBuilder(text.length());
		for (char c : text.toCharArray()) {
			if ("*?[]\\^".indexOf(c) >= 0) {
				escaped.append('\\');
			}
			escaped.append(c);
		}
		return escaped.toString();
	}

	@Override
	public ReleaseSubscription subscribe(String key, Runnable onRelease) {
		ReleaseSubscription unsubscribe = this.listeners.add(key, onRelease);
		try {
			listen();
		}
		catch (RuntimeException ex) {
			unsubscribe.close();
			throw ex;
		}
		return unsubscribe;
	}

	/**
	 * Starts the repository's one subscription to the release channel, unless it runs
	 * already.
	 */
	private void listen() {
		this.lifecycleLock.lock();
		try {
			if (this.closed) {
				throw new LockBackendException(backend(), "Redis lock repository is closed", null);
			}
			if (this.container != null) {
				return;
			}
			ExecutorService dispatcher = Executors.newSingleThreadExecutor(this.threadFactory);
			RedisMessageListenerContainer container = new RedisMessageListenerContainer();
			container.setConnectionFactory(this.connectionFactory);
			container.setTaskExecutor(dispatcher);
			container.setBeanName("latchkey-redis-release");
			// A subscription that fails gives up at once rather than retrying forever on
			// the subscribing thread (the container's default): a waiter then waits by
			// polling, and the next one to wait tries to subscribe again.
			container.setRecoveryBackoff(new FixedBackOff(0, 0));
			MessageListener listener = (message, pattern) -> {
				byte[] bytes = message.getBody();
				if (bytes.length > 0 && bytes[0] == FAIR_GRANT) {
					fairGrant(bytes);
					return;
				}
				String body = new String(bytes, StandardCharsets.UTF_8);
				if (body.startsWith(FAIR_WAKE)) {
					// A release that wakes a fair waiter of this instance, by its token.
					this.queue.wake(body.substring(FAIR_WAKE.length()));
				}
				else {
					this.listeners.released(body);
				}
			};
			container.setMessageListeners(Map.of(listener,
					List.of(new ChannelTopic(this.channel), new ChannelTopic(this.wakeChannelPrefix + this.instance))));
			try {
				execute(null, () -> "Subscribing to " + this.channel, () -> {
					container.afterPropertiesSet();
					// Waits until the subscription is registered, so that no release
					// published after this is missed.
					container.start();
					return null;
				});
			}
			catch (RuntimeException ex) {
				stop(container, dispatcher);
				throw ex;
			}
			this.container = container;
			this.dispatcher = dispatcher;
		}
		finally {
			this.lifecycleLock.unlock();
		}
	}

	/**
	 * Stops the release subscription. Locking operations keep working; new subscriptions
	 * are refused.
	 */
	@Override
	public void close() {
		// While the subscription and connections still work: withdraws the fair
		// waiters' places.
		this.queue.close();
		this.lifecycleLock.lock();
		try {
			this.closed = true;
			if (this.container != null && this.dispatcher != null) {
				stop(this.container, this.dispatcher);
			}
			this.container = null;
			this.dispatcher = null;
		}
		finally {
			this.lifecycleLock.unlock();
		}
		this.held.close();
	}

	private static void stop(RedisMessageListenerContainer container, ExecutorService dispatcher) {
		try {
			container.destroy();
		}
		catch (Exception ex) {
			logger.debug(ex, "Stopping the Redis release subscription failed");
		}
		dispatcher.shutdownNow();
	}

	private List<String> keys(String key, String... kinds) {
		List<String> keys = new ArrayList<>(kinds.length);
		for (String kind : kinds) {
			keys.add(redisKey(key, kind));
		}
		return keys;
	}

	private String redisKey(String key, String kind) {
		return "{" + this.namespace + ":" + key + "}:" + kind;
	}

	private static String millis(Duration ttl) {
		return Long.toString(Math.max(1, ttl.toMillis()));
	}

	/**
	 * Runs an operation, turning Redis's failure into a {@link LockBackendException}
	 * whose message says what failed without the key (which may be personal data): the
	 * key is the exception's {@code getKey()}, and the template adds the lock's name.
	 */
	private <T> T execute(@Nullable String key, Supplier<String> action, Supplier<T> operation) {
		try {
			return operation.get();
		}
		catch (DataAccessException ex) {
			throw new LockBackendException(backend(), key,
					action.get() + " at the Redis backend failed: " + FailureMessages.reason(ex), ex);
		}
	}

}
