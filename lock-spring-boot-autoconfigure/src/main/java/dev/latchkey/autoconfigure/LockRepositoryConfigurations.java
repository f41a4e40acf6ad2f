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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import javax.net.ssl.SSLException;
import javax.sql.DataSource;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.AnnotatedBeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.sql.init.dependency.DatabaseInitializationDependencyConfigurer;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportSelector;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.util.StringUtils;

import dev.latchkey.LockBackendException;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;
import dev.latchkey.etcd.EtcdLockRepository;
import dev.latchkey.jdbc.JdbcLockRepository;
import dev.latchkey.memory.MemoryLockRepository;
import dev.latchkey.redis.RedisLockRepository;
import dev.latchkey.socket.SocketLockRepository;
import dev.latchkey.support.FailureMessages;

/**
 * The backends' configurations, side by side: each makes the {@link LockRepository} of
 * one backend when {@code latchkey.backend} selects it ({@link ConditionalOnLockBackend})
 * and the application has no repository of its own. At most one matches, so their order
 * does not matter; they are listed as {@link Backend} lists them.
 * <p>
 * Imported by {@link LatchkeyAutoConfiguration} through this class, an
 * {@link ImportSelector} that gives their names rather than classes: Spring then reads
 * them without loading them, so a configuration whose library is absent (jetcd, say) is
 * never loaded, even when the auto-configuration is registered as a class. With them
 * comes {@link BackendChoiceCheck}, which explains a backend that cannot be used.
 */
final class LockRepositoryConfigurations implements ImportSelector {

	@Override
	public String[] selectImports(AnnotationMetadata importingClassMetadata) {
		return Stream.of(Memory.class, Socket.class, Redis.class, Jdbc.class, Etcd.class, BackendChoiceCheck.class)
			.map(Class::getName)
			.toArray(String[]::new);
	}

	/**
	 * {@code latchkey.url}, parsed, or {@code null} when it is not set. When a
	 * configuration applies, {@link BackendChoice} has already parsed it and it names the
	 * configuration's backend.
	 */
	static @Nullable LockUrl url(LatchkeyProperties properties) {
		return StringUtils.hasText(properties.getUrl()) ? LockUrl.parse(properties.getUrl()) : null;
	}

	/**
	 * Whether every bean of the type is defined by the given configuration, rather than
	 * by the application.
	 */
	private static boolean madeHere(ConfigurableListableBeanFactory beanFactory, Class<?> type,
			Class<?> configuration) {
		for (String name : beanFactory.getBeanNamesForType(type, true, false)) {
			if (!beanFactory.containsBeanDefinition(name)
					|| !(beanFactory.getBeanDefinition(name) instanceof AnnotatedBeanDefinition annotated)
					|| annotated.getFactoryMethodMetadata() == null
					|| !configuration.getName().equals(annotated.getFactoryMethodMetadata().getDeclaringClassName())) {
				return false;
			}
		}
		return true;
	}

	/**
	 * The memory backend: locks held within this JVM only.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingBean(LockRepository.class)
	@ConditionalOnLockBackend(Backend.MEMORY)
	static class Memory {

		@Bean
		MemoryLockRepository lockRepository() {
			return new MemoryLockRepository();
		}

	}

	/**
	 * The socket backend, the embedded default: in the lock directory
	 * {@code latchkey.socket.directory}. Its threads stay daemon platform threads even
	 * when the application enables virtual threads: the arbiter's selector thread blocks
	 * in {@code select} and a connection's reader in a socket read for the life of the
	 * application, where a virtual thread would gain nothing.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingBean(LockRepository.class)
	@ConditionalOnLockBackend(Backend.SOCKET)
	static class Socket {

		@Bean(destroyMethod = "close")
		SocketLockRepository lockRepository(LatchkeyProperties properties, LockSettings lockSettings) {
			LatchkeyProperties.Socket socket = properties.getSocket();
			Path directory = socket.getDirectory();
			if (url(properties) instanceof LockUrl.Socket socketUrl && socketUrl.directory() != null) {
				if (directory != null && !directory.toAbsolutePath().normalize().equals(socketUrl.directory())) {
					throw new LockConfigurationException(
							"latchkey.url names the lock directory " + socketUrl.directory()
									+ ", but latchkey.socket.directory is " + directory,
							"Name the lock directory once: in latchkey.url (socket:/directory) or in"
									+ " latchkey.socket.directory");
				}
				directory = socketUrl.directory();
			}
			if (directory == null) {
				directory = SocketLockRepository.defaultDirectory();
			}
			return new SocketLockRepository(directory, lockSettings.owner(), socket.getRequestTimeout());
		}

	}

	/**
	 * The Redis backend, on the application's {@link RedisConnectionFactory} (for example
	 * from {@code spring-boot-starter-data-redis} and {@code spring.data.redis.*}), or on
	 * a Lettuce connection of Latchkey's own to the server {@code latchkey.url} names
	 * when the application has none ({@link LockRedisConnection}).
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingBean(LockRepository.class)
	@ConditionalOnLockBackend(Backend.REDIS)
	static class Redis {

		@Bean(destroyMethod = "close")
		LockRedisConnection latchkeyRedisConnection(ObjectProvider<RedisConnectionFactory> redisConnectionFactory,
				LatchkeyProperties properties, ConfigurableListableBeanFactory beanFactory) {
			return LockRedisConnection.of(redisConnectionFactory.getIfAvailable(),
					(url(properties) instanceof LockUrl.Redis redis) ? redis : null, beanFactory.getBeanClassLoader());
		}

		@Bean(destroyMethod = "close")
		RedisLockRepository lockRepository(LockRedisConnection latchkeyRedisConnection, LatchkeyProperties properties,
				Environment environment) {
			return new RedisLockRepository(latchkeyRedisConnection.connectionFactory(),
					properties.getRedis().getNamespace(),
					BackendThreads.threadFactory(environment, RedisLockRepository.DEFAULT_THREAD_NAME_PREFIX));
		}

	}

	/**
	 * The JDBC backend, on the application's {@link DataSource}, or on a pool of
	 * Latchkey's own for the database {@code latchkey.url} names when the application has
	 * none ({@link LockDataSource}). The lock table is checked when the repository is
	 * made, after Spring Boot's database initialization (which creates it as
	 * {@code latchkey.jdbc.initialize-schema} says), so a missing table fails the start.
	 * <p>
	 * {@link DependsOnDatabaseInitialization} makes the repository wait for the
	 * initializer only where a {@link DatabaseInitializationDependencyConfigurer} is
	 * imported. Imported here, as Spring Boot's own auto-configurations do, rather than
	 * left to its JDBC template auto-configuration: a bean with locked methods makes the
	 * template, and so the repository, as soon as it is made, which may be before the
	 * initializer. The class condition is judged as the configuration is read, before the
	 * import loads the class.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(DatabaseInitializationDependencyConfigurer.class)
	@ConditionalOnMissingBean(LockRepository.class)
	@ConditionalOnLockBackend(Backend.JDBC)
	@EnableConfigurationProperties(LatchkeyJdbcProperties.class)
	@Import(DatabaseInitializationDependencyConfigurer.class)
	static class Jdbc {

		@Bean(destroyMethod = "close")
		LockDataSource latchkeyDataSource(ObjectProvider<DataSource> dataSource, LatchkeyProperties properties,
				ConfigurableListableBeanFactory beanFactory) {
			return LockDataSource.of(dataSource.getIfAvailable(),
					(url(properties) instanceof LockUrl.Jdbc jdbc) ? jdbc : null, beanFactory.getBeanClassLoader());
		}

		@Bean
		@ConditionalOnMissingBean
		LatchkeyJdbcSchemaInitializer latchkeyJdbcSchemaInitializer(LockDataSource latchkeyDataSource,
				LatchkeyJdbcProperties properties) {
			try {
				return new LatchkeyJdbcSchemaInitializer(latchkeyDataSource.dataSource(), properties);
			}
			catch (RuntimeException ex) {
				// Spring Boot asks the database which platform it is before any script
				// runs.
				throw unreachable(properties, latchkeyDataSource, ex);
			}
		}

		@Bean(destroyMethod = "close")
		@DependsOnDatabaseInitialization
		JdbcLockRepository lockRepository(LockDataSource latchkeyDataSource, LatchkeyJdbcProperties properties,
				LockSettings lockSettings, Environment environment) {
			JdbcLockRepository repository = new JdbcLockRepository(latchkeyDataSource.dataSource(),
					properties.getTableName(),
					BackendThreads.threadFactory(environment, JdbcLockRepository.DEFAULT_THREAD_NAME_PREFIX));
			repository.setOwnerRecords(properties.isOwnerRecords());
			try {
				repository.checkSchema(lockSettings.maxKeyLength());
			}
			catch (LockBackendException ex) {
				throw unreachable(properties, latchkeyDataSource, ex);
			}
			return repository;
		}

		/**
		 * The message of the first {@link SQLException} of the chain, the driver's own
		 * words (a refused connection with its address, an unknown role), else the most
		 * specific message.
		 */
		private static String driverReason(Throwable failure) {
			for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
				if (cause instanceof SQLException && cause.getMessage() != null) {
					return cause.getMessage();
				}
			}
			return FailureMessages.reason(failure);
		}

		private static LockConfigurationException unreachable(LatchkeyJdbcProperties properties,
				LockDataSource dataSource, Exception ex) {
			// The database's own answer, not the wrapper's ("Failed to determine
			// DatabaseDriver" says nothing).
			String reason = (ex instanceof LockBackendException) ? ex.getMessage() : driverReason(ex);
			String configuration = dataSource.isOwned() ? "latchkey.url"
					: "spring.datasource.* (url, username, password)";
			return new LockConfigurationException(
					(dataSource.isOwned() ? "latchkey.url selects jdbc" : "latchkey.backend is jdbc")
							+ ", but the database could not be reached to check the lock table "
							+ properties.getTableName() + ": " + reason,
					"Check " + configuration + " and that the database is up", ex);
		}

	}

	/**
	 * The etcd backend, on a jetcd {@link Client} made from {@code latchkey.etcd.*} (and
	 * the members {@code latchkey.url} names) unless the application has one.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingBean(LockRepository.class)
	@ConditionalOnLockBackend(Backend.ETCD)
	static class Etcd {

		@Bean(destroyMethod = "close")
		@ConditionalOnMissingBean
		Client etcdClient(LatchkeyProperties properties, ObjectProvider<SslBundles> sslBundles) {
			LatchkeyProperties.Etcd etcd = properties.getEtcd();
			List<URI> endpoints = etcd.getEndpoints();
			if (url(properties) instanceof LockUrl.Etcd etcdUrl) {
				if (StringUtils.hasText(etcd.getSsl().getBundle())) {
					throw new LockConfigurationException(
							"latchkey.url is " + etcdUrl + ", which reaches the members over plain HTTP, but"
									+ " latchkey.etcd.ssl.bundle asks for TLS",
							"For TLS, remove latchkey.url, set latchkey.backend=etcd and give the members as"
									+ " latchkey.etcd.endpoints=https://host:port,...");
				}
				if (!endpoints.isEmpty() && !Set.copyOf(endpoints).equals(Set.copyOf(etcdUrl.endpoints()))) {
					throw new LockConfigurationException(
							"latchkey.url is " + etcdUrl + ", but latchkey.etcd.endpoints names other members: "
									+ endpoints,
							"Name the members once: in latchkey.url (etcd://host:port,host:port) or in"
									+ " latchkey.etcd.endpoints");
				}
				endpoints = etcdUrl.endpoints();
			}
			for (URI endpoint : endpoints) {
				if (!("http".equals(endpoint.getScheme()) || "https".equals(endpoint.getScheme()))
						|| endpoint.getHost() == null || endpoint.getPort() < 0) {
					throw new LockConfigurationException(
							"latchkey.etcd.endpoints has '" + endpoint + "', which is not an etcd endpoint",
							"Give each member of latchkey.etcd.endpoints as http://host:port (or https://host:port"
									+ " with latchkey.etcd.ssl.bundle)");
				}
			}
			ClientBuilder builder = Client.builder().endpoints(endpoints).connectTimeout(etcd.getConnectTimeout());
			if (StringUtils.hasText(etcd.getUser())) {
				builder.user(ByteSequence.from(etcd.getUser(), StandardCharsets.UTF_8));
				String password = (etcd.getPassword() != null) ? etcd.getPassword() : "";
				builder.password(ByteSequence.from(password, StandardCharsets.UTF_8));
			}
			LatchkeyProperties.Etcd.Ssl ssl = etcd.getSsl();
			if (StringUtils.hasText(ssl.getBundle())) {
				SslBundle bundle = sslBundle(sslBundles.getIfAvailable(), ssl.getBundle());
				try {
					builder.sslContext((tls) -> {
						tls.trustManager(bundle.getManagers().getTrustManagerFactory());
						if (bundle.getStores().getKeyStore() != null) {
							tls.keyManager(bundle.getManagers().getKeyManagerFactory());
						}
					});
				}
				catch (SSLException ex) {
					throw new LockConfigurationException(
							"latchkey.etcd.ssl.bundle '" + ssl.getBundle() + "' cannot make a TLS context: "
									+ ex.getMessage(),
							"Review the SSL bundle's certificates and keys (spring.ssl.bundle.*)", ex);
				}
			}
			if (StringUtils.hasText(ssl.getAuthority())) {
				builder.authority(ssl.getAuthority());
			}
			return builder.build();
		}

		private static SslBundle sslBundle(@Nullable SslBundles sslBundles, String name) {
			if (sslBundles == null) {
				throw new LockConfigurationException("latchkey.etcd.ssl.bundle is set, but there are no SSL bundles",
						"Define the bundle with spring.ssl.bundle.* (pem or jks)");
			}
			try {
				return sslBundles.getBundle(name);
			}
			catch (NoSuchSslBundleException ex) {
				throw new LockConfigurationException(
						"latchkey.etcd.ssl.bundle names the SSL bundle '" + name + "', which does not exist",
						"Define it with spring.ssl.bundle.pem." + name + ".* or" + " spring.ssl.bundle.jks." + name
								+ ".*, or correct latchkey.etcd.ssl.bundle",
						ex);
			}
		}

		@Bean(destroyMethod = "close")
		EtcdLockRepository lockRepository(Client etcdClient, LatchkeyProperties properties, Environment environment,
				ConfigurableListableBeanFactory beanFactory) {
			LockUrl url = url(properties);
			if (url != null && !madeHere(beanFactory, Client.class, Etcd.class)) {
				throw new LockConfigurationException("latchkey.url is " + url
						+ ", but the application has a jetcd Client of its own, whose members Latchkey cannot read to"
						+ " check that they agree",
						"Latchkey uses the application's jetcd Client when there is one: remove latchkey.url and set"
								+ " latchkey.backend=etcd, or remove the Client bean and let Latchkey make one from"
								+ " latchkey.url");
			}
			LatchkeyProperties.Etcd etcd = properties.getEtcd();
			return new EtcdLockRepository(etcdClient, etcd.getNamespace(), etcd.getRequestTimeout(),
					BackendThreads.threadFactory(environment, EtcdLockRepository.DEFAULT_THREAD_NAME_PREFIX));
		}

	}

}
