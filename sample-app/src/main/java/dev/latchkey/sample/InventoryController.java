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

import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.latchkey.sample.InventoryService.Restock;

/**
 * {@code POST /inventory/{sku}/restock?quantity=5}: answers 200 with the new stock level,
 * or 409 when the item stayed locked for a second.
 */
@RestController
public class InventoryController {

	private final InventoryService inventory;

	public InventoryController(InventoryService inventory) {
		this.inventory = inventory;
	}

	@PostMapping("/inventory/{sku}/restock")
	public Restock restock(@PathVariable String sku, @RequestParam(defaultValue = "1") int quantity) {
		return this.inventory.restock(sku, quantity);
	}

}
