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

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.DatabaseMetaData;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.jdbc.DataSourceBuilder;
import org.springframework.boot.jdbc.DatabaseDriver;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.jdbc.support.MetaDataAccessException;
import org.springframework.util.ClassUtils;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.support.FailureMessages;

/**
 * The {@link DataSource} the JDBC backend uses: the application's, or, when it has none
 * and {@code latchkey.url} gives the database, a pool that Latchkey makes (HikariCP when
 * it is on the class path, as Spring Boot would choose), owns and closes with the
 * context. Latchkey's own is never a {@code DataSource} bean, so the application and
 * Spring Boot's DataSource auto-configuration never see it.
 * <p>
 * With both the application's DataSource and a URL, the URL must name the database the
 * DataSource connects to (its driver's own URL, asked through a connection); otherwise
 * the start fails rather than leaving two pools that point to different databases.
 */
final class LockDataSource implements AutoCloseable {

	private static final Map<DatabaseDriver, String> DRIVER_DEPENDENCIES = Map.of(DatabaseDriver.POSTGRESQL,
			"org.postgresql:postgresql", DatabaseDriver.MARIADB, "org.mariadb.jdbc:mariadb-java-client",
			DatabaseDriver.MYSQL, "com.mysql:mysql-connector-j", DatabaseDriver.H2, "com.h2database:h2");

	private static final Map<String, Integer> DEFAULT_PORTS = Map.of("postgresql", 5432, "mariadb", 3306, "mysql",
			3306);

	private final DataSource dataSource;

	private final boolean owned;

	private LockDataSource(DataSource dataSource, boolean owned) {
		this.dataSource = dataSource;
		this.owned = owned;
	}

	/**
	 * The DataSource for the given configuration.
	 * @param applicationDataSource the application's DataSource, or {@code null}
	 * @param url {@code latchkey.url}, or {@code null}
	 * @param classLoader the application's class loader
	 * @return the DataSource
	 * @throws LockConfigurationException when the URL names another database than the
	 * application's DataSource, or when its driver is missing
	 */
	static LockDataSource of(@Nullable DataSource applicationDataSource, LockUrl.@Nullable Jdbc url,
			@Nullable ClassLoader classLoader) {
		if (applicationDataSource != null) {
			if (url != null) {
				checkSameDatabase(applicationDataSource, url);
			}
			return new LockDataSource(applicationDataSource, false);
		}
		if (url == null) {
			throw new IllegalStateException("The JDBC backend was chosen with neither a DataSource nor a URL");
		}
		DatabaseDriver driver = DatabaseDriver.fromJdbcUrl(url.jdbcUrl());
		String driverClass = driver.getDriverClassName();
		if (driverClass != null && !ClassUtils.isPresent(driverClass, classLoader)) {
			throw new LockConfigurationException(
					"latchkey.url is " + url + ", but its JDBC driver " + driverClass + " is not on the class path",
					"Add the driver's dependency, "
							+ DRIVER_DEPENDENCIES.getOrDefault(driver, "your database's JDBC driver")
							+ ", or change latchkey.url");
		}
		DataSourceBuilder<?> builder = DataSourceBuilder.create(classLoader).url(url.jdbcUrl());
		if (url.username() != null) {
			builder.username(url.username());
		}
		if (url.password() != null) {
			builder.password(url.password());
		}
		DataSource dataSource = builder.build();
		return new LockDataSource(dataSource, true);
	}

	private static void checkSameDatabase(DataSource dataSource, LockUrl.Jdbc url) {
		String action = "Latchkey uses the application's DataSource when there is one: remove latchkey.url (or write"
				+ " latchkey.backend=jdbc instead), or make spring.datasource.url point to the same database";
		String actual;
		try {
			actual = JdbcUtils.extractDatabaseMetaData(dataSource, DatabaseMetaData::getURL);
		}
		catch (MetaDataAccessException ex) {
			throw new LockConfigurationException(
					"latchkey.url is " + url
							+ ", but the application's DataSource, which Latchkey would use, could not be asked for its"
							+ " database: " + FailureMessages.reason(ex),
					"Check spring.datasource.* and that the database is up", ex);
		}
		if (actual == null || !sameDatabase(actual, url.jdbcUrl())) {
			throw new LockConfigurationException("latchkey.url is " + url
					+ ", but the application's DataSource connects to " + LockUrl.mask(String.valueOf(actual)), action);
		}
	}

	/**
	 * Whether two JDBC URLs name the same database: the same driver, hosts and ports
	 * (default ports filled in, names compared by address) and database, whatever their
	 * parameters.
	 */
	static boolean sameDatabase(String first, String second) {
		Address a = Address.of(first);
		Address b = Address.of(second);
		if (!a.subprotocol().equals(b.subprotocol()) || !a.database().equals(b.database())
				|| a.hosts().size() != b.hosts().size()) {
			return false;
		}
		for (int i = 0; i < a.hosts().size(); i++) {
			String[] hostA = a.hosts().get(i);
			String[] hostB = b.hosts().get(i);
			if (!hostA[1].equals(hostB[1]) || !Hosts.same(hostA[0], hostB[0])) {
				return false;
			}
		}
		return true;
	}

	DataSource dataSource() {
		return this.dataSource;
	}

	/**
	 * Whether Latchkey made the DataSource, from {@code latchkey.url}.
	 * @return whether it is Latchkey's own
	 */
	boolean isOwned() {
		return this.owned;
	}

	/**
	 * Closes Latchkey's own pool; leaves the application's alone.
	 */
	@Override
	public void close() {
		if (this.owned && this.dataSource instanceof Closeable closeable) {
			try {
				closeable.close();
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}
	}

	/**
	 * A JDBC URL in parts: {@code jdbc:postgresql://db-1:5432/orders?ssl=true} is
	 * {@code postgresql}, {@code [db-1, 5432]}, {@code orders}; a URL without hosts
	 * ({@code jdbc:h2:mem:test;MODE=...}) keeps all it has before its parameters as its
	 * database.
	 */
	private record Address(String subprotocol, List<String[]> hosts, String database) {

		static Address of(String jdbcUrl) {
			String url = jdbcUrl.strip();
			int end = indexOfAny(url, "?;");
			String main = (end < 0) ? url : url.substring(0, end);
			String lower = main.toLowerCase(Locale.ROOT);
			String[] parts = lower.split(":", 3);
			String subprotocol = (parts.length > 1) ? parts[1] : lower;
			String body = (parts.length > 2) ? main.substring(parts[0].length() + parts[1].length() + 2) : "";
			if (!body.startsWith("//")) {
				return new Address(subprotocol, List.of(), body);
			}
			int slash = body.indexOf('/', 2);
			String authority = (slash < 0) ? body.substring(2) : body.substring(2, slash);
			authority = authority.substring(authority.lastIndexOf('@') + 1);
			String database = (slash < 0) ? "" : body.substring(slash + 1);
			String defaultPort = String.valueOf(DEFAULT_PORTS.getOrDefault(subprotocol, -1));
			List<String[]> hosts = Arrays.stream(authority.split(",")).map((host) -> {
				int colon = host.lastIndexOf(':');
				boolean hasPort = colon > host.lastIndexOf(']');
				return new String[] { hasPort ? host.substring(0, colon) : host,
						hasPort ? host.substring(colon + 1) : defaultPort };
			}).toList();
			return new Address(subprotocol, hosts, database);
		}

		private static int indexOfAny(String text, String characters) {
			for (int i = 0; i < text.length(); i++) {
				if (characters.indexOf(text.charAt(i)) >= 0) {
					return i;
				}
			}
			return -1;
		}

	}

}
