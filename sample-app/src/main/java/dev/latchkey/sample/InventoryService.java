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

package dev.latchkey.sample;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Service;

import dev.latchkey.LockContext;
import dev.latchkey.LockTemplate;

/**
 * Restocks items with the programmatic {@link LockTemplate} API, for code where an
 * annotation does not fit: the key is built by hand, the lock has a fixed name for events
 * and metrics, and a call waits up to a second for the lock.
 */
@Service
public class InventoryService {

	private final LockTemplate locks;

	private final SampleProperties properties;

	// Stands in for a stock table; the read-modify-write below is safe only because it
	// runs under the item's lock.
	private final Map<String, Integer> stock = new ConcurrentHashMap<>();

	public InventoryService(LockTemplate locks, SampleProperties properties) {
		this.locks = locks;
		this.properties = properties;
	}

	/**
	 * Adds units of an item to the stock.
	 * @param sku the item
	 * @param quantity how many units arrived
	 * @return the new stock level
	 * @throws dev.latchkey.LockNotAcquiredException if the item stayed locked for a
	 * second
	 */
	public Restock restock(String sku, int quantity) {
		return this.locks.exclusive("inventory:" + sku).named("inventory").waitTime(Duration.ofSeconds(1)).call(() -> {
			int before = this.stock.getOrDefault(sku, 0);
			SimulatedWork.take(this.properties.getRestockDuration());
			int after = before + quantity;
			this.stock.put(sku, after);
			return new Restock(sku, after, LockContext.fencingToken());
		});
	}

	/**
	 * A stock level after a restock.
	 *
	 * @param sku the item
	 * @param stock the units in stock
	 * @param fencingToken the fencing token of the lock the restock ran under
	 */
	public record Restock(String sku, int stock, long fencingToken) {
	}

}
