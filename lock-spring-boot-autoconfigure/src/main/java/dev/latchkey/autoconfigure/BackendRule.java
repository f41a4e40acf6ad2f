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

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;
import org.springframework.util.ClassUtils;

/**
 * When a backend can be used and when {@code latchkey.backend=auto} chooses it: the
 * libraries it needs, and what shows that the application has configured it (a bean it
 * reuses, or a property of its own). Each constant of {@link LatchkeyProperties.Backend}
 * carries its rule, so that everything the choice knows about a backend stands next to
 * its name:
 *
 * <pre class="code">
 * REDIS(BackendRule.configuredBy(BackendRule.bean("org.springframework.data.redis.connection.RedisConnectionFactory"),
 *         "Configure spring.data.redis.*, or define a RedisConnectionFactory bean")
 *     .requires("spring-data-redis", "org.springframework.boot:spring-boot-starter-data-redis",
 *         "org.springframework.data.redis.connection.RedisConnectionFactory"))
 * </pre>
 * <p>
 * Classes and bean types are named as strings: the backends' libraries are optional, and
 * a rule is read on every start.
 */
final class BackendRule {

	private static final BackendRule NAMED_ONLY = new BackendRule(false, null, null, "", List.of(), "", "");

	private static final BackendRule EMBEDDED_DEFAULT = new BackendRule(true, null, null, "", List.of(), "", "");

	private final boolean embeddedDefault;

	private final @Nullable Signal signal;

	private final @Nullable Signal alternative;

	private final String howToConfigure;

	private final List<String> requiredClasses;

	private final String library;

	private final String dependency;

	private BackendRule(boolean embeddedDefault, @Nullable Signal signal, @Nullable Signal alternative,
			String howToConfigure, List<String> requiredClasses, String library, String dependency) {
		this.embeddedDefault = embeddedDefault;
		this.signal = signal;
		this.alternative = alternative;
		this.howToConfigure = howToConfigure;
		this.requiredClasses = requiredClasses;
		this.library = library;
		this.dependency = dependency;
	}

	/**
	 * A backend that needs nothing and is used only when {@code latchkey.backend} names
	 * it.
	 * @return the rule
	 */
	static BackendRule namedOnly() {
		return NAMED_ONLY;
	}

	/**
	 * The backend {@code auto} chooses when no other is configured; it needs nothing.
	 * @return the rule
	 */
	static BackendRule embeddedDefault() {
		return EMBEDDED_DEFAULT;
	}

	/**
	 * A backend that {@code auto} chooses when the signal is there, and that needs it
	 * when named.
	 * @param signal what shows the backend is configured
	 * @param howToConfigure what the user does to configure it (the failure's action)
	 * @return the rule
	 */
	static BackendRule configuredBy(Signal signal, String howToConfigure) {
		return new BackendRule(false, signal, null, howToConfigure, List.of(), "", "");
	}

	/**
	 * This rule, also satisfied, when the backend is named, by another signal that
	 * {@code auto} does not look at (the application's own client, say).
	 * @param alternative the other signal
	 * @return a new rule
	 */
	BackendRule orWhenNamed(Signal alternative) {
		return new BackendRule(this.embeddedDefault, this.signal, alternative, this.howToConfigure,
				this.requiredClasses, this.library, this.dependency);
	}

	/**
	 * This rule, with the classes the backend needs on the class path.
	 * @param library the library's name, as the user knows it
	 * @param dependency the dependency that brings it
	 * @param classNames the classes that must be present
	 * @return a new rule
	 */
	BackendRule requires(String library, String dependency, String... classNames) {
		return new BackendRule(this.embeddedDefault, this.signal, this.alternative, this.howToConfigure,
				List.of(classNames), library, dependency);
	}

	/**
	 * A bean of the given type, which the backend reuses.
	 * @param typeName the bean's type
	 * @return the signal
	 */
	static Signal bean(String typeName) {
		return new BeanSignal(typeName);
	}

	/**
	 * A property of the backend's own, set to a value that is not empty.
	 * @param name the property
	 * @return the signal
	 */
	static Signal property(String name) {
		return new PropertySignal(name);
	}

	boolean isEmbeddedDefault() {
		return this.embeddedDefault;
	}

	/**
	 * Whether {@code auto} may choose the backend at all: it has a signal to look for.
	 */
	boolean isChosenAutomatically() {
		return this.signal != null;
	}

	@Nullable Signal signal() {
		return this.signal;
	}

	/**
	 * Why the backend cannot be used as things are, or {@code null} when it can: a
	 * missing library, or, when it is named, missing configuration.
	 * @param backend the backend's name, as {@code latchkey.backend} spells it
	 * @param context what the application has
	 * @return the failure, or {@code null}
	 */
	BackendChoice.@Nullable Failure whyUnusable(String backend, Context context) {
		if (!isAvailable(context)) {
			return missingLibrary("latchkey.backend is " + backend, "set latchkey.backend to another backend");
		}
		if (this.signal != null && !this.signal.isPresent(context)
				&& (this.alternative == null || !this.alternative.isPresent(context))) {
			return new BackendChoice.Failure("latchkey.backend is " + backend + ", but " + this.signal.absent(),
					this.howToConfigure + "; or set latchkey.backend to another backend");
		}
		return null;
	}

	/**
	 * Why the backend cannot be used with a {@code latchkey.url} that selects it, or
	 * {@code null} when it can: a missing library. The URL stands for the configuration,
	 * so no signal is needed.
	 * @param url the URL
	 * @param context what the application has
	 * @return the failure, or {@code null}
	 */
	BackendChoice.@Nullable Failure whyUnusable(LockUrl url, Context context) {
		return isAvailable(context) ? null
				: missingLibrary("latchkey.url is a " + url.backend().value() + " URL (" + url + ")",
						"change latchkey.url to another backend");
	}

	private BackendChoice.Failure missingLibrary(String subject, String alternative) {
		return new BackendChoice.Failure(subject + ", but " + this.library + " is not on the class path",
				"Add the dependency " + this.dependency + ", or " + alternative);
	}

	/**
	 * Whether the application has configured the backend, so that {@code auto} would
	 * choose it: its libraries are there, and so is its signal.
	 * @param context what the application has
	 * @return whether it is configured
	 */
	boolean isConfigured(Context context) {
		return this.signal != null && isAvailable(context) && this.signal.isPresent(context);
	}

	private boolean isAvailable(Context context) {
		return this.requiredClasses.stream().allMatch((name) -> ClassUtils.isPresent(name, context.classLoader()));
	}

	/**
	 * What the rules look at.
	 *
	 * @param environment the environment, for properties
	 * @param beanFactory the bean factory, for beans, or {@code null} if there is none
	 * @param classLoader the application's class loader
	 */
	record Context(Environment environment, @Nullable ConfigurableListableBeanFactory beanFactory,
			@Nullable ClassLoader classLoader) {

	}

	/**
	 * What shows that the application has configured a backend.
	 */
	sealed interface Signal permits BeanSignal, PropertySignal {

		boolean isPresent(Context context);

		/**
		 * The signal, as a phrase: "a RedisConnectionFactory bean",
		 * "latchkey.etcd.endpoints".
		 */
		String description();

		/**
		 * The signal, as a phrase without an article.
		 */
		String name();

		/**
		 * That the signal is there: "a RedisConnectionFactory bean is configured".
		 */
		String present();

		/**
		 * That the signal is not there: "the application has no RedisConnectionFactory
		 * bean".
		 */
		String absent();

	}

	private record BeanSignal(String typeName) implements Signal {

		@Override
		public boolean isPresent(Context context) {
			ConfigurableListableBeanFactory beanFactory = context.beanFactory();
			if (beanFactory == null || !ClassUtils.isPresent(this.typeName, context.classLoader())) {
				return false;
			}
			Class<?> type = ClassUtils.resolveClassName(this.typeName, context.classLoader());
			return BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beanFactory, type, true, false).length > 0;
		}

		@Override
		public String name() {
			return ClassUtils.getShortName(this.typeName) + " bean";
		}

		@Override
		public String description() {
			return "a " + name();
		}

		@Override
		public String present() {
			return description() + " is configured";
		}

		@Override
		public String absent() {
			return "the application has no " + name();
		}

	}

	private record PropertySignal(String name) implements Signal {

		@Override
		public boolean isPresent(Context context) {
			return Binder.get(context.environment())
				.bind(this.name, Bindable.listOf(String.class))
				.map((values) -> !values.isEmpty())
				.orElse(false);
		}

		@Override
		public String description() {
			return this.name;
		}

		@Override
		public String present() {
			return this.name + " is set";
		}

		@Override
		public String absent() {
			return this.name + " is not set";
		}

	}

}
