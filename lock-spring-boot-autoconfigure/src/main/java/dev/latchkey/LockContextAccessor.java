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

package dev.latchkey;

import java.util.List;

import io.micrometer.context.ThreadLocalAccessor;
import org.jspecify.annotations.Nullable;

/**
 * The {@link LockContext} for Micrometer's context propagation: registered through
 * {@code META-INF/services}, so that {@code ContextSnapshot},
 * {@code ContextExecutorService}, Spring's {@code ContextPropagatingTaskDecorator} and
 * Reactor's automatic context propagation carry the current leases to the thread that
 * continues the work. Its key is {@link ReactiveLockContext#KEY}, the key of the leases
 * in a Reactor {@code Context}.
 *
 * <pre class="code">
 * ExecutorService locked = ContextExecutorService.wrap(executor);
 * </pre>
 * <p>
 * Used only when {@code io.micrometer:context-propagation} is on the classpath.
 *
 * @since 0.1.0
 */
public final class LockContextAccessor implements ThreadLocalAccessor<List<Lease>> {

	@Override
	public Object key() {
		return ReactiveLockContext.KEY;
	}

	@Override
	public @Nullable List<Lease> getValue() {
		List<Lease> leases = LockContext.snapshot();
		return leases.isEmpty() ? null : leases;
	}

	@Override
	public void setValue(List<Lease> value) {
		LockContext.restore(value);
	}

	@Override
	public void setValue() {
		LockContext.restore(List.of());
	}

}
