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

package dev.latchkey.support;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The records of {@link OwnerRecordLeases}: one per TTL class, or per TTL class and
 * shard, made once and used while it lives, and never made again once gone.
 */
class OwnerRecordLeasesTests {

	private final OwnerRecordLeases<OwnerRecordLeases.Held> leases = new OwnerRecordLeases<>(
			OwnerRecordLeasesTests.class, "test", Executors.defaultThreadFactory(), (held) -> {
			});

	private final AtomicInteger made = new AtomicInteger();

	@AfterEach
	void close() {
		this.leases.close();
	}

	@Test
	void aTtlClassHasOneRecordWhileItLives() {
		OwnerRecordLeases.Record first = this.leases.record(30_000, () -> "owner:a",
				(record) -> this.made.incrementAndGet());
		OwnerRecordLeases.Record again = this.leases.record(30_000, () -> "owner:b",
				(record) -> this.made.incrementAndGet());
		OwnerRecordLeases.Record other = this.leases.record(10_000, () -> "owner:c",
				(record) -> this.made.incrementAndGet());
		assertThat(again).isSameAs(first);
		assertThat(first.name()).isEqualTo("owner:a");
		assertThat(first.shard()).isZero();
		assertThat(other).isNotSameAs(first);
		assertThat(other.name()).isEqualTo("owner:c");
		assertThat(this.made).hasValue(2);
	}

	@Test
	void aRecordThatIsGoneIsNeverUsedAgain() {
		OwnerRecordLeases.Record first = this.leases.record(30_000, () -> "owner:a", (record) -> {
		});
		first.gone();
		OwnerRecordLeases.Record next = this.leases.record(30_000, () -> "owner:b", (record) -> {
		});
		assertThat(next).isNotSameAs(first);
		assertThat(next.name()).isEqualTo("owner:b");
	}

	@Test
	void aRecordWhoseMakingFailedIsNotKept() {
		assertThatIllegalStateException().isThrownBy(() -> this.leases.record(30_000, () -> "owner:a", (record) -> {
			throw new IllegalStateException("refused");
		})).withMessage("refused");
		OwnerRecordLeases.Record next = this.leases.record(30_000, () -> "owner:b", (record) -> {
		});
		assertThat(next.name()).isEqualTo("owner:b");
	}

	@Test
	void eachShardOfATtlClassHasARecordOfItsOwnNamedWhenAskedFor() {
		List<OwnerRecordLeases.Record> records = new ArrayList<>();
		// Out of order, so that the shards' array grows with records in it already.
		int[] shards = { 16_383, 0, 5, 1, 16_382, 700, 2 };
		for (int shard : shards) {
			records.add(this.leases.record(3_000, shard, (s, serial) -> "owner:" + s + ":" + serial,
					(record) -> this.made.incrementAndGet()));
		}
		for (int i = 0; i < shards.length; i++) {
			OwnerRecordLeases.Record record = records.get(i);
			assertThat(record.shard()).isEqualTo(shards[i]);
			assertThat(record.name()).startsWith("owner:" + shards[i] + ":");
			assertThat(
					this.leases.record(3_000, shards[i], (s, serial) -> "other", (made) -> this.made.incrementAndGet()))
				.isSameAs(record);
		}
		Set<String> names = new HashSet<>();
		records.forEach((record) -> names.add(record.name()));
		assertThat(names).hasSize(shards.length);
		assertThat(this.made).hasValue(shards.length);
		OwnerRecordLeases.Record otherTtl = this.leases.record(30_000, 5, (s, serial) -> "owner:" + s + ":" + serial,
				(record) -> this.made.incrementAndGet());
		assertThat(otherTtl).isNotSameAs(records.get(2));
	}

	@Test
	void aShardsRecordThatIsGoneGetsANewName() {
		OwnerRecordLeases.Record first = this.leases.record(3_000, 42, (s, serial) -> "owner:" + s + ":" + serial,
				(record) -> {
				});
		first.gone();
		OwnerRecordLeases.Record next = this.leases.record(3_000, 42, (s, serial) -> "owner:" + s + ":" + serial,
				(record) -> {
				});
		assertThat(next).isNotSameAs(first);
		assertThat(next.name()).isNotEqualTo(first.name());
	}

	@Test
	void aNegativeShardIsRefused() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> this.leases.record(3_000, -1, (s, serial) -> "owner", (record) -> {
			}))
			.withMessageContaining("shard");
	}

}
