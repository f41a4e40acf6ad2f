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
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockSettings;
import dev.latchkey.web.ShowKey;

/**
 * Configuration properties for Latchkey.
 *
 * <pre class="code">
 * latchkey:
 *   backend: auto
 *   ttl: 30s
 *   wait-time: 0s
 *   key-prefix: "billing:"
 * </pre>
 *
 * @since 0.1.0
 */
@ConfigurationProperties("latchkey")
public class LatchkeyProperties {

	/**
	 * Backend that holds the locks. 'auto' picks the single configured backend (Redis
	 * when a RedisConnectionFactory bean exists, JDBC when a DataSource bean exists, etcd
	 * when latchkey.etcd.endpoints are set), or the embedded default (socket) when none
	 * is configured; when more than one is configured, the start fails and asks for this
	 * property. latchkey.url names the backend too; when both are set, they must agree.
	 */
	private Backend backend = Backend.AUTO;

	/**
	 * Backend and its address in one value, instead of latchkey.backend:
	 * 'redis://host:port' ('rediss://' for TLS; optionally ':password@' and a database
	 * index as the path), 'postgresql://user@host:port/db' or any 'jdbc:' URL,
	 * 'etcd://host:port,host:port', 'socket:' (optionally with an absolute lock
	 * directory, 'socket:/var/run/app-locks') or 'memory:'. When the application has a
	 * client for that backend (a RedisConnectionFactory, a DataSource), it must point to
	 * the same address, and Latchkey uses it; otherwise Latchkey makes one of its own.
	 */
	private @Nullable String url;

	/**
	 * Time-to-live of a lease at the backend, for locks that do not set their own. Leases
	 * are renewed while held, so this bounds how long a crashed holder keeps a lock.
	 */
	private Duration ttl = Duration.ofSeconds(30);

	/**
	 * How long a call waits for a lock held elsewhere, for locks that do not set their
	 * own. 0 makes a single attempt.
	 */
	private Duration waitTime = Duration.ZERO;

	/**
	 * Longest time a lease may be held, renewals included, for locks that do not set
	 * their own maxHold. At the limit renewal stops and the lease is lost and given back.
	 * No limit by default.
	 */
	private @Nullable Duration maxHold;

	/**
	 * Interval between lease renewals. Defaults to a third of each lease's time-to-live.
	 */
	private @Nullable Duration renewInterval;

	/**
	 * How long before the backend could expire a lease this instance stops relying on it.
	 * Capped at a fifth of the lease's time-to-live.
	 */
	private Duration safetyMargin = Duration.ofMillis(100);

	/**
	 * Text put before every lock key, to keep applications that share a backend apart.
	 * Defaults to the application's name and a colon ('billing:' for
	 * spring.application.name=billing), or to none when the name is not set. Applications
	 * that lock the same keys together set the same prefix, for example an empty one.
	 */
	private @Nullable String keyPrefix;

	/**
	 * Longest lock key allowed, prefix included. Longer keys fail the call with a
	 * LockKeyException.
	 */
	private int maxKeyLength = 512;

	/**
	 * Whether exception messages, log lines above DEBUG and audit event data show a
	 * lock's key beside its name. Keys are made of method arguments and may be personal
	 * data; turn this on only when they hold nothing personal.
	 */
	private boolean showKeysInMessages;

	/**
	 * Whether exclusive locks are fair unless they say otherwise: granted to their
	 * waiters strictly in the order they asked, across instances. Honoured by the socket,
	 * etcd and Redis backends (and memory, within one JVM); with JDBC, true fails the
	 * start. Unfair locks hand a freed key to whoever asks first, which is faster.
	 */
	private boolean fair;

	/**
	 * Name of this instance as a lock owner, shown when locks are inspected. Defaults to
	 * 'spring.application.name@host:pid'.
	 */
	private @Nullable String owner;

	private final Waiting waiting = new Waiting();

	private final Socket socket = new Socket();

	private final Audit audit = new Audit();

	private final Redis redis = new Redis();

	private final Health health = new Health();

	private final Etcd etcd = new Etcd();

	private final Web web = new Web();

	public Backend getBackend() {
		return this.backend;
	}

	public void setBackend(Backend backend) {
		this.backend = backend;
	}

	public @Nullable String getUrl() {
		return this.url;
	}

	public void setUrl(@Nullable String url) {
		this.url = url;
	}

	/**
	 * Checks every duration property against its allowed range, from 0 (or just above,
	 * for those that must be positive) to {@link LockSettings#MAX_DURATION}: a longer one
	 * would overflow the arithmetic of renewal and waiting.
	 * @throws LockConfigurationException naming the first property out of its range and
	 * the range
	 */
	public void checkDurations() {
		checkDuration("latchkey.ttl", this.ttl, true);
		checkDuration("latchkey.wait-time", this.waitTime, false);
		checkDuration("latchkey.renew-interval", this.renewInterval, true);
		checkDuration("latchkey.max-hold", this.maxHold, true);
		checkDuration("latchkey.safety-margin", this.safetyMargin, false);
		checkDuration("latchkey.socket.request-timeout", this.socket.getRequestTimeout(), true);
		checkDuration("latchkey.waiting.initial-poll-interval", this.waiting.getInitialPollInterval(), true);
		checkDuration("latchkey.waiting.max-poll-interval", this.waiting.getMaxPollInterval(), true);
		checkDuration("latchkey.health.timeout", this.health.getTimeout(), true);
		checkDuration("latchkey.etcd.connect-timeout", this.etcd.getConnectTimeout(), true);
		checkDuration("latchkey.etcd.request-timeout", this.etcd.getRequestTimeout(), true);
		checkDuration("latchkey.web.problem-details.retry-after", this.web.getProblemDetails().getRetryAfter(), false);
	}

	private static void checkDuration(String property, @Nullable Duration value, boolean positive) {
		if (value == null) {
			return;
		}
		boolean tooShort = value.isNegative() || (positive && value.isZero());
		if (tooShort || value.compareTo(LockSettings.MAX_DURATION) > 0) {
			String range = (positive ? "longer than 0" : "0 or longer") + " and at most "
					+ LockSettings.MAX_DURATION.toDays() + " days (" + LockSettings.MAX_DURATION.toDays() + "d)";
			throw new LockConfigurationException(property + " is " + value + ", outside its allowed range: " + range,
					"Set " + property + " to a duration " + range + ", for example 30s");
		}
	}

	public Duration getTtl() {
		return this.ttl;
	}

	public void setTtl(Duration ttl) {
		this.ttl = ttl;
	}

	public Duration getWaitTime() {
		return this.waitTime;
	}

	public void setWaitTime(Duration waitTime) {
		this.waitTime = waitTime;
	}

	public @Nullable Duration getMaxHold() {
		return this.maxHold;
	}

	public void setMaxHold(@Nullable Duration maxHold) {
		this.maxHold = maxHold;
	}

	public @Nullable Duration getRenewInterval() {
		return this.renewInterval;
	}

	public void setRenewInterval(@Nullable Duration renewInterval) {
		this.renewInterval = renewInterval;
	}

	public Duration getSafetyMargin() {
		return this.safetyMargin;
	}

	public void setSafetyMargin(Duration safetyMargin) {
		this.safetyMargin = safetyMargin;
	}

	public @Nullable String getKeyPrefix() {
		return this.keyPrefix;
	}

	/**
	 * The key prefix in effect: {@code latchkey.key-prefix} when it is set (even empty),
	 * else the application's name and a colon, else none.
	 * @param applicationName {@code spring.application.name}, or {@code null}
	 * @return the key prefix
	 */
	public String keyPrefixFor(@Nullable String applicationName) {
		if (this.keyPrefix != null) {
			return this.keyPrefix;
		}
		return (applicationName != null && !applicationName.isBlank()) ? applicationName + ":" : "";
	}

	public void setKeyPrefix(@Nullable String keyPrefix) {
		this.keyPrefix = keyPrefix;
	}

	public int getMaxKeyLength() {
		return this.maxKeyLength;
	}

	public void setMaxKeyLength(int maxKeyLength) {
		this.maxKeyLength = maxKeyLength;
	}

	public boolean isFair() {
		return this.fair;
	}

	public void setFair(boolean fair) {
		this.fair = fair;
	}

	public boolean isShowKeysInMessages() {
		return this.showKeysInMessages;
	}

	public void setShowKeysInMessages(boolean showKeysInMessages) {
		this.showKeysInMessages = showKeysInMessages;
	}

	public @Nullable String getOwner() {
		return this.owner;
	}

	public void setOwner(@Nullable String owner) {
		this.owner = owner;
	}

	public Waiting getWaiting() {
		return this.waiting;
	}

	public Socket getSocket() {
		return this.socket;
	}

	public Audit getAudit() {
		return this.audit;
	}

	public Redis getRedis() {
		return this.redis;
	}

	public Health getHealth() {
		return this.health;
	}

	public Etcd getEtcd() {
		return this.etcd;
	}

	public Web getWeb() {
		return this.web;
	}

	/**
	 * The backends. Each carries its rule: the libraries it needs and what shows that the
	 * application has configured it, which is all that {@code auto} and the start's
	 * checks know about it.
	 */
	public enum Backend {

		/**
		 * The single configured backend, or the embedded default when none is configured.
		 */
		AUTO(BackendRule.namedOnly()),

		/**
		 * Locks held in this JVM only.
		 */
		MEMORY(BackendRule.namedOnly()),

		/**
		 * Locks shared by the processes of one host through a unix-domain socket, with no
		 * server to run: the embedded default.
		 */
		SOCKET(BackendRule.embeddedDefault()),

		/**
		 * Locks shared through the application's Redis (its RedisConnectionFactory):
		 * standalone, Sentinel or Cluster.
		 */
		REDIS(BackendRule
			.configuredBy(BackendRule.bean("org.springframework.data.redis.connection.RedisConnectionFactory"),
					"Add org.springframework.boot:spring-boot-starter-data-redis and configure spring.data.redis.*"
							+ " (spring.data.redis.url, or host and port), or define a RedisConnectionFactory bean")
			.requires("spring-data-redis", "org.springframework.boot:spring-boot-starter-data-redis",
					"org.springframework.data.redis.connection.RedisConnectionFactory")),

		/**
		 * Locks kept in a table of the application's database (its DataSource):
		 * PostgreSQL, MySQL, MariaDB or H2.
		 */
		JDBC(BackendRule
			.configuredBy(BackendRule.bean("javax.sql.DataSource"),
					"Configure spring.datasource.* (url, username, password) with spring-boot-starter-jdbc, or define a"
							+ " DataSource bean")
			.requires("spring-jdbc or Spring Boot's JDBC support",
					"org.springframework.boot:spring-boot-starter-jdbc (and your database's JDBC driver)",
					"org.springframework.jdbc.core.JdbcTemplate",
					"org.springframework.boot.jdbc.init.DatabaseInitializationProperties")),

		/**
		 * Locks shared through an etcd v3 cluster (latchkey.etcd.endpoints, or the
		 * application's jetcd Client).
		 */
		ETCD(BackendRule.configuredBy(BackendRule.property("latchkey.etcd.endpoints"),
				"Set latchkey.etcd.endpoints to the etcd members (for example http://etcd-1:2379,http://etcd-2:2379),"
						+ " or define a jetcd Client bean")
			.orWhenNamed(BackendRule.bean("io.etcd.jetcd.Client"))
			.requires("jetcd", "io.etcd:jetcd-core", "io.etcd.jetcd.Client"));

		private final BackendRule rule;

		Backend(BackendRule rule) {
			this.rule = rule;
		}

		BackendRule rule() {
			return this.rule;
		}

		/**
		 * The backend's name as {@code latchkey.backend} spells it.
		 */
		String value() {
			return name().toLowerCase(Locale.ROOT);
		}

	}

	/**
	 * The Redis backend.
	 */
	public static class Redis {

		/**
		 * Namespace of Latchkey's keys and release channel in Redis, put in the hash tag
		 * of every key ('{namespace:key}:lock'). Applications lock together only when
		 * they use the same namespace.
		 */
		private String namespace = "latchkey";

		public String getNamespace() {
			return this.namespace;
		}

		public void setNamespace(String namespace) {
			this.namespace = namespace;
		}

	}

	/**
	 * Auditing of lock events.
	 */
	public static class Audit {

		/**
		 * Whether to record lock events (acquired, released, not acquired, lost) in the
		 * application's AuditEventRepository, where the 'auditevents' endpoint shows
		 * them.
		 */
		private boolean enabled;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/**
	 * The socket backend.
	 */
	public static class Socket {

		/**
		 * Lock directory of the socket backend, shared by every process that locks
		 * together; created owner-only (0700). Defaults to 'latchkey-<user>' in the
		 * system temporary directory.
		 */
		private @Nullable Path directory;

		/**
		 * How long to wait for the arbiter's answer to a request, and for an arbiter to
		 * answer at all.
		 */
		private Duration requestTimeout = Duration.ofSeconds(5);

		public @Nullable Path getDirectory() {
			return this.directory;
		}

		public void setDirectory(@Nullable Path directory) {
			this.directory = directory;
		}

		public Duration getRequestTimeout() {
			return this.requestTimeout;
		}

		public void setRequestTimeout(Duration requestTimeout) {
			this.requestTimeout = requestTimeout;
		}

	}

	/**
	 * How waiters poll when no release notification arrives.
	 */
	public static class Waiting {

		/**
		 * First interval between attempts of a waiter that hears no release notification.
		 * Doubles, with jitter, up to the maximum.
		 */
		private Duration initialPollInterval = Duration.ofMillis(50);

		/**
		 * Longest interval between attempts of a waiter that hears no release
		 * notification.
		 */
		private Duration maxPollInterval = Duration.ofSeconds(1);

		public Duration getInitialPollInterval() {
			return this.initialPollInterval;
		}

		public void setInitialPollInterval(Duration initialPollInterval) {
			this.initialPollInterval = initialPollInterval;
		}

		public Duration getMaxPollInterval() {
			return this.maxPollInterval;
		}

		public void setMaxPollInterval(Duration maxPollInterval) {
			this.maxPollInterval = maxPollInterval;
		}

	}

	/**
	 * The 'latchkey' health indicator.
	 */
	public static class Health {

		/**
		 * How long the backend may take to answer the health check before it is reported
		 * DOWN.
		 */
		private Duration timeout = Duration.ofSeconds(2);

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

	}

	/**
	 * The etcd backend.
	 */
	public static class Etcd {

		/**
		 * Endpoints of the etcd cluster's members, for example 'http://etcd-1:2379'.
		 * Setting them makes 'auto' pick the etcd backend.
		 */
		private List<URI> endpoints = new ArrayList<>();

		/**
		 * User to authenticate as, when the cluster has authentication enabled.
		 */
		private @Nullable String user;

		/**
		 * Password of the user.
		 */
		private @Nullable String password;

		/**
		 * Prefix of every etcd key Latchkey writes. Applications lock together only when
		 * they use the same namespace.
		 */
		private String namespace = "latchkey/";

		/**
		 * How long to wait for a connection to a member.
		 */
		private Duration connectTimeout = Duration.ofSeconds(5);

		/**
		 * How long one request may wait for etcd's answer before the call fails. Keep it
		 * well below the lease TTL.
		 */
		private Duration requestTimeout = Duration.ofSeconds(5);

		private final Ssl ssl = new Ssl();

		public List<URI> getEndpoints() {
			return this.endpoints;
		}

		public void setEndpoints(List<URI> endpoints) {
			this.endpoints = endpoints;
		}

		public @Nullable String getUser() {
			return this.user;
		}

		public void setUser(@Nullable String user) {
			this.user = user;
		}

		public @Nullable String getPassword() {
			return this.password;
		}

		public void setPassword(@Nullable String password) {
			this.password = password;
		}

		public String getNamespace() {
			return this.namespace;
		}

		public void setNamespace(String namespace) {
			this.namespace = namespace;
		}

		public Duration getConnectTimeout() {
			return this.connectTimeout;
		}

		public void setConnectTimeout(Duration connectTimeout) {
			this.connectTimeout = connectTimeout;
		}

		public Duration getRequestTimeout() {
			return this.requestTimeout;
		}

		public void setRequestTimeout(Duration requestTimeout) {
			this.requestTimeout = requestTimeout;
		}

		public Ssl getSsl() {
			return this.ssl;
		}

		/**
		 * TLS towards the etcd cluster.
		 */
		public static class Ssl {

			/**
			 * Name of the SSL bundle (spring.ssl.bundle.*) whose trust material verifies
			 * the members and whose key, if any, is this client's certificate. Setting it
			 * turns TLS on; use https endpoints with it.
			 */
			private @Nullable String bundle;

			/**
			 * Authority (host name) to verify the members' certificates against, when it
			 * differs from the endpoints' host names.
			 */
			private @Nullable String authority;

			public @Nullable String getBundle() {
				return this.bundle;
			}

			public void setBundle(@Nullable String bundle) {
				this.bundle = bundle;
			}

			public @Nullable String getAuthority() {
				return this.authority;
			}

			public void setAuthority(@Nullable String authority) {
				this.authority = authority;
			}

		}

	}

	/**
	 * Latchkey in web applications.
	 */
	public static class Web {

		private final ProblemDetails problemDetails = new ProblemDetails();

		public ProblemDetails getProblemDetails() {
			return this.problemDetails;
		}

		/**
		 * Lock exceptions answered as problem details.
		 */
		public static class ProblemDetails {

			/**
			 * Whether to answer LockNotAcquiredException with 409 Conflict and
			 * LockLostException with 503 Service Unavailable, as problem details, in
			 * Spring MVC and Spring WebFlux applications.
			 */
			private boolean enabled = true;

			/**
			 * When to add the lock key, which is made of method arguments and may be
			 * personal data, to a problem detail; the lock's name is always there.
			 */
			private ShowKey showKey = ShowKey.NEVER;

			/**
			 * Roles of which a caller needs one to see the lock key with
			 * 'when-authorized'; any authenticated caller when empty.
			 */
			private final Set<String> roles = new LinkedHashSet<>();

			/**
			 * Delay to send in a Retry-After header (whole seconds, rounded up) with 409
			 * Conflict. No header when not set.
			 */
			private @Nullable Duration retryAfter;

			public boolean isEnabled() {
				return this.enabled;
			}

			public void setEnabled(boolean enabled) {
				this.enabled = enabled;
			}

			public ShowKey getShowKey() {
				return this.showKey;
			}

			public void setShowKey(ShowKey showKey) {
				this.showKey = showKey;
			}

			public Set<String> getRoles() {
				return this.roles;
			}

			public @Nullable Duration getRetryAfter() {
				return this.retryAfter;
			}

			public void setRetryAfter(@Nullable Duration retryAfter) {
				this.retryAfter = retryAfter;
			}

		}

	}

}
