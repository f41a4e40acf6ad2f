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

package dev.latchkey.test.context;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationListener;
import org.springframework.util.ClassUtils;

import dev.latchkey.LockSettings;
import dev.latchkey.event.LockAcquiredEvent;
import dev.latchkey.event.LockEvent;
import dev.latchkey.event.LockLostEvent;
import dev.latchkey.event.LockReleasedEvent;

/**
 * Records the grants, releases and losses of the application's locks in a test, in the
 * order they happened, with the {@code @Exclusive} or {@code @Semaphore} method that took
 * each lock. Every test context gets one when {@code lock-spring-boot-test} is on the
 * class path, emptied before each test method:
 *
 * <pre class="code">
 * &#64;SpringBootTest
 * class InventoryServiceTests {
 *
 *     &#64;Autowired
 *     InventoryService inventory;
 *
 *     &#64;Autowired
 *     LockRecorder locks;
 *
 *     &#64;Test
 *     void restockLocksTheSku() {
 *         this.inventory.restock("sku-1", 5);
 *         assertThat(this.locks.acquiredKeys()).containsExactly("inventory:sku-1");
 *         assertThat(this.locks.entries()).extracting(LockRecorder.Entry::kind, LockRecorder.Entry::method)
 *             .containsExactly(tuple(Kind.ACQUIRED, "InventoryService.restock"),
 *                     tuple(Kind.RELEASED, "InventoryService.restock"));
 *     }
 *
 * }
 * </pre>
 * <p>
 * It listens to Latchkey's {@linkplain LockEvent events}, so it sees every lock of the
 * context's {@code LockTemplate}, taken by an annotation or by code; a lock taken by code
 * has no method. It is thread-safe.
 *
 * @since 0.1.0
 */
public final class LockRecorder implements ApplicationListener<LockEvent>, BeanFactoryAware {

	private final List<LockEvent> events = new ArrayList<>();

	private @Nullable ObjectProvider<LockSettings> settings;

	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		this.settings = beanFactory.getBeanProvider(LockSettings.class);
	}

	private final Map<String, Method> methods = new ConcurrentHashMap<>();

	@Override
	public void onApplicationEvent(LockEvent event) {
		if (event instanceof LockAcquiredEvent || event instanceof LockReleasedEvent
				|| event instanceof LockLostEvent) {
			synchronized (this.events) {
				this.events.add(event);
			}
		}
	}

	/**
	 * Notes the method a grant ran, told by the method's interceptor while the lease is
	 * held.
	 * @param key the lease's key
	 * @param fencingToken the lease's fencing token
	 * @param method the method
	 */
	void lockedBy(String key, long fencingToken, Method method) {
		this.methods.putIfAbsent(grant(key, fencingToken), method);
	}

	/**
	 * Everything recorded since the test started, in order.
	 * @return the entries
	 */
	public List<Entry> entries() {
		List<LockEvent> recorded;
		synchronized (this.events) {
			recorded = List.copyOf(this.events);
		}
		List<Entry> entries = new ArrayList<>(recorded.size());
		for (LockEvent event : recorded) {
			Kind kind = (event instanceof LockAcquiredEvent) ? Kind.ACQUIRED
					: (event instanceof LockReleasedEvent) ? Kind.RELEASED : Kind.LOST;
			entries.add(new Entry(kind, written(event.getKey()), event.getName(), event.getFencingToken(),
					this.methods.get(grant(event.getKey(), event.getFencingToken()))));
		}
		return entries;
	}

	/**
	 * A key as the application wrote it: without the configured prefix
	 * ({@code latchkey.key-prefix}, by default the application's name and a colon).
	 */
	private String written(String key) {
		LockSettings current = (this.settings != null) ? this.settings.getIfAvailable() : null;
		String prefix = (current != null) ? current.keyPrefix() : "";
		return (!prefix.isEmpty() && key.startsWith(prefix)) ? key.substring(prefix.length()) : key;
	}

	/**
	 * The entries of one kind, in order.
	 * @param kind the kind
	 * @return the entries
	 */
	public List<Entry> entries(Kind kind) {
		return entries().stream().filter((entry) -> entry.kind() == kind).toList();
	}

	/**
	 * The entries of one key, in order: what to assert on when other locks may be taken
	 * meanwhile (a scheduled job, another request).
	 * @param key the lock key as the application wrote it, without the configured prefix
	 * @return the entries
	 */
	public List<Entry> entries(String key) {
		return entries().stream().filter((entry) -> entry.key().equals(key)).toList();
	}

	/**
	 * The keys of the grants, in the order they were granted (a key locked twice is there
	 * twice).
	 * @return the keys
	 */
	public List<String> acquiredKeys() {
		return entries(Kind.ACQUIRED).stream().map(Entry::key).toList();
	}

	/**
	 * The keys of the leases that were lost, in order.
	 * @return the keys
	 */
	public List<String> lostKeys() {
		return entries(Kind.LOST).stream().map(Entry::key).toList();
	}

	/**
	 * Forgets everything recorded so far; called before each test method.
	 */
	public void clear() {
		synchronized (this.events) {
			this.events.clear();
		}
		this.methods.clear();
	}

	private static String grant(String key, long fencingToken) {
		return fencingToken + ":" + key;
	}

	/**
	 * What happened to a lease.
	 */
	public enum Kind {

		/**
		 * The lease was granted.
		 */
		ACQUIRED,

		/**
		 * The lease was released (or releasing it failed, and it then expires).
		 */
		RELEASED,

		/**
		 * The lease was lost before the work was done.
		 */
		LOST

	}

	/**
	 * One grant, release or loss.
	 *
	 * @param kind what happened
	 * @param key the lock key as the application wrote it, without the configured prefix
	 * ({@code latchkey.key-prefix}, by default the application's name and a colon)
	 * @param name the lock's name: the key template of an annotation, or the name given
	 * to {@code LockTemplate}
	 * @param fencingToken the lease's fencing token
	 * @param lockedMethod the {@code @Exclusive} or {@code @Semaphore} method that took
	 * the lock, or {@code null} for a lock taken by code (or by a reactive method)
	 */
	public record Entry(Kind kind, String key, String name, long fencingToken, @Nullable Method lockedMethod) {

		/**
		 * The method that took the lock, as {@code SimpleClassName.methodName}.
		 * @return the method's name, or {@code null} for a lock taken by code
		 */
		public @Nullable String method() {
			return (this.lockedMethod != null)
					? ClassUtils.getShortName(this.lockedMethod.getDeclaringClass()) + "." + this.lockedMethod.getName()
					: null;
		}

	}

}
