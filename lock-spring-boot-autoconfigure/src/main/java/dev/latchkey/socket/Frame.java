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

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One message on the arbiter's socket: a 4-byte big-endian length, then that many bytes
 * of fields. A field is a byte, an {@code int}, a {@code long} or a string (its UTF-8
 * length as an {@code int}, then the bytes). Which fields follow in which order is
 * {@link Protocol}'s business; this class only reads and writes them.
 */
final class Frame {

	/**
	 * The longest frame either side accepts: far above anything normal use sends
	 * (renewals and listings are split into frames of about {@link #CHUNK_BYTES}), so
	 * only a corrupt or hostile length reaches it.
	 */
	static final int MAX_BYTES = 64 * 1024 * 1024;

	/**
	 * Where a sender splits a batch of any size (renewals, re-assertions, listings) into
	 * several frames.
	 */
	static final int CHUNK_BYTES = 256 * 1024;

	private Frame() {
	}

	/**
	 * Builds one frame.
	 */
	static final class Writer {

		private ByteBuffer buffer;

		Writer(int kind) {
			this.buffer = ByteBuffer.allocate(128);
			this.buffer.putInt(0);
			this.buffer.put((byte) kind);
		}

		Writer putByte(int value) {
			room(1).put((byte) value);
			return this;
		}

		Writer putBoolean(boolean value) {
			return putByte(value ? 1 : 0);
		}

		Writer putInt(int value) {
			room(4).putInt(value);
			return this;
		}

		Writer putLong(long value) {
			room(8).putLong(value);
			return this;
		}

		Writer putString(String value) {
			byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
			room(4 + bytes.length).putInt(bytes.length).put(bytes);
			return this;
		}

		/**
		 * The bytes written so far, the length prefix included: where a sender decides to
		 * start a new frame.
		 * @return the frame's size
		 */
		int size() {
			return this.buffer.position();
		}

		/**
		 * Finishes the frame.
		 * @return the frame, ready to be written to a channel
		 */
		ByteBuffer finish() {
			this.buffer.putInt(0, this.buffer.position() - 4);
			return this.buffer.flip();
		}

		private ByteBuffer room(int bytes) {
			if (this.buffer.remaining() < bytes) {
				int needed = this.buffer.position() + bytes;
				ByteBuffer larger = ByteBuffer.allocate(Math.max(needed, this.buffer.capacity() * 2));
				larger.put(this.buffer.flip());
				this.buffer = larger;
			}
			return this.buffer;
		}

	}

	/**
	 * Reads the fields of one frame's payload, the length prefix already taken off.
	 */
	static final class Reader {

		private final ByteBuffer payload;

		Reader(ByteBuffer payload) {
			this.payload = payload;
		}

		int kind() {
			return getByte();
		}

		int getByte() {
			try {
				return this.payload.get() & 0xff;
			}
			catch (BufferUnderflowException ex) {
				throw malformed();
			}
		}

		boolean getBoolean() {
			return getByte() != 0;
		}

		int getInt() {
			try {
				return this.payload.getInt();
			}
			catch (BufferUnderflowException ex) {
				throw malformed();
			}
		}

		long getLong() {
			try {
				return this.payload.getLong();
			}
			catch (BufferUnderflowException ex) {
				throw malformed();
			}
		}

		String getString() {
			int length = getInt();
			if (length < 0 || length > this.payload.remaining()) {
				throw malformed();
			}
			String value = new String(this.payload.array(), this.payload.arrayOffset() + this.payload.position(),
					length, StandardCharsets.UTF_8);
			this.payload.position(this.payload.position() + length);
			return value;
		}

		/**
		 * A count of items that follow, checked against what is left, so a corrupt count
		 * cannot make a reader allocate without bound.
		 * @param minimumItemBytes the fewest bytes one item takes
		 * @return the count
		 */
		int getCount(int minimumItemBytes) {
			int count = getInt();
			if (count < 0 || (long) count * minimumItemBytes > this.payload.remaining()) {
				throw malformed();
			}
			return count;
		}

		/**
		 * Checks that every field was read: a frame with more is as malformed as one with
		 * less.
		 */
		void end() {
			if (this.payload.hasRemaining()) {
				throw malformed();
			}
		}

		private static IllegalArgumentException malformed() {
			return new IllegalArgumentException("Malformed frame");
		}

	}

}
