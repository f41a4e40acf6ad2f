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

package dev.latchkey.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;

/**
 * A loopback TCP proxy that makes a link slow and drops connections: every chunk is
 * forwarded, in each direction, after a delay; and once {@link #cutAfterNextRequest()} is
 * called, the next chunk a client sends is forwarded to the server and then its
 * connection is cut at once (reset, both ways), so that the server acts on the request
 * and the client never hears the answer, whether the request was an acquire, a renewal or
 * a release.
 *
 * <pre class="code">
 * try (FaultyLink link = FaultyLink.start(new InetSocketAddress("127.0.0.1", 6379), 5)) {
 *     // connect to 127.0.0.1:link.port() instead
 *     link.cutAfterNextRequest();
 * }
 * </pre>
 */
public final class FaultyLink implements AutoCloseable {

	private final ServerSocket listener;

	private final InetSocketAddress target;

	private final long delayMillis;

	private final AtomicBoolean cutArmed = new AtomicBoolean();

	private final AtomicInteger cuts = new AtomicInteger();

	private volatile byte @Nullable [] cutMarker;

	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	private volatile boolean closed;

	private FaultyLink(InetSocketAddress target, long delayMillis) throws IOException {
		this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		this.target = target;
		this.delayMillis = delayMillis;
		Thread acceptor = new Thread(this::accept, "faulty-link-" + this.listener.getLocalPort());
		acceptor.setDaemon(true);
		acceptor.start();
	}

	/**
	 * Starts a proxy on a free loopback port.
	 * @param target the server
	 * @param delayMillis the delay of every chunk, in each direction
	 * @return the running proxy
	 * @throws IOException if it cannot listen
	 */
	public static FaultyLink start(InetSocketAddress target, long delayMillis) throws IOException {
		return new FaultyLink(target, delayMillis);
	}

	/**
	 * The port to connect to instead of the server's.
	 * @return the port
	 */
	public int port() {
		return this.listener.getLocalPort();
	}

	/**
	 * Arms a cut: the next chunk a client sends reaches the server, then that connection
	 * is reset.
	 */
	public void cutAfterNextRequest() {
		this.cutArmed.set(true);
	}

	/**
	 * Cuts, from now on, every connection whose client sends a chunk holding a text (as
	 * ASCII bytes): the chunk reaches the server, then that connection is reset. For
	 * example {@code "SUBSCRIBE"} cuts every Redis subscription as it is made, while the
	 * command connection carries on.
	 * @param text what marks a request to cut after
	 */
	public void cutEveryRequestContaining(String text) {
		this.cutMarker = text.getBytes(StandardCharsets.US_ASCII);
	}

	/**
	 * How many connections were cut so far.
	 * @return the number of cuts
	 */
	public int cuts() {
		return this.cuts.get();
	}

	private void accept() {
		while (!this.closed) {
			try {
				Socket client = this.listener.accept();
				Socket server = new Socket();
				server.connect(this.target, 5000);
				client.setTcpNoDelay(true);
				server.setTcpNoDelay(true);
				this.sockets.add(client);
				this.sockets.add(server);
				pump(client, server, true);
				pump(server, client, false);
			}
			catch (IOException ex) {
				// Closed, or the server refused: the client sees its connection fail.
			}
		}
	}

	private void pump(Socket from, Socket to, boolean request) {
		Thread thread = new Thread(() -> {
			byte[] buffer = new byte[64 * 1024];
			try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
				int read;
				while ((read = in.read(buffer)) >= 0) {
					if (this.delayMillis > 0) {
						Thread.sleep(this.delayMillis);
					}
					out.write(buffer, 0, read);
					out.flush();
					if (request && (this.cutArmed.compareAndSet(true, false) || marked(buffer, read))) {
						this.cuts.incrementAndGet();
						reset(from);
						reset(to);
						return;
					}
				}
			}
			catch (IOException | InterruptedException ex) {
				// The other side went, or the connection was cut.
			}
			finally {
				reset(from);
				reset(to);
			}
		}, "faulty-link-" + (request ? "request" : "answer"));
		thread.setDaemon(true);
		thread.start();
	}

	private boolean marked(byte[] chunk, int length) {
		byte[] marker = this.cutMarker;
		if (marker == null) {
			return false;
		}
		for (int from = 0; from + marker.length <= length; from++) {
			if (Arrays.equals(chunk, from, from + marker.length, marker, 0, marker.length)) {
				return true;
			}
		}
		return false;
	}

	private static void reset(Socket socket) {
		try {
			if (!socket.isClosed()) {
				// An abortive close: the peer sees a reset, not an orderly end of stream.
				socket.setSoLinger(true, 0);
				socket.close();
			}
		}
		catch (SocketException ex) {
			// Already gone.
		}
		catch (IOException ex) {
			// Already gone.
		}
	}

	@Override
	public void close() throws IOException {
		this.closed = true;
		this.listener.close();
		this.sockets.forEach(FaultyLink::reset);
	}

}
