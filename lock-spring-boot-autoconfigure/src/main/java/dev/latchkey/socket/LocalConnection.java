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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * The link of the repository that runs the arbiter to its own arbiter: a request is
 * handled on the calling thread, with no socket and no thread hand-off, so that the
 * arbiter's own process locks at the cost of a method call. The frames are those of the
 * socket, so the repository treats both links alike.
 */
final class LocalConnection extends ArbiterConnection {

	private final SocketArbiter arbiter;

	private volatile boolean arbiterStopped;

	LocalConnection(SocketArbiter arbiter, Duration timeout, Listener listener) {
		super(timeout, listener);
		this.arbiter = arbiter;
	}

	@Override
	Frame.@Nullable Reader transmit(ByteBuffer request) throws IOException {
		ByteBuffer answer = this.arbiter.handleLocal(this, request);
		if (answer == null) {
			// Deferred (a grace period), or the link was dropped: the answer comes
			// through receive, or never.
			return null;
		}
		Frame.Reader reader = payload(answer);
		reader.kind();
		reader.getLong();
		return reader;
	}

	/**
	 * Takes a frame the arbiter sent this link: an answer that was deferred, or a push.
	 * @param frame the frame, its length prefix included
	 */
	void receive(ByteBuffer frame) {
		receive(payload(frame));
	}

	private static Frame.Reader payload(ByteBuffer frame) {
		return new Frame.Reader(frame.slice(4, frame.remaining() - 4));
	}

	@Override
	void disconnect() {
		if (!this.arbiterStopped) {
			this.arbiter.disconnectLocal(this);
		}
	}

	/**
	 * The arbiter stopped: the link is closed, and there is nothing to tell it.
	 */
	void closedByArbiter() {
		this.arbiterStopped = true;
		close();
	}

}
