package dev.latchkey.fencing;

import java.math.BigDecimal;

import javax.sql.DataSource;

import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

import dev.latchkey.LockContext;
import dev.latchkey.annotation.Exclusive;

/**
 * The snippet of the README's section "Fencing a downstream store", kept here so that it compiles with the build.
 */
// README: begin
@Service
public class ReadmeFencingExample {

	private final JdbcClient jdbc;

	private final JdbcFence fence;

	private final RedisFence redisFence;

	public ReadmeFencingExample(JdbcClient jdbc, DataSource dataSource, RedisConnectionFactory redis) {
		this.jdbc = jdbc;
		this.fence = new JdbcFence(dataSource);           // table LATCHKEY_FENCES, from dev/latchkey/fencing/schema-*.sql
		this.redisFence = new RedisFence(redis);
	}

	@Exclusive("account:#id")
	public void credit(long id, BigDecimal amount) {
		// One transaction: the fence of "account:<id>" moves to this grant's token, then the update runs. A holder
		// whose lease ran out while it was paused gets FencingTokenRejectedException here, and nothing is written.
		this.fence.run("account:" + id, LockContext.fencingToken(), () -> this.jdbc
			.sql("UPDATE ACCOUNTS SET BALANCE = BALANCE + ? WHERE ID = ?")
			.params(amount, id)
			.update());
	}

	@Exclusive("report:#month")
	public void publish(String month, String report) {
		this.redisFence.set("report:" + month, report, LockContext.fencingToken());
	}

}
// README: end
