package dev.latchkey.actuate;

import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.Selector.Match;
import org.springframework.util.Assert;

import dev.latchkey.LockInfo;
import dev.latchkey.LockRepository;
import dev.latchkey.LockTemplate;

/**
 * The {@code locks} Actuator endpoint: the keys held at the backend, and one key in detail.
 * <ul>
 * <li>{@code GET /actuator/locks}: every held key the backend can list (those of all instances where it can tell,
 * else those of this instance), each with its mode, limit and holders;</li>
 * <li>{@code GET /actuator/locks/{key}}: one key; {@code 404} when nobody holds it.</li>
 * </ul>
 * Each holder shows its owner, fencing token, remaining time-to-live and whether it is this instance. Owner names
 * ({@code application@host:pid}) are masked as {@code ******} unless {@code latchkey.endpoint.show-owner=true}.
 * <pre class="code">
 * $ curl localhost:8080/actuator/locks/order:42
 * {"key":"order:42","mode":"EXCLUSIVE","limit":1,"holders":[{"owner":"******","fencingToken":7,
 *  "remainingTtl":"PT29.1S","thisInstance":true}]}
 * </pre>
 */
@Endpoint(id = "locks")
public class LocksEndpoint {

	/**
	 * What a masked owner shows.
	 */
	public static final String MASK = "******";

	private final LockTemplate template;

	private final boolean showOwner;

	/**
	 * Creates the endpoint.
	 * @param template the template whose backend to inspect
	 * @param showOwner whether to show owner names rather than mask them
	 */
	public LocksEndpoint(LockTemplate template, boolean showOwner) {
		Assert.notNull(template, "LockTemplate must not be null");
		this.template = template;
		this.showOwner = showOwner;
	}

	/**
	 * Lists the held keys.
	 * @return the backend and its held keys, ordered by key
	 */
	@ReadOperation
	public LocksDescriptor locks() {
		LockRepository repository = this.template.getRepository();
		return new LocksDescriptor(repository.backend(), repository.list().stream().map(this::describe).toList());
	}

	/**
	 * Describes one key. A key that contains {@code /} is given as several path segments.
	 * @param key the full lock key, prefix included, as {@link #locks()} lists it
	 * @return the key's holders, or {@code null} (404) when nobody holds it
	 */
	@ReadOperation
	public @Nullable LockDescriptor lock(@Selector(match = Match.ALL_REMAINING) String[] key) {
		return this.template.getRepository().inspect(String.join("/", key)).map(this::describe).orElse(null);
	}

	private LockDescriptor describe(LockInfo info) {
		String self = this.template.settings().owner();
		List<HolderDescriptor> holders = info.holders()
			.stream()
			.map((holder) -> new HolderDescriptor(this.showOwner ? holder.owner() : MASK, holder.fencingToken(),
					format(holder.remainingTtl()), holder.owner().equals(self)))
			.toList();
		return new LockDescriptor(info.key(), info.mode().name(), info.limit(), holders);
	}

	private static @Nullable String format(@Nullable Duration duration) {
		return (duration != null) ? duration.toString() : null;
	}

	/**
	 * The held keys of a backend.
	 *
	 * @param backend the backend's name
	 * @param locks the held keys, ordered by key
	 */
	public record LocksDescriptor(String backend, List<LockDescriptor> locks) implements OperationResponseBody {
	}

	/**
	 * One held key.
	 *
	 * @param key the lock key, prefix included
	 * @param mode {@code EXCLUSIVE} or {@code SHARED} (a semaphore)
	 * @param limit the number of holders allowed at once
	 * @param holders the current holders
	 */
	public record LockDescriptor(String key, String mode, int limit,
			List<HolderDescriptor> holders) implements OperationResponseBody {
	}

	/**
	 * One holder of a key.
	 *
	 * @param owner the owner name, or {@value LocksEndpoint#MASK} when owners are masked
	 * @param fencingToken the fencing token of the holder's grant
	 * @param remainingTtl the time until the backend expires the lease (ISO-8601), or {@code null} when the backend does
	 * not expire leases by time
	 * @param thisInstance whether this application instance is the holder
	 */
	public record HolderDescriptor(String owner, long fencingToken, @Nullable String remainingTtl,
			boolean thisInstance) {
	}

}
