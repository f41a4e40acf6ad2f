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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import dev.latchkey.test.TestServers;

/**
 * Databases, tables and Redis connections for the fencing tests: tables are made from the
 * scripts the jar ships, under random names, so that runs sharing a server never meet.
 */
final class FencingTestSupport {

	private FencingTestSupport() {
	}

	static HikariDataSource dataSource(String database, int poolSize) {
		String url = switch (database) {
			case "postgres" -> TestServers.postgresUrl();
			case "mariadb" -> TestServers.mariadbUrl();
			// Writers of one resource wait for each other's commit on the fence row:
			// longer than H2's 1 s default.
			case "h2" -> "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=20000";
			default -> throw new IllegalArgumentException(database);
		};
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(url);
		config.setMaximumPoolSize(poolSize);
		config.setConnectionTimeout(10000);
		return new HikariDataSource(config);
	}

	static String platform(String database) {
		return switch (database) {
			case "postgres" -> "postgresql";
			case "mariadb" -> "mysql";
			default -> database;
		};
	}

	static String newName(String prefix) {
		return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase(Locale.ROOT);
	}

	/**
	 * Runs a script the jar ships with a table name of the test's own in place of the
	 * shipped one.
	 */
	static void runScript(DataSource dataSource, String script, String shippedName, String name) {
		try {
			String sql = new ClassPathResource(script).getContentAsString(StandardCharsets.UTF_8)
				.replace(shippedName, name);
			new ResourceDatabasePopulator(new ByteArrayResource(sql.getBytes(StandardCharsets.UTF_8)))
				.execute(dataSource);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	static LettuceConnectionFactory redis() {
		URI url = TestServers.redisUrl();
		RedisStandaloneConfiguration server = new RedisStandaloneConfiguration(url.getHost(),
				(url.getPort() > 0) ? url.getPort() : 6379);
		LettuceConnectionFactory factory = new LettuceConnectionFactory(server,
				LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(5)).build());
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

	/**
	 * Has several writers write the tokens 1 to {@code tokens} at once, in a shuffled
	 * order, each through a fenced write: a stale token is rejected, so the last value
	 * standing must be the highest token's.
	 * @param writers how many threads write
	 * @param tokens how many tokens are written
	 * @param timeout how long each writer may take
	 * @param write one fenced write with a token
	 * @return how many writes the fence accepted and rejected
	 */
	static Outcome writeConcurrently(int writers, int tokens, Duration timeout, FencedWrite write) throws Exception {
		List<Long> shuffled = new ArrayList<>();
		for (long token = 1; token <= tokens; token++) {
			shuffled.add(token);
		}
		Collections.shuffle(shuffled);
		AtomicInteger next = new AtomicInteger();
		AtomicInteger accepted = new AtomicInteger();
		AtomicInteger rejected = new AtomicInteger();
		ExecutorService executor = Executors.newFixedThreadPool(writers);
		CountDownLatch start = new CountDownLatch(1);
		try {
			List<Future<?>> results = new ArrayList<>();
			for (int w = 0; w < writers; w++) {
				results.add(executor.submit(() -> {
					start.await();
					for (int i; (i = next.getAndIncrement()) < tokens;) {
						try {
							write.write(shuffled.get(i));
							accepted.incrementAndGet();
						}
						catch (FencingTokenRejectedException ex) {
							rejected.incrementAndGet();
						}
					}
					return null;
				}));
			}
			start.countDown();
			for (Future<?> result : results) {
				result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
			}
		}
		finally {
			executor.shutdownNow();
		}
		return new Outcome(accepted.get(), rejected.get());
	}

	/**
	 * A write through a fence.
	 */
	@FunctionalInterface
	interface FencedWrite {

		/**
		 * Writes with a token.
		 * @param token the fencing token
		 * @throws FencingTokenRejectedException if the fence has seen a higher token
		 */
		void write(long token);

	}

	/**
	 * What the writers of {@link #writeConcurrently} saw.
	 *
	 * @param accepted how many writes the fence accepted
	 * @param rejected how many it rejected as stale
	 */
	record Outcome(int accepted, int rejected) {

	}

}
