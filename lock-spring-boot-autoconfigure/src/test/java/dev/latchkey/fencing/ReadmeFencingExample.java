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

package dev.latchkey.fencing;

import java.math.BigDecimal;

import javax.sql.DataSource;

import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

import dev.latchkey.LockContext;
import dev.latchkey.annotation.Exclusive;

/**
 * The snippet of the README's section "Fencing a downstream store", kept here so that it
 * compiles with the build.
 */
// README: begin
@Service
public class ReadmeFencingExample {

	private final JdbcClient jdbc;

	private final JdbcFence fence;

	private final RedisFence redisFence;

	public ReadmeFencingExample(JdbcClient jdbc, DataSource dataSource, RedisConnectionFactory redis) {
		this.jdbc = jdbc;
		this.fence = new JdbcFence(dataSource); // table LATCHKEY_FENCES, from
												// dev/latchkey/fencing/schema-*.sql
		this.redisFence = new RedisFence(redis);
	}

	@Exclusive("account:#id")
	public void credit(long id, BigDecimal amount) {
		// One transaction: the fence of "account:<id>" moves to this grant's token, then
		// the update runs. A holder whose lease ran out while it was paused gets
		// FencingTokenRejectedException here, and nothing is written.
		this.fence.run("account:" + id, LockContext.fencingToken(),
				() -> this.jdbc.sql("UPDATE ACCOUNTS SET BALANCE = BALANCE + ? WHERE ID = ?")
					.params(amount, id)
					.update());
	}

	@Exclusive("report:#month")
	public void publish(String month, String report) {
		this.redisFence.set("report:" + month, report, LockContext.fencingToken());
	}

}
// README: end
