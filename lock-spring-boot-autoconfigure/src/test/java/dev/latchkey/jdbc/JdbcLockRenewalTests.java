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

package dev.latchkey.jdbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.latchkey.LeaseSpec;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Renewing more leases at once than one statement names (the statements are sliced on
 * MySQL and H2) still renews every held lease and answers exactly the lost ones.
 */
class JdbcLockRenewalTests {

	@RegisterExtension
	static final LockTables tables = new LockTables(2);

	@ParameterizedTest
	@ValueSource(strings = { "postgres", "mariadb", "h2" })
	void renewingMoreLeasesThanOneStatementNamesAnswersExactlyTheLostOnes(String database) {
		LockTable table = tables.get(database);
		JdbcLockRepository repository = new JdbcLockRepository(table.dataSource(), table.name());
		int count = JdbcLockDialect.MAX_RENEWAL_BATCH * 2 + 100;
		List<LeaseSpec> leases = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			LeaseSpec lease = (i % 10 == 0)
					? LeaseSpec.semaphore("renewal:" + database + ":semaphore", count, "owner", "permit-" + i,
							Duration.ofSeconds(30))
					: LeaseSpec.exclusive("renewal:" + database + ":" + i, "owner", "token-" + i,
							Duration.ofSeconds(30));
			assertThat((lease.permits() > 1) ? repository.tryAcquirePermit(lease) : repository.tryAcquire(lease))
				.isPresent();
			leases.add(lease);
		}
		// One lease lost in each slice: released behind the holder's back.
		List<String> lost = List.of(leases.get(3).token(), leases.get(JdbcLockDialect.MAX_RENEWAL_BATCH + 7).token(),
				leases.get(count - 1).token(), leases.get(20).token());
		for (LeaseSpec lease : leases) {
			if (lost.contains(lease.token())) {
				assertThat(repository.release(lease)).isTrue();
			}
		}
		assertThat(repository.renew(leases)).containsExactlyInAnyOrderElementsOf(lost);
		for (LeaseSpec lease : leases) {
			if (!lost.contains(lease.token())) {
				repository.release(lease);
			}
		}
	}

}
