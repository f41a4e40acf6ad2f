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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToIntFunction;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.util.Assert;

/**
 * Runs many calls of one script at once on a Lettuce Cluster connection, each routed to
 * the node of its keys' slot, and waits for all the answers: their round trips overlap
 * instead of following one another. Used for renewals, whose leases are spread over as
 * many slots as they have keys. Loaded only when Lettuce is on the class path.
 */
final class LettuceScriptPipeline {

	private LettuceScriptPipeline() {
	}

	/**
	 * Whether a connection of the factory can pipeline scripts: a Lettuce connection to a
	 * Cluster.
	 */
	static boolean canPipeline(RedisConnection connection) {
		return connection.getNativeConnection() instanceof RedisClusterAsyncCommands<?, ?>;
	}

	/**
	 * Whether the factory makes Lettuce connections.
	 */
	static boolean isLettuce(RedisConnectionFactory factory) {
		return factory instanceof LettuceConnectionFactory;
	}

	/**
	 * Groups items by the primary that serves their slot in the connection's view of the
	 * Cluster, which Lettuce keeps (no request is made). Items of a slot no primary is
	 * known to serve are grouped under {@code null}.
	 * @return the groups, each in the items' order, or {@code null} if the connection is
	 * not a Lettuce Cluster connection
	 */
	static <T> @Nullable Map<@Nullable String, List<T>> groupByNode(RedisConnection connection, Iterable<T> items,
			ToIntFunction<T> slot) {
		if (!(connection.getNativeConnection() instanceof RedisAdvancedClusterAsyncCommands<?, ?> commands)) {
			return null;
		}
		Partitions partitions = commands.getStatefulConnection().getPartitions();
		Map<@Nullable String, List<T>> byNode = new LinkedHashMap<>();
		for (T item : items) {
			RedisClusterNode node = partitions.getPartitionBySlot(slot.applyAsInt(item));
			byNode.computeIfAbsent((node != null) ? node.getNodeId() : null, (id) -> new ArrayList<>()).add(item);
		}
		return byNode;
	}

	/**
	 * Calls the script once per entry of {@code keys} (with the arguments of the same
	 * index), all at once, falling back to {@code EVAL} for the calls a node answers
	 * {@code NOSCRIPT}.
	 * @return the answer of each call, a list of strings, in order
	 * @throws io.lettuce.core.RedisException or an {@link ExecutionException} cause if a
	 * call fails
	 * @throws TimeoutException if a call is not answered within the factory's command
	 * timeout
	 */
	static List<List<String>> evalAll(RedisConnectionFactory factory, RedisConnection connection, RedisScript<?> script,
			List<List<String>> keys, List<List<String>> arguments)
			throws InterruptedException, ExecutionException, TimeoutException {
		List<Answer> answers = eval(factory, connection, script, keys, arguments, false);
		List<List<String>> all = new ArrayList<>(answers.size());
		for (Answer answer : answers) {
			Assert.state(answer.value() != null, "Every call was answered");
			all.add(answer.value());
		}
		return all;
	}

	/**
	 * As {@link #evalAll}, but a call that a node refuses with an error reply (a moved
	 * slot, keys of slots it does not serve, a script it cannot run) is answered with the
	 * refusal, for the caller to make again another way; the other calls are unaffected.
	 * @return the answer of each call in order
	 * @throws io.lettuce.core.RedisException or an {@link ExecutionException} cause if a
	 * call fails otherwise (the connection, say)
	 * @throws TimeoutException if a call is not answered within the factory's command
	 * timeout
	 */
	static List<Answer> evalEach(RedisConnectionFactory factory, RedisConnection connection, RedisScript<?> script,
			List<List<String>> keys, List<List<String>> arguments)
			throws InterruptedException, ExecutionException, TimeoutException {
		return eval(factory, connection, script, keys, arguments, true);
	}

	/**
	 * As {@link #evalEach}, but each call is sent to the primary of the given node id,
	 * with no declared keys: the node runs it whatever keys it reads, never redirects it,
	 * and refuses it if it reads a key the node does not serve (a script with the
	 * {@code allow-cross-slot-keys} flag that reads the keys of many slots of that node).
	 * @param nodes the node id of each call
	 * @param arguments the arguments of each call
	 * @return the answer of each call in order
	 * @throws io.lettuce.core.RedisException or an {@link ExecutionException} cause if a
	 * call fails otherwise (the connection, say)
	 * @throws TimeoutException if a call is not answered within the factory's command
	 * timeout
	 */
	@SuppressWarnings("unchecked")
	static List<Answer> evalOnNodes(RedisConnectionFactory factory, RedisConnection connection, RedisScript<?> script,
			List<String> nodes, List<List<String>> arguments)
			throws InterruptedException, ExecutionException, TimeoutException {
		RedisAdvancedClusterAsyncCommands<byte[], byte[]> commands = (RedisAdvancedClusterAsyncCommands<byte[], byte[]>) connection
			.getNativeConnection();
		List<RedisClusterAsyncCommands<byte[], byte[]>> targets = new ArrayList<>(nodes.size());
		for (String node : nodes) {
			targets.add(commands.getConnection(node));
		}
		return eval(factory, targets, script, Collections.nCopies(nodes.size(), List.of()), arguments, true);
	}

	@SuppressWarnings("unchecked")
	private static List<Answer> eval(RedisConnectionFactory factory, RedisConnection connection, RedisScript<?> script,
			List<List<String>> keys, List<List<String>> arguments, boolean refusable)
			throws InterruptedException, ExecutionException, TimeoutException {
		RedisClusterAsyncCommands<byte[], byte[]> commands = (RedisClusterAsyncCommands<byte[], byte[]>) connection
			.getNativeConnection();
		return eval(factory, Collections.nCopies(keys.size(), commands), script, keys, arguments, refusable);
	}

	/**
	 * Sends the calls, each on its own commands (a node's, or the Cluster's, which route
	 * each by its keys), and waits for their answers.
	 */
	private static List<Answer> eval(RedisConnectionFactory factory,
			List<RedisClusterAsyncCommands<byte[], byte[]>> targets, RedisScript<?> script, List<List<String>> keys,
			List<List<String>> arguments, boolean refusable)
			throws InterruptedException, ExecutionException, TimeoutException {
		long timeoutNanos = timeout(factory).toNanos();
		List<RedisFuture<List<Object>>> calls = new ArrayList<>(keys.size());
		for (int i = 0; i < keys.size(); i++) {
			calls.add(targets.get(i)
				.evalsha(script.getSha1(), ScriptOutputType.MULTI, bytes(keys.get(i)), bytes(arguments.get(i))));
		}
		long deadline = System.nanoTime() + timeoutNanos;
		List<Answer> answers = new ArrayList<>(calls.size());
		for (int i = 0; i < calls.size(); i++) {
			List<Object> answer;
			try {
				try {
					answer = calls.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
				}
				catch (ExecutionException ex) {
					if (!(ex.getCause() instanceof RedisNoScriptException)) {
						throw ex;
					}
					// A node that has not loaded the script yet (a new or restarted one).
					RedisFuture<List<Object>> loaded = targets.get(i)
						.eval(script.getScriptAsString(), ScriptOutputType.MULTI, bytes(keys.get(i)),
								bytes(arguments.get(i)));
					answer = loaded.get(timeoutNanos, TimeUnit.NANOSECONDS);
				}
			}
			catch (ExecutionException ex) {
				if (refusable && ex.getCause() instanceof RedisCommandExecutionException refusal) {
					answers.add(new Answer(null, String.valueOf(refusal.getMessage())));
					continue;
				}
				throw ex;
			}
			answers.add(new Answer(strings(answer), null));
		}
		return answers;
	}

	private static Duration timeout(RedisConnectionFactory factory) {
		return (factory instanceof LettuceConnectionFactory lettuce)
				? lettuce.getClientConfiguration().getCommandTimeout() : Duration.ofSeconds(60);
	}

	private static byte[][] bytes(List<String> values) {
		byte[][] bytes = new byte[values.size()][];
		for (int i = 0; i < bytes.length; i++) {
			bytes[i] = values.get(i).getBytes(StandardCharsets.UTF_8);
		}
		return bytes;
	}

	private static List<String> strings(List<Object> answer) {
		List<String> strings = new ArrayList<>(answer.size());
		for (Object value : answer) {
			strings.add((value instanceof byte[] bytes) ? new String(bytes, StandardCharsets.UTF_8)
					: String.valueOf(value));
		}
		return strings;
	}

	/**
	 * The answer of one call: the strings it answered, or the error reply a node refused
	 * it with.
	 *
	 * @param value the strings the call answered, {@code null} if it was refused
	 * @param refusal the error reply, {@code null} if the call was answered
	 */
	record Answer(@Nullable List<String> value, @Nullable String refusal) {

	}

}
