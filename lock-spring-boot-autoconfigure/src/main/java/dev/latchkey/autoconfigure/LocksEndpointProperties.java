package dev.latchkey.autoconfigure;

import java.util.LinkedHashSet;
import java.util.Set;

import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.context.properties.ConfigurationProperties;

import dev.latchkey.actuate.LocksEndpoint;

/**
 * Settings of the {@code locks} endpoint ({@link LocksEndpoint}), under Spring Boot's usual prefix for an endpoint,
 * like {@code management.endpoint.env.show-values}:
 * <pre class="code">
 * management.endpoint.locks.show-values=when-authorized
 * management.endpoint.locks.roles=OPS
 * </pre>
 */
@ConfigurationProperties("management.endpoint.locks")
public class LocksEndpointProperties {

	/**
	 * When to show the owner names of lock holders (application, host and process id) rather than mask them.
	 */
	private Show showValues = Show.NEVER;

	/**
	 * Roles of which a caller needs one to see owner names with 'when-authorized'; any authenticated caller when empty.
	 */
	private final Set<String> roles = new LinkedHashSet<>();

	public Show getShowValues() {
		return this.showValues;
	}

	public void setShowValues(Show showValues) {
		this.showValues = showValues;
	}

	public Set<String> getRoles() {
		return this.roles;
	}

}
