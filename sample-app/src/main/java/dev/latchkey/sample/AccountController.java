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

import dev.latchkey.sample.AccountService.Transfer;

/**
 * {@code POST /accounts/{from}/transfer?to=bob&cents=500}: answers 200 with both balances
 * and each account's fencing token, or 409 when either account stayed locked for two
 * seconds.
 */
@RestController
public class AccountController {

	private final AccountService accounts;

	public AccountController(AccountService accounts) {
		this.accounts = accounts;
	}

	@PostMapping("/accounts/{from}/transfer")
	public Transfer transfer(@PathVariable String from, @RequestParam String to, @RequestParam long cents) {
		return this.accounts.transfer(from, to, cents);
	}

}
