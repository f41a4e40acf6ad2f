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

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.test.FaultMatrix;

/**
 * The {@link FaultMatrix} on the Redis backend, on a standalone redis-server of the
 * test's own that keeps its data in an append-only file synced on every write (as the
 * README advises where fencing matters), so that a restart keeps leases and fencing
 * counters. A restart without persistence is {@link RedisLockFaultTests}'s.
 */
class FaultMatrixRedisTests extends RedisFaultMatrix {

	private RedisServerProcess server;

	@Override
	LettuceConnectionFactory startRedis(Path temporary) {
		this.server = RedisServerProcess.startPersistent(temporary);
		return RedisTestSupport.connectionFactory(this.server.url(), Duration.ofSeconds(1));
	}

	@Override
	void stopRedis() {
		if (this.server != null) {
			this.server.close();
		}
	}

	@Override
	protected String childBackend() {
		return "redis|" + this.server.url();
	}

	@Override
	protected InetSocketAddress serverAddress() {
		return new InetSocketAddress("127.0.0.1", this.server.port());
	}

	@Override
	protected String childBackendThrough(int port) {
		return "redis|redis://127.0.0.1:" + port;
	}

	@Override
	protected Server server() {
		return Server.of(() -> List.of(this.server.pid()), () -> this.server.restart());
	}

}
