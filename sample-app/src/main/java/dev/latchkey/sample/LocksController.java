package dev.latchkey.sample;

import java.util.List;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.latchkey.LockInfo;
import dev.latchkey.LockTemplate;

/**
 * {@code GET /locks}: the keys held right now, with their holders, fencing tokens and remaining time-to-live.
 */
@RestController
public class LocksController {

	private final LockTemplate locks;

	public LocksController(LockTemplate locks) {
		this.locks = locks;
	}

	@GetMapping("/locks")
	public List<LockInfo> list() {
		return this.locks.repository().list();
	}

}
