package dev.latchkey.sample;

import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.latchkey.sample.InventoryService.Restock;

/**
 * {@code POST /inventory/{sku}/restock?quantity=5}: answers 200 with the new stock level, or 409 when the item stayed
 * locked for a second.
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
