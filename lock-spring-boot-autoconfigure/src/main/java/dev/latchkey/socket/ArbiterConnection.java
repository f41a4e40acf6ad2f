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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

/**
 * A client's link to the arbiter: over the socket ({@link SocketConnection}), or, for the
 * repository that runs the arbiter, a direct call into it ({@link LocalConnection}).
 * Requests and answers are {@link Protocol} frames either way, so the repository speaks
 * to both alike; this class matches answers to requests by id and hands pushes to a
 * {@link Listener}.
 */
abstract sealed class ArbiterConnection implements AutoCloseable permits SocketConnection, LocalConnection {

	private static final LogAccessor logger = new LogAccessor(ArbiterConnection.class);

	private final Duration timeout;

	private final Listener listener;

	private final AtomicLong ids = new AtomicLong();

	private final Map<Long, CompletableFuture<Frame.Reader>> pending = new ConcurrentHashMap<>();

	private final AtomicBoolean closed = new AtomicBoolean();

	ArbiterConnection(Duration timeout, Listener listener) {
		this.timeout = timeout;
		this.listener = listener;
	}

	/**
	 * A new request id.
	 * @return the id
	 */
	final long nextId() {
		return this.ids.incrementAndGet();
	}

	/**
	 * Whether the link still works.
	 * @return {@code false} once closed, by either side
	 */
	final boolean isOpen() {
		return !this.closed.get();
	}

	/**
	 * Sends a request and waits for its answer, up to the link's time-out.
	 * @param id the request's id, from {@link #nextId()}
	 * @param request the request's frame
	 * @return the answer's fields after its id
	 * @throws IOException if the link failed (it is then closed), or
	 * {@link NoAnswerException} if the arbiter did not answer in time (the link stays
	 * open: the leases it holds are not given up for a slow arbiter)
	 */
	final Frame.Reader call(long id, ByteBuffer request) throws IOException {
		return call(id, request, this.timeout);
	}

	/**
	 * Sends a request and waits for its answer.
	 * @param id the request's id, from {@link #nextId()}
	 * @param request the request's frame
	 * @param timeout how long to wait
	 * @return the answer's fields after its id
	 * @throws IOException if the link failed (it is then closed), or
	 * {@link NoAnswerException} if the arbiter did not answer in time
	 */
	final Frame.Reader call(long id, ByteBuffer request, Duration timeout) throws IOException {
		if (this.closed.get()) {
			throw new IOException("The link to the lock arbiter is closed");
		}
		// Registered first: the answer may come on another thread before transmit
		// returns.
		CompletableFuture<Frame.Reader> answer = new CompletableFuture<>();
		this.pending.put(id, answer);
		try {
			Frame.Reader immediate = transmit(request);
			if (immediate != null) {
				return immediate;
			}
			awaitBriefly(answer);
			return answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IOException("Interrupted while waiting for the lock arbiter", ex);
		}
		catch (ExecutionException ex) {
			throw new IOException("The link to the lock arbiter failed", ex.getCause());
		}
		catch (TimeoutException ex) {
			throw new NoAnswerException("The lock arbiter did not answer within " + timeout, ex);
		}
		finally {
			this.pending.remove(id);
		}
	}

	/**
	 * Sends a request without waiting for its answer, which is dropped: for the thread
	 * that delivers pushes, which must not wait.
	 * @param request the request's frame
	 */
	final void send(ByteBuffer request) {
		if (this.closed.get()) {
			return;
		}
		try {
			transmit(request);
		}
		catch (IOException ex) {
			// The link is closed: nothing more to do.
		}
	}

	/**
	 * Hands a request to the arbiter.
	 * @param request the request's frame
	 * @return the answer's fields after its id when it is known at once, or {@code null}
	 * when it comes through {@link #receive}
	 * @throws IOException if the link failed; it is then closed
	 */
	abstract Frame.@Nullable Reader transmit(ByteBuffer request) throws IOException;

	/**
	 * Waits a moment for an answer before the caller parks, where that pays.
	 * @param answer the answer
	 */
	void awaitBriefly(CompletableFuture<Frame.Reader> answer) {
	}

	/**
	 * Takes a frame from the arbiter: an answer, or a push.
	 * @param frame the frame's payload
	 */
	final void receive(Frame.Reader frame) {
		int kind = frame.kind();
		switch (kind) {
			case Protocol.ANSWER -> {
				CompletableFuture<Frame.Reader> answer = this.pending.get(frame.getLong());
				if (answer != null) {
					answer.complete(frame);
				}
			}
			case Protocol.PUSHED_GRANT -> this.listener.granted(this, Protocol.PushedGrant.read(frame));
			case Protocol.PUSHED_RELEASE -> this.listener.released(Protocol.readPushedRelease(frame));
			default -> throw new IllegalArgumentException("Unknown message kind " + kind + " from the lock arbiter");
		}
	}

	/**
	 * Closes the link: the arbiter frees the leases taken through it.
	 */
	@Override
	public final void close() {
		if (!this.closed.compareAndSet(false, true)) {
			return;
		}
		disconnect();
		IOException gone = new IOException("The link to the lock arbiter closed");
		this.pending.values().forEach((answer) -> answer.completeExceptionally(gone));
		try {
			this.listener.closed(this);
		}
		catch (RuntimeException ex) {
			logger.warn(ex, "Handling the end of the link to the lock arbiter failed");
		}
	}

	/**
	 * Ends the link at its transport, once.
	 */
	abstract void disconnect();

	/**
	 * The arbiter did not answer in time; the link is still open, and the answer is
	 * dropped if it comes.
	 */
	static final class NoAnswerException extends IOException {

		private static final long serialVersionUID = 1L;

		NoAnswerException(String message, Throwable cause) {
			super(message, cause);
		}

	}

	/**
	 * Told what the arbiter pushes, and of the link's end.
	 */
	interface Listener {

		void granted(ArbiterConnection connection, Protocol.PushedGrant grant);

		void released(String key);

		void closed(ArbiterConnection connection);

	}

}
