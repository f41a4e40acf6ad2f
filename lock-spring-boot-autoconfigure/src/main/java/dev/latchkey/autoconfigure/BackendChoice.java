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

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.bind.Binder;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;

/**
 * The backend {@code latchkey.url} or {@code latchkey.backend} selects, and why; or why
 * none can be used. The one place that resolves these properties: a URL selects its
 * backend when the backend's libraries are there (other clients the application has are
 * then no ambiguity), and {@code latchkey.backend}, if set too, must name the same; a
 * named backend is used when its {@link BackendRule} is met; {@code auto} chooses the
 * single configured backend, the embedded default when none is, and nothing when several
 * are (two instances that guessed differently would not exclude each other).
 * <p>
 * Read by {@link OnLockBackendCondition} (which configuration applies, for the condition
 * report), {@link BackendChoiceCheck} (the start's failure) and {@link BackendReport}
 * (the startup line).
 *
 * @param backend the backend used, or {@code null} when none can be
 * @param automatic whether {@code latchkey.backend} is {@code auto}
 * @param why with {@code auto}, what made the choice ("a DataSource bean is configured");
 * otherwise empty
 * @param failure why no backend can be used, or {@code null}
 * @param url {@code latchkey.url}, when it made the choice, or {@code null}
 */
record BackendChoice(@Nullable Backend backend, boolean automatic, String why, @Nullable Failure failure,
		@Nullable LockUrl url) {

	BackendChoice(@Nullable Backend backend, boolean automatic, String why, @Nullable Failure failure) {
		this(backend, automatic, why, failure, null);
	}

	/**
	 * Resolves {@code latchkey.backend}.
	 * @param context what the application has
	 * @return the choice
	 */
	static BackendChoice resolve(BackendRule.Context context) {
		Backend named = Binder.get(context.environment()).bind("latchkey.backend", Backend.class).orElse(Backend.AUTO);
		LockUrl url;
		try {
			url = LockUrl.of(context.environment());
		}
		catch (LockConfigurationException ex) {
			return new BackendChoice(null, false, "", new Failure(ex.getMessage(), ex.getAction()));
		}
		if (url != null) {
			return resolve(url, named, context);
		}
		if (named != Backend.AUTO) {
			Failure unusable = named.rule().whyUnusable(named.value(), context);
			return new BackendChoice((unusable != null) ? null : named, false, "", unusable);
		}
		List<Backend> configured = Stream.of(Backend.values())
			.filter((backend) -> backend.rule().isConfigured(context))
			.toList();
		if (configured.size() > 1) {
			return new BackendChoice(null, true, "",
					new Failure(
							"latchkey.backend is auto, and the application has more than one backend configured: "
									+ configured.stream()
										.map((backend) -> backend.value() + " (" + signal(backend).description() + ")")
										.collect(Collectors.joining(", ")),
							"Set latchkey.backend to the one the locks should use (for example latchkey.backend="
									+ configured.get(0).value() + ")"));
		}
		if (configured.size() == 1) {
			Backend backend = configured.get(0);
			return new BackendChoice(backend, true, signal(backend).present(), null);
		}
		Backend fallback = Stream.of(Backend.values())
			.filter((backend) -> backend.rule().isEmbeddedDefault())
			.findFirst()
			.orElseThrow();
		List<String> signals = Stream.of(Backend.values())
			.filter((backend) -> backend.rule().isChosenAutomatically())
			.map((backend) -> signal(backend).name())
			.toList();
		return new BackendChoice(fallback, true, "no " + joinWithOr(signals) + " configured", null);
	}

	private static BackendChoice resolve(LockUrl url, Backend named, BackendRule.Context context) {
		Backend backend = url.backend();
		if (named != Backend.AUTO && named != backend) {
			return new BackendChoice(null, false, "", new Failure(
					"latchkey.url is a " + backend.value() + " URL (" + url + "), but latchkey.backend is "
							+ named.value(),
					"Remove latchkey.backend (latchkey.url names the backend), or make both name the same backend"),
					url);
		}
		Failure unusable = backend.rule().whyUnusable(url, context);
		return new BackendChoice((unusable != null) ? null : backend, false, "latchkey.url is " + url, unusable, url);
	}

	private static BackendRule.Signal signal(Backend backend) {
		BackendRule.Signal signal = backend.rule().signal();
		if (signal == null) {
			throw new IllegalStateException(backend + " is not chosen automatically");
		}
		return signal;
	}

	private static String joinWithOr(List<String> items) {
		if (items.size() < 2) {
			return String.join("", items);
		}
		return String.join(", ", items.subList(0, items.size() - 1)) + " or " + items.get(items.size() - 1);
	}

	/**
	 * The choice, or the failure, in one sentence: "latchkey.backend is auto and selects
	 * jdbc: a DataSource bean is configured", "latchkey.url selects redis:
	 * redis://redis-1:6379/0".
	 * @return the reason
	 */
	String reason() {
		if (this.failure != null) {
			return this.failure.description();
		}
		String selected = (this.backend != null) ? this.backend.value() : "none";
		if (this.url != null) {
			return "latchkey.url selects " + selected + ": " + this.url;
		}
		return this.automatic ? "latchkey.backend is auto and selects " + selected + ": " + this.why
				: "latchkey.backend is " + selected;
	}

	/**
	 * Why no backend can be used: what is wrong, naming the property, and what to do.
	 *
	 * @param description the failure's description
	 * @param action the action
	 */
	record Failure(String description, String action) {

		/**
		 * The failure as the exception that stops the start, which
		 * {@link LockConfigurationFailureAnalyzer} shows.
		 * @return the exception
		 */
		LockConfigurationException toException() {
			return new LockConfigurationException(this.description, this.action);
		}

	}

}
