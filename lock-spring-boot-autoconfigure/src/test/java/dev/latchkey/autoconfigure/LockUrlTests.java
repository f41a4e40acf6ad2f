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

package dev.latchkey.autoconfigure;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LockUrl}: what each form of {@code latchkey.url} means, and that every
 * malformed one fails the start with what is wrong and what to write.
 */
class LockUrlTests {

	@Test
	void memoryAndSocket() {
		assertThat(LockUrl.parse("memory:")).isEqualTo(new LockUrl.Memory());
		assertThat(LockUrl.parse(" socket: ")).isEqualTo(new LockUrl.Socket(null));
		assertThat(LockUrl.parse("socket:/var/run/app-locks"))
			.isEqualTo(new LockUrl.Socket(Path.of("/var/run/app-locks")));
		assertThat(LockUrl.parse("socket:///var/run/app-locks/"))
			.isEqualTo(new LockUrl.Socket(Path.of("/var/run/app-locks")));
	}

	@Test
	void redis() {
		assertThat(LockUrl.parse("redis://redis-1"))
			.isEqualTo(new LockUrl.Redis("redis-1", 6379, 0, false, null, null));
		LockUrl.Redis url = (LockUrl.Redis) LockUrl.parse("rediss://app:s%40cret@redis-1:6380/2");
		assertThat(url).isEqualTo(new LockUrl.Redis("redis-1", 6380, 2, true, "app", "s@cret"));
		assertThat(url.backend()).isEqualTo(Backend.REDIS);
		assertThat(url).hasToString("rediss://app:******@redis-1:6380/2");
		assertThat(LockUrl.parse("redis://secret@redis-1/"))
			.isEqualTo(new LockUrl.Redis("redis-1", 6379, 0, false, null, "secret"));
	}

	@Test
	void jdbc() {
		assertThat(LockUrl.parse("postgresql://app:secret@db-1/orders?sslmode=require"))
			.isEqualTo(new LockUrl.Jdbc("jdbc:postgresql://db-1/orders?sslmode=require", "app", "secret"));
		assertThat(LockUrl.parse("postgres://db-1:5433/orders"))
			.isEqualTo(new LockUrl.Jdbc("jdbc:postgresql://db-1:5433/orders", null, null));
		assertThat(LockUrl.parse("jdbc:mariadb://db-1:3306/orders?user=app&password=secret"))
			.isEqualTo(new LockUrl.Jdbc("jdbc:mariadb://db-1:3306/orders?user=app&password=secret", null, null))
			.hasToString("jdbc:mariadb://db-1:3306/orders?user=app&password=******");
	}

	@Test
	void etcd() {
		assertThat(LockUrl.parse("etcd://etcd-1:2379,etcd-2,[::1]:2380")).isEqualTo(new LockUrl.Etcd(List
			.of(URI.create("http://etcd-1:2379"), URI.create("http://etcd-2:2379"), URI.create("http://[::1]:2380"))));
	}

	@Test
	void masksPasswordsOfUrlsThatCannotBeRead() {
		assertThat(LockUrl.mask("redis://app:secret@host:port")).isEqualTo("redis://app:******@host:port");
		assertThat(LockUrl.mask("jdbc:postgresql://h/db?user=app&password=secret&ssl=true"))
			.isEqualTo("jdbc:postgresql://h/db?user=app&password=******&ssl=true");
		assertThat(LockUrl.mask("jdbc:sqlserver://h;user=app;password=secret;db=x"))
			.isEqualTo("jdbc:sqlserver://h;user=app;password=******;db=x");
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|',
			textBlock = """
					redis                                  | has no scheme                                   | Start it with the backend's scheme
					:6379                                  | has no scheme                                   | redis://host:port
					ftp://files                            | has the scheme 'ftp', which names no backend    | etcd://host:port,host:port
					http://127.0.0.1:2379                  | has the scheme 'http', which names no backend   | socket:
					redis://                               | names no host                                   | redis://host:6379
					redis:///0                             | names no host                                   | redis://host:6379
					redis://my host:6379                   | is not a valid URL: Illegal character in authority at index 8 | percent-encode
					redis://:secret@host:port              | has no valid host                               | redis://host:6379
					redis://host:70000                     | has the port 70000, outside 1 to 65535          | redis://host:6379
					redis://host/first                     | has the path '/first', which is not a database index | redis://host:6379/2
					redis://host/-1                        | has the path '/-1', which is not a database index | redis://host:6379/2
					redis://host?timeout=2s                | has parameters (?...) or a fragment (#...)      | backend's properties
					postgresql://host:5432                 | names no database                               | postgresql://user:password@host:5432/database
					postgresql://host/db/extra             | names no database                               | postgresql://user:password@host:5432/database
					postgresql:///orders                   | names no host                                   | postgresql://user:password@host:5432/database
					jdbc:                                  | names no driver and database after 'jdbc:'      | jdbc:postgresql://host:5432/database
					jdbc:postgresql                        | names no driver and database after 'jdbc:'      | jdbc:mariadb://host:3306/database
					etcd://                                | names no member                                 | etcd://etcd-1:2379,etcd-2:2379
					etcd:etcd-1:2379                       | names no member                                 | etcd://etcd-1:2379,etcd-2:2379
					etcd://etcd-1:2379,,etcd-2:2379        | has an empty member between commas              | etcd://etcd-1:2379,etcd-2:2379
					etcd://root:secret@etcd-1:2379         | has a user or password                          | latchkey.etcd.user
					etcd://etcd-1:2379/v3                  | has the member 'etcd-1:2379/v3', which is not host:port | etcd://etcd-1:2379
					socket://localhost/var/locks           | names a host                                    | socket:/var/run/app-locks
					socket:var/locks                       | names the relative directory 'var/locks'        | absolute directory
					memory:all                             | has something after 'memory:'                   | latchkey.url=memory:
					""")
	void malformedUrlFailsTheStartWithWhatToWrite(String url, String problem, String action) {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withPropertyValues("latchkey.url=" + url)
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).startsWith("latchkey.url '").contains(problem);
				assertThat(analysis.getDescription()).doesNotContain("secret");
				assertThat(analysis.getAction()).contains(action);
			});
	}

}
