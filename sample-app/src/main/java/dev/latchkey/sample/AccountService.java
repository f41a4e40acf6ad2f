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

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Service;

import dev.latchkey.LockContext;
import dev.latchkey.annotation.Exclusive;

/**
 * Moves money between two accounts under the locks of both: {@code @Exclusive} with two
 * key templates takes both keys or neither, in one order whatever the direction, so a
 * transfer from Alice to Bob and one from Bob to Alice never wait for each other for
 * ever.
 */
@Service
public class AccountService {

	/**
	 * What every account holds before its first transfer, in cents.
	 */
	static final long OPENING_BALANCE = 10_000;

	private final SampleProperties properties;

	// Stands in for an accounts table; the two read-modify-writes below are safe only
	// because they run under both accounts' locks.
	private final Map<String, Long> balances = new ConcurrentHashMap<>();

	public AccountService(SampleProperties properties) {
		this.properties = properties;
	}

	/**
	 * Transfers an amount from one account to another, waiting up to two seconds for both
	 * accounts' locks.
	 * @param from the account debited
	 * @param to the account credited
	 * @param cents the amount
	 * @return both balances after the transfer, with the fencing token of each account's
	 * lock that a ledger store would check
	 * @throws dev.latchkey.LockNotAcquiredException if either account stayed locked for
	 * two seconds (then neither was changed)
	 */
	@Exclusive(value = { "account:#from", "account:#to" }, waitTime = 2000)
	public Transfer transfer(String from, String to, long cents) {
		if (from.equals(to)) {
			throw new IllegalArgumentException("A transfer needs two different accounts");
		}
		long fromBalance = this.balances.getOrDefault(from, OPENING_BALANCE) - cents;
		long toBalance = this.balances.getOrDefault(to, OPENING_BALANCE) + cents;
		SimulatedWork.take(this.properties.getTransferDuration());
		this.balances.put(from, fromBalance);
		this.balances.put(to, toBalance);
		return new Transfer(new Entry(from, fromBalance, LockContext.fencingToken("account:" + from)),
				new Entry(to, toBalance, LockContext.fencingToken("account:" + to)), cents);
	}

	/**
	 * A completed transfer.
	 *
	 * @param from the debited account after the transfer
	 * @param to the credited account after the transfer
	 * @param cents the amount moved
	 */
	public record Transfer(Entry from, Entry to, long cents) {
	}

	/**
	 * One account after a transfer.
	 *
	 * @param account the account
	 * @param balance its balance, in cents
	 * @param fencingToken the fencing token of the account's lock the transfer ran under
	 */
	public record Entry(String account, long balance, long fencingToken) {
	}

}
