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

package dev.latchkey.etcd;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Txn;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;

/**
 * How locks are written in etcd. For the lock key {@code k} in the namespace {@code ns},
 * an exclusive holder is the etcd key {@code ns k \0} and each semaphore permit the etcd
 * key {@code ns k \0 token}, so that one prefix ({@code ns k \0}) covers every holder of
 * a key. The value is {@code token \n limit \n owner \n description}, the description
 * empty when the lease has none (it holds no line break, so the last one starts it; a
 * value written before descriptions were stored ends with the owner). A shared holder of
 * a read/write lock is written as a permit whose limit is {@value #SHARED_LIMIT}; a
 * writer waiting for the key is the etcd key {@code ns k \1 token}, on its repository's
 * wait lease of its TTL class (kept alive by the waiters' attempts only). A fair
 * exclusive waiter's place in the key's queue is the etcd key {@code ns k \2 token} (with
 * the holder's value), on the etcd lease its lock would have: the queue is ordered by
 * those keys' create revisions, and a fair holder keeps its key until it releases, so
 * that its successor is woken then. An instance (repository) whose callers wait for a
 * key, not fair, has its place in the key's wake line, the etcd key
 * {@code ns k \3 instance}, on that wait lease too: the line is ordered by create
 * revisions too, and a release deletes the first place, which wakes that instance alone.
 * A holder evicted by a force-release is told so by the etcd key
 * {@code ns \0 revoked/lease/token} (the lease in hexadecimal), on the evicted holder's
 * own etcd lease, which its repository reads, and deletes, when it renews: no lock key is
 * empty, so no holder's prefix covers it.
 */
final class EtcdKeys {

	/**
	 * The limit written in a shared holder's value.
	 */
	static final int SHARED_LIMIT = 0;

	private static final byte SEPARATOR = 0;

	private static final byte WRITER_SEPARATOR = 1;

	private static final byte QUEUE_SEPARATOR = 2;

	private static final byte WAKE_SEPARATOR = 3;

	private final byte[] namespace;

	EtcdKeys(String namespace) {
		Assert.hasLength(namespace, "Namespace must not be empty");
		Assert.isTrue(namespace.indexOf(SEPARATOR) < 0, "Namespace must not contain the NUL character");
		this.namespace = namespace.getBytes(StandardCharsets.UTF_8);
	}

	String namespace() {
		return new String(this.namespace, StandardCharsets.UTF_8);
	}

	/**
	 * The prefix of every etcd key of this namespace.
	 */
	ByteSequence namespacePrefix() {
		return ByteSequence.from(this.namespace);
	}

	static void checkKey(String key) {
		Assert.isTrue(key.indexOf(SEPARATOR) < 0, "Lock keys of the etcd backend must not contain the NUL character");
	}

	/**
	 * The prefix of every holder of a lock key; also the etcd key of its exclusive
	 * holder.
	 */
	ByteSequence holdersPrefix(String key) {
		byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
		byte[] prefix = Arrays.copyOf(this.namespace, this.namespace.length + bytes.length + 1);
		System.arraycopy(bytes, 0, prefix, this.namespace.length, bytes.length);
		prefix[prefix.length - 1] = SEPARATOR;
		return ByteSequence.from(prefix);
	}

	/**
	 * The prefix of the writer waits of a lock key, {@code ns k \1}: apart from its
	 * holders, so that a holder's prefix read or watch never sees them.
	 */
	ByteSequence writersPrefix(String key) {
		return prefix(key, WRITER_SEPARATOR);
	}

	/**
	 * The prefix of the fair waiters' queue of a lock key, {@code ns k \2}: apart from
	 * its holders and writer waits.
	 */
	ByteSequence queuePrefix(String key) {
		return prefix(key, QUEUE_SEPARATOR);
	}

	/**
	 * A fair waiter's place in the queue of a lock key.
	 */
	ByteSequence queueKey(String key, String token) {
		return queuePrefix(key).concat(ByteSequence.from(token, StandardCharsets.UTF_8));
	}

	private ByteSequence prefix(String key, byte separator) {
		byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
		byte[] prefix = Arrays.copyOf(this.namespace, this.namespace.length + bytes.length + 1);
		System.arraycopy(bytes, 0, prefix, this.namespace.length, bytes.length);
		prefix[prefix.length - 1] = separator;
		return ByteSequence.from(prefix);
	}

	/**
	 * The prefix of the wake line of a lock key, {@code ns k \3}.
	 */
	ByteSequence wakePrefix(String key) {
		return prefix(key, WAKE_SEPARATOR);
	}

	/**
	 * An instance's place in the wake line of a lock key.
	 */
	ByteSequence placeKey(String key, String instance) {
		return wakePrefix(key).concat(ByteSequence.from(instance, StandardCharsets.UTF_8));
	}

	/**
	 * The end of the range that a key's watch covers: past its holders, writer waits,
	 * queue and wake line ({@code ns k \4}, exclusive).
	 */
	ByteSequence watchEnd(String key) {
		return prefix(key, (byte) (WAKE_SEPARATOR + 1));
	}

	ByteSequence writerKey(String key, String token) {
		return writersPrefix(key).concat(ByteSequence.from(token, StandardCharsets.UTF_8));
	}

	ByteSequence lockKey(String key) {
		return holdersPrefix(key);
	}

	ByteSequence permitKey(String key, String token) {
		return holdersPrefix(key).concat(ByteSequence.from(token, StandardCharsets.UTF_8));
	}

	/**
	 * The etcd key of a lease: the lock key for an exclusive lease, its own permit key
	 * for a semaphore's.
	 */
	ByteSequence etcdKey(LeaseSpec lease) {
		return (lease.mode() == LeaseMode.EXCLUSIVE) ? lockKey(lease.key()) : permitKey(lease.key(), lease.token());
	}

	/**
	 * The lock key an etcd key of this namespace belongs to, or {@code null} for a key
	 * that is not a holder's.
	 */
	@Nullable String lockKeyOf(ByteSequence etcdKey) {
		byte[] bytes = etcdKey.getBytes();
		int start = this.namespace.length;
		for (int i = start; i < bytes.length; i++) {
			if (bytes[i] == SEPARATOR) {
				return (i > start) ? new String(bytes, start, i - start, StandardCharsets.UTF_8) : null;
			}
		}
		return null;
	}

	/**
	 * The prefix of the revocations of the holders on one etcd lease:
	 * {@code ns \0 revoked/lease/}.
	 */
	ByteSequence revocationsPrefix(long leaseId) {
		byte[] suffix = ("revoked/" + Long.toHexString(leaseId) + "/").getBytes(StandardCharsets.UTF_8);
		byte[] prefix = Arrays.copyOf(this.namespace, this.namespace.length + 1 + suffix.length);
		prefix[this.namespace.length] = SEPARATOR;
		System.arraycopy(suffix, 0, prefix, this.namespace.length + 1, suffix.length);
		return ByteSequence.from(prefix);
	}

	/**
	 * The revocation of one holder: a force-release evicted the lease of this token,
	 * attached to this etcd lease.
	 */
	ByteSequence revocationKey(long leaseId, String token) {
		return revocationsPrefix(leaseId).concat(ByteSequence.from(token, StandardCharsets.UTF_8));
	}

	static ByteSequence value(LeaseSpec lease) {
		int limit = (lease.mode() == LeaseMode.SHARED) ? SHARED_LIMIT : lease.permits();
		String description = (lease.description() != null) ? lease.description() : "";
		return ByteSequence.from(lease.token() + "\n" + limit + "\n" + lease.owner() + "\n" + description,
				StandardCharsets.UTF_8);
	}

	/**
	 * Compares true while the etcd key does not exist.
	 */
	static Cmp absent(ByteSequence etcdKey) {
		return new Cmp(etcdKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0));
	}

	/**
	 * Compares true while the etcd key holds the value (the holder's token among it).
	 */
	static Cmp ours(ByteSequence etcdKey, ByteSequence value) {
		return new Cmp(etcdKey, Cmp.Op.EQUAL, CmpTarget.value(value));
	}

	/**
	 * Deletes the etcd key if it still holds the value: never another holder's key.
	 */
	static CompletableFuture<TxnResponse> deleteIfOurs(KV kv, ByteSequence etcdKey, ByteSequence value) {
		return kv.txn().If(ours(etcdKey, value)).Then(Op.delete(etcdKey, DeleteOption.DEFAULT)).commit();
	}

	/**
	 * Releases an unfair holder's key: deletes it if it still holds the value, and with
	 * it another instance's place in the key's wake line when there is one, which wakes
	 * that instance (both deletions come to every watch of the key in one response), and
	 * the holder's writer wait, when it recorded one, in any case.
	 */
	static CompletableFuture<TxnResponse> release(KV kv, ByteSequence etcdKey, ByteSequence value,
			@Nullable ByteSequence place, @Nullable ByteSequence writerWait) {
		List<Op> deletions = new ArrayList<>(3);
		deletions.add(Op.delete(etcdKey, DeleteOption.DEFAULT));
		if (place != null) {
			deletions.add(Op.delete(place, DeleteOption.DEFAULT));
		}
		Txn release = kv.txn().If(ours(etcdKey, value));
		if (writerWait == null) {
			return release.Then(deletions.toArray(new Op[0])).commit();
		}
		Op deleteWait = Op.delete(writerWait, DeleteOption.DEFAULT);
		deletions.add(deleteWait);
		return release.Then(deletions.toArray(new Op[0])).Else(deleteWait).commit();
	}

	/**
	 * Deletes a fair holder's key if it still holds the value, and its place in the queue
	 * in any case: its successor is woken by that deletion.
	 */
	static CompletableFuture<TxnResponse> releaseFair(KV kv, ByteSequence etcdKey, ByteSequence value,
			ByteSequence queueKey) {
		return kv.txn()
			.If(ours(etcdKey, value))
			.Then(Op.delete(etcdKey, DeleteOption.DEFAULT), Op.delete(queueKey, DeleteOption.DEFAULT))
			.Else(Op.delete(queueKey, DeleteOption.DEFAULT))
			.commit();
	}

	/**
	 * What a key's value says: the holder's lease token, the semaphore's limit, the owner
	 * and the description, if any.
	 */
	record Holder(String token, int permits, String owner, @Nullable String description) {

		static Holder parse(KeyValue entry) {
			String[] parts = entry.getValue().toString(StandardCharsets.UTF_8).split("\n", 4);
			if (parts.length < 3) {
				return new Holder(parts[0], 1, "?", null);
			}
			int limit;
			try {
				limit = Integer.parseInt(parts[1]);
			}
			catch (NumberFormatException ex) {
				limit = 1;
			}
			if (parts.length == 4) {
				// An owner may hold line breaks, a description does not: the last one
				// starts the description.
				String rest = parts[2] + "\n" + parts[3];
				int last = rest.lastIndexOf('\n');
				String description = rest.substring(last + 1);
				return new Holder(parts[0], limit, rest.substring(0, last), description.isEmpty() ? null : description);
			}
			return new Holder(parts[0], limit, parts[2], null);
		}

	}

}
