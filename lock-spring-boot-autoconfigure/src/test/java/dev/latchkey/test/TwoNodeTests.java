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

package dev.latchkey.test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import dev.latchkey.LockRepository;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.event.EventPublishingLockObserver;

/**
 * Tests of code above {@link LockTemplate} (the adapters for other libraries' lock APIs)
 * with two nodes on one {@link SharedStore}: each node a template of its own (owners
 * {@code node-a} and {@code node-b}) on a repository of its own. The first node's events
 * are recorded in {@link #events}.
 */
public abstract class TwoNodeTests {

	protected LockRepository repository;

	protected LockRepository peerRepository;

	protected LockTemplate locks;

	protected LockTemplate peerLocks;

	protected final List<Object> events = new CopyOnWriteArrayList<>();

	/**
	 * The store both nodes lock on.
	 * @return the store
	 */
	protected abstract SharedStore store();

	@BeforeEach
	void startTwoNodes() {
		this.repository = store().open();
		this.peerRepository = store().openPeer(this.repository);
		this.locks = new LockTemplate(this.repository, LockSettings.defaults().withOwner("node-a"),
				new EventPublishingLockObserver(this.events::add));
		this.peerLocks = new LockTemplate(this.peerRepository, LockSettings.defaults().withOwner("node-b"), null);
	}

	@AfterEach
	void stopTwoNodes() {
		this.locks.close();
		this.peerLocks.close();
		store().close(this.peerRepository);
		store().close(this.repository);
	}

}
