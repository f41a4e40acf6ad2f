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

package dev.latchkey.socket;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Tests for {@link Protocol}: what one side writes, the other reads back, holder
 * descriptions included.
 */
class ProtocolTests {

	private static final String DESCRIPTION = "nightly import 2026-12-05 \u00e9 \uD83D\uDD12";

	@Test
	void acquireCarriesTheDescription() {
		Protocol.Acquire sent = new Protocol.Acquire(7, "order:42", "token-1", 0, 30_000_000_000L, "app@host:1",
				DESCRIPTION, true);
		assertThat(Protocol.readRequest(reader(sent.write()))).isEqualTo(sent);
		Protocol.Acquire plain = new Protocol.Acquire(8, "order:42", "token-2", -1, 1, "app@host:1", "", false);
		assertThat(Protocol.readRequest(reader(plain.write()))).isEqualTo(plain);
	}

	@Test
	void reassertionCarriesEachClaimsDescription() {
		Protocol.Reassert sent = new Protocol.Reassert(9,
				List.of(new Protocol.Claim("a", "t1", 0, "app@host:1", 5, 100, DESCRIPTION, "owner:1"),
						new Protocol.Claim("b", "t2", 3, "app@host:1", 6, 200)));
		Protocol.Reassert read = (Protocol.Reassert) Protocol.readRequest(reader(sent.write()));
		assertThat(read.claims()).extracting(Protocol.Claim::key, Protocol.Claim::description, Protocol.Claim::record)
			.containsExactly(tuple("a", DESCRIPTION, "owner:1"), tuple("b", "", ""));
		assertThat(read).isEqualTo(sent);
	}

	@Test
	void acquireNamesItsOwnerRecordAndMayBeToldItIsGone() {
		Protocol.Acquire sent = new Protocol.Acquire(7, "order:42", "token-1", 0, 30_000_000_000L, "app@host:1", "",
				false, "owner:5f1c");
		assertThat(Protocol.readRequest(reader(sent.write()))).isEqualTo(sent);
		Frame.Reader answer = reader(Protocol.Acquire.recordGone(7));
		assertThat(answer.kind()).isEqualTo(Protocol.ANSWER);
		assertThat(answer.getLong()).isEqualTo(7);
		Protocol.AcquireOutcome outcome = Protocol.Acquire.readAnswer(answer);
		assertThat(outcome.recordGone()).isTrue();
		assertThat(outcome.granted()).isFalse();
		assertThat(outcome.held()).isFalse();
	}

	@Test
	void ownerRecordRequestsAndTheRenewalsAnswer() {
		for (int kind : new int[] { Protocol.RECORD, Protocol.RENEW_RECORD }) {
			Protocol.Request read = Protocol
				.readRequest(reader(Protocol.OwnerRecord.write(kind, 3, "owner:5f1c", 3_000_000_000L)));
			assertThat(read).isEqualTo(new Protocol.OwnerRecord(3, kind, "owner:5f1c", 3_000_000_000L));
		}
		Frame.Reader renewed = reader(Protocol.OwnerRecord.renewed(4, List.of("t1", "t2")));
		assertThat(renewed.kind()).isEqualTo(Protocol.ANSWER);
		assertThat(renewed.getLong()).isEqualTo(4);
		assertThat(Protocol.OwnerRecord.readRenewal(renewed)).containsExactly("t1", "t2");
		Frame.Reader gone = reader(Protocol.no(5));
		assertThat(gone.kind()).isEqualTo(Protocol.ANSWER);
		assertThat(gone.getLong()).isEqualTo(5);
		assertThat(Protocol.OwnerRecord.readRenewal(gone)).isNull();
	}

	@Test
	void inspectionAndListingCarryTheHoldersDescriptions() {
		LockTable.Description lock = new LockTable.Description("reports", false, 3,
				List.of(new LockTable.Description.Holder("app@host:1", 11, 1_000, DESCRIPTION),
						new LockTable.Description.Holder("app@host:2", 12, 2_000, null)));
		Frame.Reader answer = reader(Protocol.KeyOnly.lock(1, lock));
		assertThat(answer.kind()).isEqualTo(Protocol.ANSWER);
		assertThat(answer.getLong()).isOne();
		assertThat(Protocol.KeyOnly.readLock(answer)).isEqualTo(lock);

		Frame.Writer page = Protocol.ListPage.startAnswer(2);
		Protocol.ListPage.writeLocks(page, List.of(lock), false);
		Frame.Reader listed = reader(page.finish());
		assertThat(listed.kind()).isEqualTo(Protocol.ANSWER);
		assertThat(listed.getLong()).isEqualTo(2);
		assertThat(Protocol.ListPage.readAnswer(listed).locks()).containsExactly(lock);
	}

	@Test
	void acquireOfAnEarlierFormatWithoutAnOwnerRecordDoesNotParse() {
		ByteBuffer earlier = new Frame.Writer(Protocol.ACQUIRE).putLong(1)
			.putString("order:42")
			.putString("token-1")
			.putInt(0)
			.putLong(1)
			.putString("app@host:1")
			.putString("")
			.putBoolean(true)
			.finish();
		assertThatIllegalArgumentException().isThrownBy(() -> Protocol.readRequest(reader(earlier)));
	}

	@Test
	void acquireOfAnEarlierFormatWithoutADescriptionDoesNotParse() {
		// The arbiter and its clients are of one version: a frame without the field is
		// refused (and its connection closed), never read with the queue flag as part of
		// a description.
		ByteBuffer earlier = new Frame.Writer(Protocol.ACQUIRE).putLong(1)
			.putString("order:42")
			.putString("token-1")
			.putInt(0)
			.putLong(1)
			.putString("app@host:1")
			.putBoolean(true)
			.finish();
		assertThatIllegalArgumentException().isThrownBy(() -> Protocol.readRequest(reader(earlier)));
	}

	/**
	 * The payload of a written frame, its length prefix taken off as the connection does.
	 */
	private static Frame.Reader reader(ByteBuffer frame) {
		ByteBuffer payload = frame.duplicate();
		int length = payload.getInt();
		assertThat(length).isEqualTo(payload.remaining());
		return new Frame.Reader(payload.slice());
	}

}
