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
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * One connection to the arbiter, a socket or this process's own {@link LocalConnection}:
 * its half-read frame, its unsent answers, what it watches and which client it is.
 */
final class ArbiterPeer {

	// Exactly one of channel and local is set.
	private final @Nullable SocketChannel channel;

	final @Nullable LocalConnection local;

	final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();

	final Set<String> watched = new HashSet<>();

	// Set right after registration, before the peer is served.
	SelectionKey key;

	ArbiterState.@Nullable Client client;

	String name = "unnamed";

	long pendingBytes;

	private ByteBuffer in = ByteBuffer.allocate(0);

	ArbiterPeer(SocketChannel channel) {
		this.channel = channel;
		this.local = null;
	}

	ArbiterPeer(LocalConnection local) {
		this.channel = null;
		this.local = local;
		this.name = "this process";
	}

	SocketChannel socket() {
		if (this.channel == null) {
			throw new IllegalStateException("A local link has no socket");
		}
		return this.channel;
	}

	void append(ByteBuffer bytes) {
		if (this.in.remaining() < bytes.remaining()) {
			ByteBuffer larger = ByteBuffer
				.allocate(Math.max(this.in.position() + bytes.remaining(), Math.max(256, this.in.capacity() * 2)));
			larger.put(this.in.flip());
			this.in = larger;
		}
		this.in.put(bytes);
	}

	/**
	 * The next complete frame's payload, or {@code null} when more bytes are needed.
	 */
	@Nullable ByteBuffer nextFrame() {
		if (this.in.position() < 4) {
			return null;
		}
		int length = this.in.getInt(0);
		if (length < 1 || length > Frame.MAX_BYTES) {
			throw new IllegalArgumentException("Frame of " + length + " bytes");
		}
		if (this.in.position() < 4 + length) {
			return null;
		}
		byte[] payload = new byte[length];
		this.in.flip().position(4);
		this.in.get(payload);
		this.in.compact();
		return ByteBuffer.wrap(payload);
	}

}
