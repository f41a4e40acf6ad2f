package dev.latchkey.sample;

import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.latchkey.sample.OrderService.Payment;

/**
 * {@code POST /orders/{id}/pay}: answers 200 with the payment, or 409 while the same order is being paid.
 */
@RestController
public class OrderController {

	private final OrderService orders;

	public OrderController(OrderService orders) {
		this.orders = orders;
	}

	@PostMapping("/orders/{id}/pay")
	public Payment pay(@PathVariable long id) {
		return this.orders.pay(id);
	}

}
