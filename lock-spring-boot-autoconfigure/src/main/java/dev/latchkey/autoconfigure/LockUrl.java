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
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

/**
 * The backend and its address, as {@code latchkey.url} gives them: one value parsed in
 * one place, so that the choice of the backend, the start's checks and the clients
 * Latchkey makes all read the same thing.
 *
 * <pre class="code">
 * latchkey.url=redis://:secret@redis-1:6379/2     Redis (rediss:// for TLS); a database index as the path
 * latchkey.url=postgresql://app@db-1:5432/orders  PostgreSQL, through a jdbc:postgresql: URL
 * latchkey.url=jdbc:mariadb://db-1:3306/orders    any JDBC URL, as is
 * latchkey.url=etcd://etcd-1:2379,etcd-2:2379     the members of an etcd cluster
 * latchkey.url=socket:/var/run/app-locks          the socket backend in that directory ('socket:' alone: the default)
 * latchkey.url=memory:                            this JVM only
 * </pre>
 * <p>
 * A URL that cannot be read fails {@link #parse(String)} with a
 * {@link LockConfigurationException} that names {@code latchkey.url}, what is wrong with
 * it and what to write instead. Passwords never appear in a message: {@link #toString()}
 * and {@link #mask(String)} replace them with {@code ******}.
 */
sealed interface LockUrl permits LockUrl.Memory, LockUrl.Socket, LockUrl.Redis, LockUrl.Jdbc, LockUrl.Etcd {

	/**
	 * The property.
	 */
	String PROPERTY = "latchkey.url";

	/**
	 * The URLs Latchkey reads, for the actions of its failures.
	 */
	String FORMS = "redis://host:port, rediss://host:port, postgresql://user@host:port/database, a jdbc: URL,"
			+ " etcd://host:port,host:port, socket: (or socket:/absolute/directory) or memory:";

	/**
	 * The backend the URL selects.
	 * @return the backend
	 */
	Backend backend();

	/**
	 * {@code latchkey.url}, parsed, or {@code null} when it is not set (or blank).
	 * @param environment the environment
	 * @return the URL, or {@code null}
	 * @throws LockConfigurationException if it is set but cannot be read
	 */
	static @Nullable LockUrl of(Environment environment) {
		String text = Binder.get(environment).bind(PROPERTY, String.class).orElse(null);
		return StringUtils.hasText(text) ? parse(text) : null;
	}

	/**
	 * Parses a URL.
	 * @param text the URL, as {@code latchkey.url} gives it
	 * @return the URL
	 * @throws LockConfigurationException naming what is wrong and what to write instead
	 */
	static LockUrl parse(String text) {
		String url = text.strip();
		int colon = url.indexOf(':');
		if (colon <= 0) {
			throw invalid(url, "has no scheme", "Start it with the backend's scheme: " + FORMS);
		}
		String scheme = url.substring(0, colon).toLowerCase(Locale.ROOT);
		String rest = url.substring(colon + 1);
		return switch (scheme) {
			case "memory" -> Memory.parse(url, rest);
			case "socket" -> Socket.parse(url, rest);
			case "redis", "rediss" -> Redis.parse(url, "rediss".equals(scheme));
			case "postgresql", "postgres" -> Jdbc.parsePostgresql(url);
			case "jdbc" -> Jdbc.parseJdbc(url, rest);
			case "etcd" -> Etcd.parse(url, rest);
			default -> throw invalid(url, "has the scheme '" + scheme + "', which names no backend",
					"Write latchkey.url as one of " + FORMS);
		};
	}

	/**
	 * The URL with its passwords replaced by {@code ******}: the user information's
	 * password ({@code //user:secret@}) and a {@code password=} parameter.
	 * @param url a URL, which may be malformed
	 * @return the URL, safe to log
	 */
	static String mask(String url) {
		String masked = Masking.USER_INFO_PASSWORD.matcher(url).replaceAll("$1******@");
		return Masking.PASSWORD_PARAMETER.matcher(masked).replaceAll("$1******");
	}

	private static LockConfigurationException invalid(String url, String problem, String action) {
		return new LockConfigurationException(PROPERTY + " '" + mask(url) + "' " + problem, action);
	}

	private static URI uri(String url, String example) {
		if (url.endsWith("://")) {
			throw invalid(url, "names no host", "Write it as " + example);
		}
		try {
			return new URI(url);
		}
		catch (URISyntaxException ex) {
			throw invalid(url, "is not a valid URL: " + ex.getReason() + " at index " + ex.getIndex(),
					"Write it as " + example + " (percent-encode special characters in the password)");
		}
	}

	private static String parseHost(String url, URI uri, String example) {
		if (uri.getHost() == null) {
			throw invalid(url, (uri.getRawAuthority() != null) ? "has no valid host" : "names no host",
					"Write it as " + example);
		}
		return uri.getHost();
	}

	private static int parsePort(String url, URI uri, int defaultPort, String example) {
		if (uri.getPort() == 0 || uri.getPort() > 65535) {
			throw invalid(url, "has the port " + uri.getPort() + ", outside 1 to 65535", "Write it as " + example);
		}
		return (uri.getPort() < 0) ? defaultPort : uri.getPort();
	}

	private static void noQueryOrFragment(String url, URI uri, String example) {
		if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
			throw invalid(url, "has parameters (?...) or a fragment (#...), which this backend does not read",
					"Write it as " + example + ", and set other options with the backend's properties");
		}
	}

	/**
	 * {@code memory:}: locks held in this JVM only.
	 */
	record Memory() implements LockUrl {

		static Memory parse(String url, String rest) {
			if (!rest.isEmpty() && !"//".equals(rest)) {
				throw invalid(url, "has something after 'memory:', which takes no address",
						"Write latchkey.url=memory:");
			}
			return new Memory();
		}

		@Override
		public Backend backend() {
			return Backend.MEMORY;
		}

		@Override
		public String toString() {
			return "memory:";
		}

	}

	/**
	 * {@code socket:}, or {@code socket:/absolute/directory}: the socket backend, in the
	 * given lock directory or the default one.
	 *
	 * @param directory the lock directory, or {@code null} for the default
	 */
	record Socket(@Nullable Path directory) implements LockUrl {

		private static final String EXAMPLE = "socket: (the default lock directory) or socket:/var/run/app-locks";

		static Socket parse(String url, String rest) {
			String path = rest;
			if (path.startsWith("//")) {
				// socket:///var/run/app-locks, the file-URL spelling: an empty host.
				if (path.length() > 2 && path.charAt(2) != '/') {
					throw invalid(url, "names a host, but the socket backend shares locks between the processes of"
							+ " one host only", "Write it as " + EXAMPLE);
				}
				path = path.substring(2);
			}
			if (path.isEmpty()) {
				return new Socket(null);
			}
			try {
				Path directory = Path.of(path);
				if (!directory.isAbsolute()) {
					throw invalid(url,
							"names the relative directory '" + path
									+ "'; a relative lock directory would depend on where each process was started",
							"Write it as " + EXAMPLE + " with an absolute directory");
				}
				return new Socket(directory.normalize());
			}
			catch (InvalidPathException ex) {
				throw invalid(url, "names no valid directory: " + ex.getMessage(), "Write it as " + EXAMPLE);
			}
		}

		@Override
		public Backend backend() {
			return Backend.SOCKET;
		}

		@Override
		public String toString() {
			return (this.directory != null) ? "socket:" + this.directory : "socket:";
		}

	}

	/**
	 * {@code redis://[[user]:password@]host[:port][/database]}, or {@code rediss://} for
	 * TLS: one Redis server.
	 *
	 * @param host the host
	 * @param port the port (6379 when not given)
	 * @param database the database index (0 when not given)
	 * @param ssl whether to use TLS ({@code rediss})
	 * @param username the ACL user, or {@code null}
	 * @param password the password, or {@code null}
	 */
	record Redis(String host, int port, int database, boolean ssl, @Nullable String username,
			@Nullable String password) implements LockUrl {

		private static final String EXAMPLE = "redis://host:6379 (or redis://:password@host:6379/0,"
				+ " rediss://user:password@host:6379 for TLS)";

		static Redis parse(String url, boolean ssl) {
			URI uri = uri(url, EXAMPLE);
			String host = parseHost(url, uri, EXAMPLE);
			int port = parsePort(url, uri, 6379, EXAMPLE);
			noQueryOrFragment(url, uri, EXAMPLE);
			int database = 0;
			String path = (uri.getPath() != null) ? uri.getPath() : "";
			if (!path.isEmpty() && !"/".equals(path)) {
				try {
					database = Integer.parseInt(path.substring(1));
				}
				catch (NumberFormatException ex) {
					database = -1;
				}
				if (database < 0) {
					throw invalid(url, "has the path '" + path + "', which is not a database index",
							"Give the database as a number, for example redis://host:6379/2, or leave it out for 0");
				}
			}
			String username = null;
			String password = null;
			if (uri.getUserInfo() != null) {
				String userInfo = uri.getUserInfo();
				int separator = userInfo.indexOf(':');
				if (separator < 0) {
					// redis://secret@host, as Spring Boot reads it: a password alone.
					password = userInfo;
				}
				else {
					username = StringUtils.hasLength(userInfo.substring(0, separator))
							? userInfo.substring(0, separator) : null;
					password = userInfo.substring(separator + 1);
				}
			}
			return new Redis(host, port, database, ssl, username, password);
		}

		@Override
		public Backend backend() {
			return Backend.REDIS;
		}

		/**
		 * The address, as messages show it: {@code redis://host:6379/0}.
		 * @return the address
		 */
		String address() {
			return (this.ssl ? "rediss://" : "redis://") + this.host + ":" + this.port + "/" + this.database;
		}

		@Override
		public String toString() {
			String credentials = (this.password != null) ? ((this.username != null) ? this.username : "") + ":******@"
					: ((this.username != null) ? this.username + "@" : "");
			return (this.ssl ? "rediss://" : "redis://") + credentials + this.host + ":" + this.port + "/"
					+ this.database;
		}

	}

	/**
	 * A database, as a JDBC URL: a {@code jdbc:} URL as given, or a
	 * {@code postgresql://user:password@host:port/database} URL made into one.
	 *
	 * @param jdbcUrl the JDBC URL
	 * @param username the user, or {@code null} (the driver may read it from the URL)
	 * @param password the password, or {@code null}
	 */
	record Jdbc(String jdbcUrl, @Nullable String username, @Nullable String password) implements LockUrl {

		private static final String POSTGRESQL_EXAMPLE = "postgresql://user:password@host:5432/database";

		static Jdbc parsePostgresql(String url) {
			URI uri = uri(url, POSTGRESQL_EXAMPLE);
			String host = parseHost(url, uri, POSTGRESQL_EXAMPLE);
			int port = parsePort(url, uri, 5432, POSTGRESQL_EXAMPLE);
			String path = (uri.getRawPath() != null) ? uri.getRawPath() : "";
			if (path.length() < 2 || path.indexOf('/', 1) >= 0) {
				throw invalid(url, "names no database", "Name the database as the path: " + POSTGRESQL_EXAMPLE);
			}
			if (uri.getRawFragment() != null) {
				throw invalid(url, "has a fragment (#...)", "Write it as " + POSTGRESQL_EXAMPLE);
			}
			String username = null;
			String password = null;
			if (uri.getUserInfo() != null) {
				String userInfo = uri.getUserInfo();
				int separator = userInfo.indexOf(':');
				username = (separator < 0) ? userInfo : userInfo.substring(0, separator);
				password = (separator < 0) ? null : userInfo.substring(separator + 1);
			}
			String jdbcUrl = "jdbc:postgresql://"
					+ uri.getRawAuthority().substring(uri.getRawAuthority().indexOf('@') + 1) + path
					+ ((uri.getRawQuery() != null) ? "?" + uri.getRawQuery() : "");
			return new Jdbc(jdbcUrl, StringUtils.hasLength(username) ? username : null, password);
		}

		static Jdbc parseJdbc(String url, String rest) {
			int colon = rest.indexOf(':');
			if (colon <= 0 || colon == rest.length() - 1) {
				throw invalid(url, "names no driver and database after 'jdbc:'",
						"Give a full JDBC URL, for example jdbc:postgresql://host:5432/database or"
								+ " jdbc:mariadb://host:3306/database");
			}
			return new Jdbc("jdbc:" + rest, null, null);
		}

		@Override
		public Backend backend() {
			return Backend.JDBC;
		}

		@Override
		public String toString() {
			return mask(this.jdbcUrl) + ((this.username != null) ? " (user " + this.username + ")" : "");
		}

	}

	/**
	 * {@code etcd://host:port,host:port}: the members of an etcd cluster, reached over
	 * plain HTTP/2 (a user and password come from {@code latchkey.etcd.*}; TLS needs
	 * {@code https} endpoints in {@code latchkey.etcd.endpoints}).
	 *
	 * @param endpoints the members, as {@code http://host:port}
	 */
	record Etcd(List<URI> endpoints) implements LockUrl {

		private static final String EXAMPLE = "etcd://etcd-1:2379,etcd-2:2379";

		static Etcd parse(String url, String rest) {
			if (!rest.startsWith("//") || rest.length() == 2) {
				throw invalid(url, "names no member", "Write it as " + EXAMPLE);
			}
			List<URI> endpoints = new ArrayList<>();
			for (String member : rest.substring(2).split(",", -1)) {
				if (member.isEmpty()) {
					throw invalid(url, "has an empty member between commas", "Write it as " + EXAMPLE);
				}
				if (member.contains("@")) {
					throw invalid(url, "has a user or password",
							"Set latchkey.etcd.user and latchkey.etcd.password instead, and write latchkey.url as "
									+ EXAMPLE);
				}
				URI uri = uri("http://" + member, EXAMPLE);
				if (uri.getHost() == null || uri.getRawPath() != null && !uri.getRawPath().isEmpty()
						|| uri.getRawQuery() != null || uri.getRawFragment() != null) {
					throw invalid(url, "has the member '" + member + "', which is not host:port",
							"Write it as " + EXAMPLE);
				}
				int port = parsePort(url, uri, 2379, EXAMPLE);
				endpoints.add(URI.create("http://" + uri.getRawAuthority().replaceFirst(":\\d*$", "") + ":" + port));
			}
			return new Etcd(List.copyOf(endpoints));
		}

		@Override
		public Backend backend() {
			return Backend.ETCD;
		}

		@Override
		public String toString() {
			StringBuilder text = new StringBuilder("etcd://");
			for (URI endpoint : this.endpoints) {
				text.append((text.length() > 7) ? "," : "").append(endpoint.getRawAuthority());
			}
			return text.toString();
		}

	}

	/**
	 * The patterns of {@link LockUrl#mask(String)}.
	 */
	final class Masking {

		static final Pattern USER_INFO_PASSWORD = Pattern.compile("(//[^/@:]*:)[^/]*@");

		static final Pattern PASSWORD_PARAMETER = Pattern.compile("((?i:password)=)[^&;]*");

		private Masking() {
		}

	}

}
