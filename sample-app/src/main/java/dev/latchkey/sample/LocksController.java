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

import java.util.List;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.latchkey.LockInfo;
import dev.latchkey.LockTemplate;

/**
 * {@code GET /locks}: the keys held right now, with their holders, fencing tokens and
 * remaining time-to-live.
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
