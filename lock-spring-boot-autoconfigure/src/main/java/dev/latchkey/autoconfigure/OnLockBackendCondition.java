package dev.latchkey.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

/**
 * Matches when {@code latchkey.backend} names a backend, or is {@code auto} and that backend is the automatic choice.
 */
abstract class OnLockBackendCondition extends SpringBootCondition {

	private final Backend backend;

	private final boolean automatic;

	OnLockBackendCondition(Backend backend, boolean automatic) {
		this.backend = backend;
		this.automatic = automatic;
	}

	@Override
	public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
		Backend configured = Binder.get(context.getEnvironment())
			.bind("latchkey.backend", Backend.class)
			.orElse(Backend.AUTO);
		String name = this.backend.name().toLowerCase();
		if (configured == this.backend) {
			return ConditionOutcome.match("latchkey.backend is " + name);
		}
		if (configured == Backend.AUTO && this.automatic) {
			return ConditionOutcome.match("latchkey.backend is auto and " + name + " is the embedded default");
		}
		return ConditionOutcome.noMatch("latchkey.backend is " + configured.name().toLowerCase() + ", not " + name);
	}

	/**
	 * The memory backend: only when asked for.
	 */
	static final class Memory extends OnLockBackendCondition {

		Memory() {
			super(Backend.MEMORY, false);
		}

	}

	/**
	 * The socket backend: the embedded default, chosen by {@code auto} when no other backend is configured.
	 */
	static final class Socket extends OnLockBackendCondition {

		Socket() {
			super(Backend.SOCKET, true);
		}

	}

}
