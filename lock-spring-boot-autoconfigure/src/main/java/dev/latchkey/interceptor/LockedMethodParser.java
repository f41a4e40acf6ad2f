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

package dev.latchkey.interceptor;

import java.lang.reflect.Method;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.KotlinDetector;
import org.springframework.core.MethodParameter;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.format.datetime.standard.DurationFormatterUtils;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;
import org.springframework.util.StringValueResolver;

import dev.latchkey.LeaseMode;
import dev.latchkey.LeaseSpec;
import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.annotation.ContentionPolicy;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.LostPolicy;
import dev.latchkey.annotation.Semaphore;
import dev.latchkey.annotation.Shared;
import dev.latchkey.interceptor.LockedMethod.ReturnKind;

/**
 * Reads {@code @Exclusive}, {@code @Shared} and {@code @Semaphore} from a method into a
 * {@link LockedMethod}, failing with a {@link LockConfigurationException} that names the
 * method when anything is wrong.
 */
final class LockedMethodParser {

	private static final boolean reactorPresent = ClassUtils.isPresent("reactor.core.publisher.Mono",
			LockedMethodParser.class.getClassLoader());

	private static final String FLOW = "kotlinx.coroutines.flow.Flow";

	/**
	 * Whether Kotlin coroutines can be turned into Reactor types, as Spring AOP does for
	 * {@code suspend} functions and {@code ReactiveAdapterRegistry} for {@code Flow}.
	 */
	private static final boolean coroutinesReactorPresent = reactorPresent
			&& ClassUtils.isPresent("kotlinx.coroutines.reactor.MonoKt", LockedMethodParser.class.getClassLoader());

	private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();

	private final @Nullable StringValueResolver placeholders;

	private final Supplier<LockSettings> settings;

	private final Supplier<LockTemplate> templates;

	// The fair methods parsed before the application's singletons were made, checked
	// against the backend once they are (the template's backend may need them).
	private final List<String> fairMethods = new CopyOnWriteArrayList<>();

	private volatile boolean checkAtOnce;

	LockedMethodParser(@Nullable StringValueResolver placeholders, Supplier<LockTemplate> templates) {
		this.placeholders = placeholders;
		this.templates = templates;
		this.settings = () -> templates.get().settings();
	}

	/**
	 * Checks the fair methods parsed so far against the backend, and those parsed later
	 * as they are: called once the application's singletons exist.
	 * @throws LockConfigurationException if the backend does not honour fair locks
	 */
	void checkFairness() {
		this.checkAtOnce = true;
		for (String setting : this.fairMethods) {
			this.templates.get().checkFair(LeaseMode.EXCLUSIVE, setting);
		}
		this.fairMethods.clear();
	}

	static boolean isLocked(Method method) {
		return AnnotatedElementUtils.hasAnnotation(method, Exclusive.class)
				|| AnnotatedElementUtils.hasAnnotation(method, Semaphore.class)
				|| AnnotatedElementUtils.hasAnnotation(method, Shared.class);
	}

	/**
	 * Parses the lock annotation of a method.
	 * @param method the method
	 * @return the parsed settings, or {@code null} if the method has no lock annotation
	 */
	@Nullable LockedMethod parse(Method method) {
		Exclusive exclusive = AnnotatedElementUtils.findMergedAnnotation(method, Exclusive.class);
		Semaphore semaphore = AnnotatedElementUtils.findMergedAnnotation(method, Semaphore.class);
		Shared shared = AnnotatedElementUtils.findMergedAnnotation(method, Shared.class);
		if (exclusive == null && semaphore == null && shared == null) {
			return null;
		}
		String description = describe(method);
		List<String> found = new ArrayList<>();
		if (exclusive != null) {
			found.add("@Exclusive");
		}
		if (shared != null) {
			found.add("@Shared");
		}
		if (semaphore != null) {
			found.add("@Semaphore");
		}
		if (found.size() > 1) {
			String annotations = (found.size() == 2) ? "both " + found.get(0) + " and " + found.get(1)
					: String.join(", ", found.subList(0, found.size() - 1)) + " and " + found.get(found.size() - 1);
			throw new LockConfigurationException(description + " has " + annotations,
					"Keep one of them: a method holds one lock");
		}
		Attributes attributes = (exclusive != null) ? Attributes.of(exclusive)
				: (shared != null) ? Attributes.of(shared) : Attributes.of(semaphore);
		LeaseMode mode = (exclusive != null) ? LeaseMode.EXCLUSIVE
				: (shared != null) ? LeaseMode.SHARED : LeaseMode.SEMAPHORE;
		String annotation = "@" + attributes.annotation + " on " + description;
		int permits = 1;
		if (semaphore != null) {
			permits = permits(semaphore, annotation);
		}
		List<KeyTemplate> keys = keys(attributes.keys, method, annotation);
		KeyTemplate holderDescription = holderDescription(attributes.description, method, annotation);
		String name = StringUtils.hasText(attributes.name) ? attributes.name : String.join(",", attributes.keys);
		Duration waitTime = duration(attributes.waitTime, attributes.waitTimeString, attributes.timeUnit, annotation,
				"waitTime");
		Duration ttl = duration(attributes.ttl, attributes.ttlString, attributes.timeUnit, annotation, "ttl");
		if (ttl != null) {
			if (ttl.isZero()) {
				throw new LockConfigurationException(annotation + " has a ttl of zero", "Give a positive ttl");
			}
			try {
				this.settings.get().checkTtl(ttl);
			}
			catch (IllegalArgumentException ex) {
				throw new LockConfigurationException(annotation + ": " + ex.getMessage(),
						"Give a longer ttl, or a shorter latchkey.renew-interval", ex);
			}
		}
		Duration minHold = duration(attributes.minHold, attributes.minHoldString, attributes.timeUnit, annotation,
				"minHold");
		Duration maxHold = duration(attributes.maxHold, attributes.maxHoldString, attributes.timeUnit, annotation,
				"maxHold");
		checkHoldTimes(annotation, (minHold != null) ? minHold : Duration.ZERO, maxHold);
		ReturnKind returnKind = returnKind(method, annotation);
		if (attributes.onContention == ContentionPolicy.SKIP && method.getReturnType().isPrimitive()
				&& method.getReturnType() != void.class) {
			throw new LockConfigurationException(
					annotation + " skips on contention but returns " + method.getReturnType().getName()
							+ ", which cannot be null",
					"Return a wrapper type or Optional, or use onContention = ContentionPolicy.THROW");
		}
		LostPolicy onLost = lostPolicy(attributes.onLost, returnKind, annotation);
		boolean fair = exclusive != null && exclusive.fair();
		if (fair) {
			// Refused at startup where the backend keeps no queue to serve it in order.
			String setting = "@Exclusive(fair = true) on " + description;
			if (this.checkAtOnce) {
				this.templates.get().checkFair(LeaseMode.EXCLUSIVE, setting);
			}
			else {
				this.fairMethods.add(setting);
			}
		}
		return new LockedMethod(description, mode, permits, keys, name, waitTime, ttl,
				(minHold != null) ? minHold : Duration.ZERO, attributes.onContention, onLost, returnKind, maxHold,
				holderDescription, fair);
	}

	/**
	 * Parses the description template, if any; a constant one is checked at once, as
	 * {@code LockOperation.description} would check it at each call.
	 */
	private @Nullable KeyTemplate holderDescription(String source, Method method, String annotation) {
		if (source.isEmpty()) {
			return null;
		}
		KeyTemplate template = KeyTemplate.parse(KeyTemplate.DESCRIPTION, source, method, annotation,
				this.parameterNames.getParameterNames(method));
		if (template.isConstant()) {
			try {
				LeaseSpec.checkDescription(template.evaluate(new Object[method.getParameterCount()]));
			}
			catch (IllegalArgumentException ex) {
				throw new LockConfigurationException(
						annotation + " has a description that is not allowed: " + ex.getMessage(),
						"Give the description attribute at most " + LeaseSpec.MAX_DESCRIPTION_LENGTH
								+ " characters, without control characters",
						ex);
			}
		}
		return template;
	}

	private void checkHoldTimes(String annotation, Duration minHold, @Nullable Duration maxHold) {
		if (maxHold != null) {
			if (maxHold.isZero()) {
				throw new LockConfigurationException(annotation + " has a maxHold of zero",
						"Give a positive maxHold, or leave it unset for latchkey.max-hold");
			}
			if (minHold.compareTo(maxHold) > 0) {
				throw new LockConfigurationException(
						annotation + " has a minHold of " + minHold + ", longer than its maxHold of " + maxHold,
						"Give a maxHold no shorter than minHold");
			}
			return;
		}
		Duration fallback = this.settings.get().maxHold();
		if (fallback != null && minHold.compareTo(fallback) > 0) {
			throw new LockConfigurationException(
					annotation + " has a minHold of " + minHold + ", longer than latchkey.max-hold (" + fallback + ")",
					"Give the annotation a maxHold no shorter than its minHold, or raise latchkey.max-hold");
		}
	}

	private List<KeyTemplate> keys(String[] sources, Method method, String annotation) {
		@Nullable String[] names = this.parameterNames.getParameterNames(method);
		List<KeyTemplate> keys = new ArrayList<>(sources.length);
		// No template at all fails as an empty one does.
		for (String source : (sources.length > 0) ? sources : new String[] { "" }) {
			keys.add(KeyTemplate.parse(source, method, annotation, names));
		}
		return List.copyOf(keys);
	}

	private int permits(Semaphore semaphore, String annotation) {
		if (StringUtils.hasText(semaphore.permitsString())) {
			String text = resolve(semaphore.permitsString(), annotation, "permitsString");
			try {
				return positive(Integer.parseInt(text.trim()), annotation);
			}
			catch (NumberFormatException ex) {
				throw new LockConfigurationException(
						annotation + " has permitsString '" + semaphore.permitsString() + "' that resolves to '" + text
								+ "', which is not a number",
						"Give a whole number of permits, for example permits = 4", ex);
			}
		}
		if (semaphore.permits() == -1) {
			throw new LockConfigurationException(annotation + " does not say how many permits the semaphore has",
					"Set permits (for example permits = 4) or permitsString");
		}
		return positive(semaphore.permits(), annotation);
	}

	private static int positive(int permits, String annotation) {
		if (permits < 1) {
			throw new LockConfigurationException(annotation + " has " + permits + " permits",
					"A semaphore needs at least one permit");
		}
		return permits;
	}

	private @Nullable Duration duration(long value, String text, TimeUnit unit, String annotation, String attribute) {
		if (StringUtils.hasText(text)) {
			String resolved = resolve(text, annotation, attribute + "String").trim();
			Duration parsed;
			try {
				if (resolved.matches("-?\\d+")) {
					return duration(Long.parseLong(resolved), unit, annotation, attribute + "String");
				}
				parsed = DurationFormatterUtils.detectAndParse(resolved);
			}
			catch (IllegalArgumentException | DateTimeParseException ex) {
				throw new LockConfigurationException(
						annotation + " has " + attribute + "String '" + text + "' that resolves to '" + resolved
								+ "', which is not a duration",
						"Use a number of " + unit.name().toLowerCase(Locale.ROOT)
								+ ", a duration such as 500ms, 2s or PT2S, or a" + " placeholder that resolves to one",
						ex);
			}
			return inRange(nonNegative(parsed, annotation, attribute + "String"), annotation, attribute + "String");
		}
		return duration(value, unit, annotation, attribute);
	}

	private static @Nullable Duration duration(long value, TimeUnit unit, String annotation, String attribute) {
		if (value < 0) {
			if (value != -1) {
				throw new LockConfigurationException(annotation + " has a negative " + attribute + " of " + value,
						"Use 0 or more, or leave it unset for the latchkey.* default");
			}
			return null;
		}
		if (unit.convert(LockSettings.MAX_DURATION) < value) {
			throw outOfRange(annotation, attribute, value + " " + unit.name().toLowerCase(Locale.ROOT));
		}
		return Duration.of(value, unit.toChronoUnit());
	}

	private static Duration inRange(Duration duration, String annotation, String attribute) {
		if (duration.compareTo(LockSettings.MAX_DURATION) > 0) {
			throw outOfRange(annotation, attribute, duration.toString());
		}
		return duration;
	}

	private static LockConfigurationException outOfRange(String annotation, String attribute, String value) {
		return new LockConfigurationException(
				annotation + " has a " + attribute + " of " + value + ", longer than the longest allowed, "
						+ LockSettings.MAX_DURATION.toDays() + " days",
				"Give " + attribute + " a duration from 0 to " + LockSettings.MAX_DURATION.toDays() + "d");
	}

	private static Duration nonNegative(Duration duration, String annotation, String attribute) {
		if (duration.isNegative()) {
			throw new LockConfigurationException(annotation + " has a negative " + attribute + " of " + duration,
					"Use a duration of 0 or more");
		}
		return duration;
	}

	private String resolve(String text, String annotation, String attribute) {
		if (this.placeholders == null) {
			return text;
		}
		try {
			String resolved = this.placeholders.resolveStringValue(text);
			return (resolved != null) ? resolved : text;
		}
		catch (IllegalArgumentException ex) {
			throw new LockConfigurationException(
					annotation + " has " + attribute + " '" + text + "' that could not be resolved: " + ex.getMessage(),
					"Define the property the placeholder names, or give the placeholder a default", ex);
		}
	}

	private static ReturnKind returnKind(Method method, String annotation) {
		if (KotlinDetector.isSuspendingFunction(method)) {
			if (!coroutinesReactorPresent) {
				throw new LockConfigurationException(annotation + " is a suspend function",
						"Add kotlinx-coroutines-reactor to the classpath: the lease of a suspend function is held "
								+ "through Reactor, as Spring runs suspend functions");
			}
			// Spring AOP runs the function as a Mono (a Flux for a Flow result) and
			// awaits what the advice returns: the lock is held as for those.
			return isFlow(new MethodParameter(method, -1).getParameterType()) ? ReturnKind.FLUX : ReturnKind.MONO;
		}
		Class<?> type = method.getReturnType();
		if (isFlow(type)) {
			if (!coroutinesReactorPresent) {
				throw new LockConfigurationException(annotation + " returns a Kotlin Flow",
						"Add kotlinx-coroutines-reactor to the classpath: a Flow is held as a Flux");
			}
			return ReturnKind.FLOW;
		}
		if (CompletionStage.class.isAssignableFrom(type)) {
			return ReturnKind.FUTURE;
		}
		if (Optional.class == type) {
			return ReturnKind.OPTIONAL;
		}
		if (reactorPresent) {
			ReturnKind reactive = ReactiveLocking.returnKind(type);
			if (reactive != null) {
				return reactive;
			}
		}
		if (type.getName().equals("org.reactivestreams.Publisher") || Arrays.stream(type.getInterfaces())
			.anyMatch((i) -> i.getName().equals("org.reactivestreams.Publisher"))) {
			throw new LockConfigurationException(
					annotation + " returns " + type.getName()
							+ ", a reactive type that lock annotations do not support",
					"Return a Reactor Mono or Flux (with reactor-core on the classpath), or a CompletableFuture");
		}
		return ReturnKind.SYNC;
	}

	private static boolean isFlow(Class<?> type) {
		if (type.getName().equals(FLOW)) {
			return true;
		}
		for (Class<?> candidate : ClassUtils.getAllInterfacesForClassAsSet(type)) {
			if (candidate.getName().equals(FLOW)) {
				return true;
			}
		}
		return false;
	}

	private static LostPolicy lostPolicy(LostPolicy policy, ReturnKind returnKind, String annotation) {
		if (policy == LostPolicy.DEFAULT) {
			return returnKind.isAsynchronous() ? LostPolicy.CANCEL : LostPolicy.INTERRUPT;
		}
		if (policy == LostPolicy.INTERRUPT && returnKind.isAsynchronous()) {
			throw new LockConfigurationException(
					annotation + " uses LostPolicy.INTERRUPT but returns its result asynchronously",
					"Use LostPolicy.CANCEL (or DEFAULT) to stop asynchronous work, or NOTIFY");
		}
		if (policy == LostPolicy.CANCEL && !returnKind.isAsynchronous()) {
			throw new LockConfigurationException(
					annotation + " uses LostPolicy.CANCEL but returns its result synchronously",
					"Use LostPolicy.INTERRUPT (or DEFAULT) to stop synchronous work, or NOTIFY");
		}
		return policy;
	}

	static String describe(Method method) {
		return method.getDeclaringClass().getSimpleName() + "." + method.getName() + "("
				+ Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(", "))
				+ ")";
	}

	private record Attributes(String annotation, String[] keys, String name, long waitTime, String waitTimeString,
			long ttl, String ttlString, long minHold, String minHoldString, TimeUnit timeUnit,
			ContentionPolicy onContention, LostPolicy onLost, long maxHold, String maxHoldString, String description) {

		static Attributes of(Exclusive exclusive) {
			return new Attributes("Exclusive", exclusive.key(), exclusive.name(), exclusive.waitTime(),
					exclusive.waitTimeString(), exclusive.ttl(), exclusive.ttlString(), exclusive.minHold(),
					exclusive.minHoldString(), exclusive.timeUnit(), exclusive.onContention(), exclusive.onLost(),
					exclusive.maxHold(), exclusive.maxHoldString(), exclusive.description());
		}

		static Attributes of(Shared shared) {
			return new Attributes("Shared", new String[] { shared.key() }, shared.name(), shared.waitTime(),
					shared.waitTimeString(), shared.ttl(), shared.ttlString(), shared.minHold(), shared.minHoldString(),
					shared.timeUnit(), shared.onContention(), shared.onLost(), shared.maxHold(), shared.maxHoldString(),
					shared.description());
		}

		static Attributes of(Semaphore semaphore) {
			return new Attributes("Semaphore", new String[] { semaphore.key() }, semaphore.name(), semaphore.waitTime(),
					semaphore.waitTimeString(), semaphore.ttl(), semaphore.ttlString(), semaphore.minHold(),
					semaphore.minHoldString(), semaphore.timeUnit(), semaphore.onContention(), semaphore.onLost(),
					semaphore.maxHold(), semaphore.maxHoldString(), semaphore.description());
		}

	}

}
