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

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;

/**
 * A client's connection to an arbiter in another process (or another repository of this
 * one): requests from any thread, answers and pushes read by one reader thread.
 */
final class SocketConnection extends ArbiterConnection {

	private static final LogAccessor logger = new LogAccessor(SocketConnection.class);

	private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

	private final SocketChannel channel;

	private final Object writing = new Object();

	private @Nullable Thread reader;

	private SocketConnection(SocketChannel channel, Duration timeout, Listener listener) {
		super(timeout, listener);
		this.channel = channel;
	}

	/**
	 * Connects to the arbiter's socket and introduces this client.
	 * @param socket the arbiter's socket
	 * @param client who connects
	 * @param name how the client is named in the arbiter's log
	 * @param timeout how long to wait for each answer
	 * @param listener told of pushes, and of the connection's end
	 * @param threads makes the reader thread
	 * @return the connection
	 * @throws IOException if nobody listens there (connection refused, no such file), or
	 * the arbiter does not share this process's monotonic clock
	 */
	static SocketConnection open(Path socket, ArbiterState.Client client, String name, Duration timeout,
			Listener listener, ThreadFactory threads) throws IOException {
		SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
		try {
			channel.connect(UnixDomainSocketAddress.of(socket));
		}
		catch (IOException ex) {
			channel.close();
			throw ex;
		}
		SocketConnection connection = new SocketConnection(channel, timeout, listener);
		Thread reader = threads.newThread(connection::read);
		connection.reader = reader;
		reader.start();
		try {
			connection.hello(client, name);
		}
		catch (IOException ex) {
			connection.close();
			throw ex;
		}
		return connection;
	}

	/**
	 * Says hello, and checks that the arbiter's monotonic clock is this process's: every
	 * grant's expiry is a reading of the arbiter's clock, which this process compares
	 * with its own.
	 */
	private void hello(ArbiterState.Client client, String name) throws IOException {
		long id = nextId();
		long sent = System.nanoTime();
		long arbiterNanos = Protocol.Hello.readAnswer(call(id,
				new Protocol.Hello(id, client.id(), name, client.pid(), client.started(), client.pidNamespace(), sent)
					.write()));
		long received = System.nanoTime();
		if (arbiterNanos - sent < 0 || received - arbiterNanos < 0) {
			throw new IOException("The lock arbiter does not share this process's monotonic clock (its reading "
					+ arbiterNanos + " is outside [" + sent + ", " + received + "]); the processes of one lock"
					+ " directory must run on one host, in one time namespace");
		}
	}

	@Override
	Frame.@Nullable Reader transmit(ByteBuffer frame) throws IOException {
		try {
			synchronized (this.writing) {
				while (frame.hasRemaining()) {
					this.channel.write(frame);
				}
			}
		}
		catch (IOException ex) {
			close();
			throw ex;
		}
		return null;
	}

	/**
	 * The arbiter usually answers within tens of microseconds: a short spin saves the
	 * caller a park and an unpark, which cost as much again.
	 */
	@Override
	void awaitBriefly(CompletableFuture<Frame.Reader> answer) {
		long deadline = System.nanoTime() + SPIN_NANOS;
		while (!answer.isDone() && System.nanoTime() - deadline < 0) {
			Thread.onSpinWait();
		}
	}

	private void read() {
		ByteBuffer in = ByteBuffer.allocate(64 * 1024);
		try {
			while (true) {
				if (this.channel.read(in) < 0) {
					if (in.position() > 0) {
						throw new EOFException("Connection closed in the middle of a frame");
					}
					return;
				}
				in.flip();
				while (in.remaining() >= 4) {
					int length = in.getInt(in.position());
					if (length < 1 || length > Frame.MAX_BYTES) {
						throw new IOException("Frame of " + length + " bytes from the lock arbiter");
					}
					if (in.remaining() < 4 + length) {
						break;
					}
					byte[] payload = new byte[length];
					in.position(in.position() + 4);
					in.get(payload);
					receive(new Frame.Reader(ByteBuffer.wrap(payload)));
				}
				in.compact();
				if (in.remaining() == 0) {
					int needed = (in.position() >= 4) ? 4 + in.getInt(0) : in.capacity() * 2;
					ByteBuffer larger = ByteBuffer.allocate(Math.max(needed, in.capacity() * 2));
					larger.put(in.flip());
					in = larger;
				}
			}
		}
		catch (IOException | RuntimeException ex) {
			if (isOpen()) {
				logger.debug(ex, "Connection to the lock arbiter failed");
			}
		}
		finally {
			close();
		}
	}

	/**
	 * Closes the channel, which ends the reader thread; waits briefly for it to end,
	 * unless called on it.
	 */
	@Override
	void disconnect() {
		try {
			this.channel.close();
		}
		catch (IOException ex) {
			// Closing: nothing left to do with the channel.
		}
		Thread reader = this.reader;
		if (reader != null && reader != Thread.currentThread()) {
			try {
				reader.join(TimeUnit.SECONDS.toMillis(1));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

}
