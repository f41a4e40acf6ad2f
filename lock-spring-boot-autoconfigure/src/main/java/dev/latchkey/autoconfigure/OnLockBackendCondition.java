package dev.latchkey.autoconfigure;

import java.util.Locale;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

/**
 * Matches when {@code latchkey.backend} names a backend, or is {@code auto} and that backend may be the automatic
 * choice.
 * <p>
 * Whether a server backend is configured (a RedisConnectionFactory bean, say) is a bean condition, which a
 * {@link SpringBootCondition} cannot judge reliably: the backends' configurations add that condition themselves, and
 * {@link LatchkeyAutoConfiguration} imports them in order of precedence, each backing off when an earlier one made a
 * {@code LockRepository}.
 */
abstract class OnLockBackendCondition extends SpringBootCondition {

	private final Backend backend;

	private final @Nullable String automatically;

	/**
	 * Makes a condition.
	 * @param backend the backend it matches
	 * @param automatically why {@code auto} may choose the backend, or {@code null} if it never does
	 */
	OnLockBackendCondition(Backend backend, @Nullable String automatically) {
		this.backend = backend;
		this.automatically = automatically;
	}

	@Override
	public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
		Backend configured = configuredBackend(context);
		String name = this.backend.name().toLowerCase(Locale.ROOT);
		if (configured == this.backend) {
			return ConditionOutcome.match("latchkey.backend is " + name);
		}
		if (configured == Backend.AUTO && this.automatically != null) {
			return ConditionOutcome.match("latchkey.backend is auto and " + this.automatically);
		}
		return ConditionOutcome
			.noMatch("latchkey.backend is " + configured.name().toLowerCase(Locale.ROOT) + ", not " + name);
	}

	static Backend configuredBackend(ConditionContext context) {
		return Binder.get(context.getEnvironment()).bind("latchkey.backend", Backend.class).orElse(Backend.AUTO);
	}

	/**
	 * The memory backend: only when asked for.
	 */
	static final class Memory extends OnLockBackendCondition {

		Memory() {
			super(Backend.MEMORY, null);
		}

	}

	/**
	 * The socket backend: the embedded default, chosen by {@code auto} when no other backend is configured.
	 */
	static final class Socket extends OnLockBackendCondition {

		Socket() {
			super(Backend.SOCKET, "socket is the embedded default");
		}

	}

	/**
	 * The Redis backend: chosen by {@code auto} when the application has a RedisConnectionFactory (a bean condition
	 * of its configuration).
	 */
	static final class Redis extends OnLockBackendCondition {

		Redis() {
			super(Backend.REDIS, "redis is chosen when a RedisConnectionFactory exists");
		}

	}

	/**
	 * The Redis backend asked for by name: matches {@code latchkey.backend=redis} only, never {@code auto}.
	 */
	static final class RedisRequired extends OnLockBackendCondition {

		RedisRequired() {
			super(Backend.REDIS, null);
		}

	}

	/**
	 * The etcd backend: chosen by {@code auto} when {@code latchkey.etcd.endpoints} are set.
	 */
	static final class Etcd extends OnLockBackendCondition {

		Etcd() {
			super(Backend.ETCD, "latchkey.etcd.endpoints are set");
		}

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			ConditionOutcome outcome = super.getMatchOutcome(context, metadata);
			if (outcome.isMatch() && configuredBackend(context) == Backend.AUTO && !endpointsSet(context)) {
				return ConditionOutcome.noMatch("latchkey.backend is auto and latchkey.etcd.endpoints are not set");
			}
			return outcome;
		}

		private static boolean endpointsSet(ConditionContext context) {
			return Binder.get(context.getEnvironment())
				.bind("latchkey.etcd.endpoints", Bindable.listOf(String.class))
				.map((endpoints) -> !endpoints.isEmpty())
				.orElse(false);
		}

	}

	/**
	 * The etcd backend asked for by name: matches {@code latchkey.backend=etcd} only, never {@code auto}.
	 */
	static final class EtcdRequired extends OnLockBackendCondition {

		EtcdRequired() {
			super(Backend.ETCD, null);
		}

	}

	/**
	 * The JDBC backend: chosen by {@code auto} when the application has a DataSource (a bean condition of its
	 * configuration).
	 */
	static final class Jdbc extends OnLockBackendCondition {

		Jdbc() {
			super(Backend.JDBC, "jdbc is chosen when a DataSource exists");
		}

	}

	/**
	 * The JDBC backend asked for by name: matches {@code latchkey.backend=jdbc} only, never {@code auto}.
	 */
	static final class JdbcRequired extends OnLockBackendCondition {

		JdbcRequired() {
			super(Backend.JDBC, null);
		}

	}

}
