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
import java.util.UUID;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.Lifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.latchkey.LockNotAcquiredException;
import dev.latchkey.LockTemplate;
import dev.latchkey.etcd.EtcdLockRepository;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.socket.SocketLockRepository;
import dev.latchkey.test.TestServers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@code latchkey.url}: each backend chosen and reached through its URL, with a
 * client Latchkey makes or the application's own, as two instances of an application that
 * lock together; and the start failing when the URL disagrees with the application.
 */
class UrlBackendAutoConfigurationTests {

	@TempDir
	Path temporary;

	private ApplicationContextRunner contextRunner() {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withPropertyValues("latchkey.socket.directory=" + this.temporary.resolve("default-locks"));
	}

	/**
	 * Starts the runner twice, as two instances of the application, and checks that a key
	 * one of them holds is refused to the other until it is released.
	 */
	private static void twoInstancesLockTogether(ApplicationContextRunner runner) {
		String key = "url-" + UUID.randomUUID();
		runner.run((first) -> runner.run((second) -> {
			assertThat(first).hasNotFailed();
			assertThat(second).hasNotFailed();
			LockTemplate firstLocks = first.getBean(LockTemplate.class);
			LockTemplate secondLocks = second.getBean(LockTemplate.class);
			long token = firstLocks.exclusive(key).call(() -> {
				assertThatExceptionOfType(LockNotAcquiredException.class)
					.isThrownBy(() -> secondLocks.exclusive(key).run(() -> {
					}));
				return secondLocks.repository().inspect(key).orElseThrow().holders().get(0).fencingToken();
			});
			assertThat(token).isPositive();
			assertThat(secondLocks.exclusive(key).call(() -> true)).isTrue();
		}));
	}

	private static String postgresqlUrl() {
		URI jdbc = URI.create(TestServers.postgresUrl().substring("jdbc:".length()));
		return "postgresql://postgres@" + jdbc.getHost() + ":" + jdbc.getPort() + jdbc.getPath();
	}

	private static String etcdUrl() {
		return "etcd://"
				+ TestServers.etcdEndpoints().stream().map(URI::getRawAuthority).collect(Collectors.joining(","));
	}

	@Test
	void memoryUrlSelectsTheMemoryBackend() {
		contextRunner().withPropertyValues("latchkey.url=memory:").run((context) -> {
			assertThat(context).hasSingleBean(MemoryLockRepository.class).doesNotHaveBean(SocketLockRepository.class);
			LockTemplate locks = context.getBean(LockTemplate.class);
			assertThat(locks.exclusive("memory-url").call(() -> locks.repository().inspect("memory-url"))).isPresent();
		});
	}

	@Test
	void socketUrlWithADirectoryLocksThereForEveryInstance() {
		Path directory = this.temporary.resolve("app-locks");
		ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration.class))
			.withPropertyValues("latchkey.url=socket:" + directory);
		runner.run((context) -> assertThat(context.getBean(SocketLockRepository.class).getDirectory())
			.isEqualTo(directory));
		twoInstancesLockTogether(runner);
	}

	@Test
	void socketUrlWithoutADirectoryUsesTheDirectoryOfTheProperties() {
		contextRunner().withPropertyValues("latchkey.url=socket:")
			.run((context) -> assertThat(context.getBean(SocketLockRepository.class).getDirectory())
				.isEqualTo(this.temporary.resolve("default-locks")));
	}

	@Test
	void socketUrlAndAnotherSocketDirectoryFailTheStart() {
		contextRunner().withPropertyValues("latchkey.url=socket:" + this.temporary.resolve("other")).run((context) -> {
			FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
			assertThat(analysis.getDescription())
				.isEqualTo("latchkey.url names the lock directory " + this.temporary.resolve("other")
						+ ", but latchkey.socket.directory is " + this.temporary.resolve("default-locks"));
			assertThat(analysis.getAction()).contains("Name the lock directory once");
		});
	}

	@Test
	void redisUrlWithoutAConnectionFactoryMakesLatchkeysOwnAndClosesIt() {
		ApplicationContextRunner runner = contextRunner().withPropertyValues(
				"latchkey.url=" + TestServers.redisUrl() + "/0", "latchkey.redis.namespace=latchkey-url-test");
		LockRedisConnection[] connection = new LockRedisConnection[1];
		runner.run((context) -> {
			assertThat(context).hasSingleBean(RedisLockRepository.class).doesNotHaveBean(RedisConnectionFactory.class);
			connection[0] = context.getBean(LockRedisConnection.class);
			assertThat(connection[0].isOwned()).isTrue();
		});
		assertThat(((Lifecycle) connection[0].connectionFactory()).isRunning()).isFalse();
		twoInstancesLockTogether(runner);
	}

	@Test
	void redisUrlOfTheApplicationsServerUsesItsConnectionFactory() {
		// The unconnected factory's address is localhost:6379, the default.
		ApplicationContextRunner runner = contextRunner()
			.withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.url=redis://127.0.0.1");
		runner.run((context) -> {
			assertThat(context).hasSingleBean(RedisLockRepository.class).hasSingleBean(RedisConnectionFactory.class);
			LockRedisConnection connection = context.getBean(LockRedisConnection.class);
			assertThat(connection.isOwned()).isFalse();
			assertThat(connection.connectionFactory()).isSameAs(context.getBean(RedisConnectionFactory.class));
		});
	}

	@Test
	void redisUrlOfAnotherServerThanTheApplicationsFailsTheStart() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.url=redis://:secret@127.0.0.1:6380")
			.run((context) -> {
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).isEqualTo("latchkey.url is redis://127.0.0.1:6380/0, but the"
						+ " application's RedisConnectionFactory connects to redis://localhost:6379/0");
				assertThat(analysis.getAction()).contains("remove latchkey.url", "spring.data.redis.");
			});
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.url=redis://localhost:6379/3")
			.run((context) -> assertThat(BackendStartup.analyze(context.getStartupFailure()).getDescription())
				.endsWith("connects to redis://localhost:6379/0"));
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.url=rediss://localhost:6379")
			.run((context) -> assertThat(BackendStartup.analyze(context.getStartupFailure()).getDescription())
				.isEqualTo("latchkey.url is rediss://localhost:6379/0, but the application's RedisConnectionFactory"
						+ " connects to redis://localhost:6379/0"));
	}

	@Test
	void redisUrlWithoutLettuceOrAConnectionFactoryFailsTheStart() {
		contextRunner().withClassLoader(new FilteredClassLoader("io.lettuce"))
			.withPropertyValues("latchkey.url=redis://127.0.0.1:6379")
			.run((context) -> {
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).contains("latchkey.url is a redis URL",
						"Lettuce, with which Latchkey connects, is not on the class path");
				assertThat(analysis.getAction()).contains("io.lettuce:lettuce-core");
			});
	}

	@Test
	void redisUrlWithoutSpringDataRedisFailsTheStartWithWhatToAdd() {
		contextRunner().withClassLoader(new FilteredClassLoader("org.springframework.data.redis"))
			.withPropertyValues("latchkey.url=redis://:secret@127.0.0.1:6379")
			.run((context) -> {
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).isEqualTo("latchkey.url is a redis URL"
						+ " (redis://:******@127.0.0.1:6379/0), but spring-data-redis is not on the class path");
				assertThat(analysis.getAction()).contains("spring-boot-starter-data-redis", "change latchkey.url");
			});
	}

	@Test
	void postgresqlUrlWithoutADataSourceMakesLatchkeysOwnPool() {
		ApplicationContextRunner runner = contextRunner().withPropertyValues("latchkey.url=" + postgresqlUrl(),
				"latchkey.jdbc.table-name=URL_TEST_LOCKS", "latchkey.jdbc.initialize-schema=always");
		HikariDataSource[] pool = new HikariDataSource[1];
		runner.run((context) -> {
			assertThat(context).hasSingleBean(JdbcLockRepository.class).doesNotHaveBean(DataSource.class);
			assertThat(context.getBean(LockDataSource.class).isOwned()).isTrue();
			assertThat(context.getBean(LockDataSource.class).dataSource()).isInstanceOf(HikariDataSource.class);
			pool[0] = (HikariDataSource) context.getBean(LockDataSource.class).dataSource();
			assertThat(pool[0].isClosed()).isFalse();
		});
		assertThat(pool[0].isClosed()).as("Latchkey's pool closed with the context").isTrue();
		try {
			twoInstancesLockTogether(runner);
		}
		finally {
			runner.run((context) -> new JdbcTemplate(context.getBean(LockDataSource.class).dataSource())
				.execute("DROP TABLE URL_TEST_LOCKS"));
		}
	}

	@Test
	void jdbcUrlOfMariaDbIsUsedAsIs() {
		ApplicationContextRunner runner = contextRunner().withPropertyValues("latchkey.url=" + TestServers.mariadbUrl(),
				"latchkey.jdbc.table-name=URL_TEST_LOCKS", "latchkey.jdbc.initialize-schema=always");
		try {
			twoInstancesLockTogether(runner);
		}
		finally {
			runner.run((context) -> new JdbcTemplate(context.getBean(LockDataSource.class).dataSource())
				.execute("DROP TABLE URL_TEST_LOCKS"));
		}
	}

	@Test
	void jdbcUrlOfH2IsUsedAsIs() {
		twoInstancesLockTogether(contextRunner().withPropertyValues(
				"latchkey.url=jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
				"latchkey.jdbc.initialize-schema=always"));
	}

	@Test
	void postgresqlUrlOfTheApplicationsDatabaseUsesItsDataSource() {
		contextRunner().withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
			.withPropertyValues("spring.datasource.url=" + TestServers.postgresUrl(), "latchkey.url=" + postgresqlUrl(),
					"latchkey.jdbc.table-name=URL_TEST_APP_LOCKS", "latchkey.jdbc.initialize-schema=always")
			.run((context) -> {
				assertThat(context).hasSingleBean(JdbcLockRepository.class).hasSingleBean(DataSource.class);
				LockDataSource lockDataSource = context.getBean(LockDataSource.class);
				assertThat(lockDataSource.isOwned()).isFalse();
				assertThat(lockDataSource.dataSource()).isSameAs(context.getBean(DataSource.class));
				LockTemplate locks = context.getBean(LockTemplate.class);
				try {
					assertThat(locks.exclusive("url-app-database").call(() -> true)).isTrue();
				}
				finally {
					new JdbcTemplate(context.getBean(DataSource.class)).execute("DROP TABLE URL_TEST_APP_LOCKS");
				}
			});
	}

	@Test
	void jdbcUrlOfAnotherDatabaseThanTheApplicationsFailsTheStart() {
		String h2 = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
		contextRunner().withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
			.withPropertyValues("spring.datasource.url=" + h2, "latchkey.url=jdbc:h2:mem:other")
			.run((context) -> {
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription())
					.isEqualTo("latchkey.url is jdbc:h2:mem:other, but the application's DataSource connects to "
							+ h2.substring(0, h2.indexOf(';')));
				assertThat(analysis.getAction()).contains("remove latchkey.url", "spring.datasource.url");
			});
	}

	@Test
	void jdbcUrlWithoutItsDriverFailsTheStartWithTheDriverToAdd() {
		contextRunner().withClassLoader(new FilteredClassLoader("org.postgresql"))
			.withPropertyValues("latchkey.url=postgresql://app:secret@db-1/orders")
			.run((context) -> {
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription())
					.isEqualTo("latchkey.url is jdbc:postgresql://db-1/orders (user app), but its JDBC driver"
							+ " org.postgresql.Driver is not on the class path");
				assertThat(analysis.getAction()).contains("org.postgresql:postgresql");
			});
	}

	@Test
	void etcdUrlMakesAClientForItsMembers() {
		ApplicationContextRunner runner = contextRunner().withPropertyValues("latchkey.url=" + etcdUrl(),
				"latchkey.etcd.namespace=latchkey-url-test/");
		runner
			.run((context) -> assertThat(context).hasSingleBean(EtcdLockRepository.class).hasSingleBean(Client.class));
		twoInstancesLockTogether(runner);
	}

	@Test
	void etcdUrlWithTheApplicationsOwnClientFailsTheStart() {
		contextRunner().withUserConfiguration(EtcdClientConfiguration.class)
			.withPropertyValues("latchkey.url=etcd://127.0.0.1:2379")
			.run((context) -> {
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).isEqualTo("latchkey.url is etcd://127.0.0.1:2379, but the"
						+ " application has a jetcd Client of its own, whose members Latchkey cannot read to check"
						+ " that they agree");
				assertThat(analysis.getAction()).contains("remove latchkey.url and set latchkey.backend=etcd");
			});
	}

	@Test
	void etcdUrlAndOtherEndpointsFailTheStart() {
		contextRunner()
			.withPropertyValues("latchkey.url=etcd://127.0.0.1:2379", "latchkey.etcd.endpoints=http://127.0.0.1:2380")
			.run((context) -> assertThat(BackendStartup.analyze(context.getStartupFailure()).getDescription())
				.isEqualTo("latchkey.url is etcd://127.0.0.1:2379, but latchkey.etcd.endpoints names other members:"
						+ " [http://127.0.0.1:2380]"));
	}

	@Test
	void etcdUrlWithAnSslBundleFailsTheStart() {
		contextRunner().withPropertyValues("latchkey.url=etcd://127.0.0.1:2379", "latchkey.etcd.ssl.bundle=etcd-client")
			.run((context) -> {
				FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
				assertThat(analysis.getDescription()).isEqualTo("latchkey.url is etcd://127.0.0.1:2379, which reaches"
						+ " the members over plain HTTP, but latchkey.etcd.ssl.bundle asks for TLS");
				assertThat(analysis.getAction()).contains("latchkey.etcd.endpoints=https://");
			});
	}

	@Test
	void urlAndBackendThatDisagreeFailTheStart() {
		contextRunner().withPropertyValues("latchkey.url=memory:", "latchkey.backend=socket").run((context) -> {
			FailureAnalysis analysis = BackendStartup.analyze(context.getStartupFailure());
			assertThat(analysis.getDescription())
				.isEqualTo("latchkey.url is a memory URL (memory:), but latchkey.backend is socket");
			assertThat(analysis.getAction()).contains("Remove latchkey.backend");
		});
	}

	@Test
	void malformedUrlFailsTheStartEvenBesideTheApplicationsOwnRepository() {
		contextRunner().withUserConfiguration(OwnRepositoryConfiguration.class)
			.withPropertyValues("latchkey.url=redis://host/first")
			.run((context) -> assertThat(BackendStartup.analyze(context.getStartupFailure()).getDescription())
				.isEqualTo("latchkey.url 'redis://host/first' has the path '/first', which is not a database index"));
		contextRunner().withUserConfiguration(OwnRepositoryConfiguration.class)
			.withPropertyValues("latchkey.url=redis://127.0.0.1:1")
			.run((context) -> assertThat(context.getBean(LockTemplate.class).repository())
				.isSameAs(context.getBean("ownRepository")));
	}

	@Test
	void urlAndBackendThatAgreeStart() {
		contextRunner().withPropertyValues("latchkey.url=memory:", "latchkey.backend=memory")
			.run((context) -> assertThat(context).hasSingleBean(MemoryLockRepository.class));
	}

	@Test
	void urlResolvesWhatWouldBeAnAmbiguity() {
		// A DataSource and a RedisConnectionFactory: 'auto' alone would fail the start.
		ApplicationContextRunner both = contextRunner()
			.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
			.withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("spring.datasource.url=jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
		both.run((context) -> assertThat(BackendStartup.analyze(context.getStartupFailure()).getDescription())
			.startsWith("latchkey.backend is auto, and the application has more than one backend configured"));
		Path directory = this.temporary.resolve("ambiguity");
		both.withPropertyValues("latchkey.url=socket:" + directory, "latchkey.socket.directory=" + directory)
			.run((context) -> assertThat(context).hasSingleBean(SocketLockRepository.class)
				.doesNotHaveBean(JdbcLockRepository.class)
				.doesNotHaveBean(RedisLockRepository.class));
		both.withPropertyValues("latchkey.url=redis://localhost:6379")
			.run((context) -> assertThat(context).hasSingleBean(RedisLockRepository.class)
				.doesNotHaveBean(JdbcLockRepository.class));
	}

	@Test
	void startupLineNamesTheUrlWithoutItsPassword() {
		contextRunner().withUserConfiguration(BackendStartup.UnconnectedRedisConfiguration.class)
			.withPropertyValues("latchkey.url=redis://:secret@localhost:6379")
			.run((context) -> assertThat(BackendReport.describe(context.getBean(LockTemplate.class).repository(),
					context.getBean(LatchkeyProperties.class), context.getBeanFactory()))
				.isEqualTo("Latchkey: using the redis backend (latchkey.url=redis://:******@localhost:6379/0);"
						+ " namespace latchkey"));
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnRepositoryConfiguration {

		@Bean
		MemoryLockRepository ownRepository() {
			return new MemoryLockRepository();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class EtcdClientConfiguration {

		@Bean(destroyMethod = "close")
		Client etcdClient() {
			return Client.builder().endpoints("http://127.0.0.1:1").build();
		}

	}

}
