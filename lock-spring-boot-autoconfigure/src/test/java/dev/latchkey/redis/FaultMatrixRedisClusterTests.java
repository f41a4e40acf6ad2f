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

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.test.FaultMatrix;

/**
 * The {@link FaultMatrix} on the Redis backend against a Redis Cluster of three primaries
 * of the test's own, each keeping its data in an append-only file synced on every write,
 * so that a restart of every node keeps leases, owner records and fencing counters. On a
 * Cluster each exclusive lease names an owner record of its own slot, and renewal reaches
 * every primary: a holder killed or stopped past its TTL, a waiter stopped past it, the
 * whole Cluster paused or restarted, clocks hours apart and sixty threads in three
 * processes are its cells here as on a single server. The slow and cut link is not: a
 * Cluster's clients connect to the address each node announces, which one proxy cannot
 * stand in for.
 */
class FaultMatrixRedisClusterTests extends RedisFaultMatrix {

	private List<RedisServerProcess> nodes = List.of();

	@Override
	LettuceConnectionFactory startRedis(Path temporary) {
		this.nodes = RedisServerProcess.startCluster(temporary, 3, true);
		LettuceConnectionFactory factory = new LettuceConnectionFactory(new RedisClusterConfiguration(addresses()),
				LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(1)).build());
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

	private List<String> addresses() {
		return this.nodes.stream().map((node) -> "127.0.0.1:" + node.port()).toList();
	}

	@Override
	void stopRedis() {
		this.nodes.forEach(RedisServerProcess::close);
	}

	@Override
	protected String childBackend() {
		return "redis-cluster|" + String.join(",", addresses());
	}

	@Override
	protected Server server() {
		return Server.of(() -> this.nodes.stream().map(RedisServerProcess::pid).collect(Collectors.toList()), () -> {
			this.nodes.forEach(RedisServerProcess::restart);
			RedisServerProcess.awaitClusterOk(this.nodes);
		});
	}

}
