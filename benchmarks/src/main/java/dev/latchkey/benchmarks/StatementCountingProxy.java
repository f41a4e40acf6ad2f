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

package dev.latchkey.benchmarks;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TCP proxy between the driver and PostgreSQL that reads the messages the driver sends
 * (frontend protocol v3) and counts, while counting is on, the statements it runs
 * ({@code Execute} of the extended protocol, or a simple {@code Query}) by their text and
 * the round trips ({@code Sync}, or a simple {@code Query}). The texts come from the
 * {@code Parse} of each prepared statement, so server-side prepared statements (which
 * skip {@code Parse}) are still named. Connections through it use neither SSL nor GSS
 * encryption, so the protocol can be read.
 */
final class StatementCountingProxy implements AutoCloseable {

	private static final Pattern HOST_PORT = Pattern.compile("^jdbc:postgresql://([^/:?]+)(?::(\\d+))?/");

	private final String url;

	private final String host;

	private final int port;

	private final ServerSocket server;

	private final Map<String, LongAdder> byText = new ConcurrentHashMap<>();

	private final LongAdder roundTrips = new LongAdder();

	private volatile boolean counting;

	StatementCountingProxy(String url) throws IOException {
		Matcher matcher = HOST_PORT.matcher(url);
		if (!matcher.find()) {
			throw new IllegalArgumentException("Expected jdbc:postgresql://host[:port]/database...: " + url);
		}
		this.host = matcher.group(1);
		this.port = (matcher.group(2) != null) ? Integer.parseInt(matcher.group(2)) : 5432;
		this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		String rest = url.substring(matcher.end());
		this.url = "jdbc:postgresql://127.0.0.1:" + this.server.getLocalPort() + "/" + rest
				+ (rest.contains("?") ? "&" : "?") + "sslmode=disable&gssEncMode=disable";
		Thread acceptor = new Thread(this::accept, "bench-proxy");
		acceptor.setDaemon(true);
		acceptor.start();
	}

	String url() {
		return this.url;
	}

	void reset() {
		this.byText.clear();
		this.roundTrips.reset();
		this.counting = true;
	}

	Counts counts() {
		this.counting = false;
		Map<String, Long> texts = new HashMap<>();
		this.byText.forEach((text, count) -> texts.put(text, count.sum()));
		return new Counts(texts.values().stream().mapToLong(Long::longValue).sum(), this.roundTrips.sum(), texts);
	}

	record Counts(long statements, long roundTrips, Map<String, Long> byText) {
	}

	private void accept() {
		while (!this.server.isClosed()) {
			try {
				Socket client = this.server.accept();
				Socket upstream = new Socket(this.host, this.port);
				client.setTcpNoDelay(true);
				upstream.setTcpNoDelay(true);
				daemon(() -> read(client, upstream), "bench-proxy-in");
				daemon(() -> pipe(upstream, client), "bench-proxy-out");
			}
			catch (IOException ex) {
				return;
			}
		}
	}

	private static void daemon(Runnable task, String name) {
		Thread thread = new Thread(task, name);
		thread.setDaemon(true);
		thread.start();
	}

	private static void pipe(Socket from, Socket to) {
		try (from; to) {
			from.getInputStream().transferTo(to.getOutputStream());
		}
		catch (IOException ex) {
			// One side closed.
		}
	}

	private void read(Socket client, Socket upstream) {
		try (client; upstream) {
			DataInputStream in = new DataInputStream(client.getInputStream());
			OutputStream to = new BufferedOutputStream(upstream.getOutputStream(), 65536);
			// The untyped messages first: an SSL or GSS request (refused, as the URL
			// disables both) and startup.
			while (true) {
				int length = in.readInt();
				byte[] body = in.readNBytes(length - 4);
				to.write(header(length));
				to.write(body);
				to.flush();
				int code = ((body[0] & 0xff) << 24) | ((body[1] & 0xff) << 16) | ((body[2] & 0xff) << 8)
						| (body[3] & 0xff);
				if (code != 80877103 && code != 80877104) {
					break;
				}
			}
			Map<String, String> statements = new HashMap<>();
			String bound = "";
			while (true) {
				int type = in.read();
				if (type < 0) {
					return;
				}
				int length = in.readInt();
				byte[] body = in.readNBytes(length - 4);
				if (body.length != length - 4) {
					throw new EOFException();
				}
				switch (type) {
					case 'P' -> {
						String[] strings = strings(body, 2);
						statements.put(strings[0], strings[1]);
					}
					case 'B' -> bound = statements.getOrDefault(strings(body, 2)[1], "?");
					case 'E' -> count(bound);
					case 'S' -> {
						if (this.counting) {
							this.roundTrips.increment();
						}
					}
					case 'Q' -> {
						count(strings(body, 1)[0]);
						if (this.counting) {
							this.roundTrips.increment();
						}
					}
					default -> {
					}
				}
				to.write(type);
				to.write(header(length));
				to.write(body);
				if (in.available() == 0) {
					to.flush();
				}
			}
		}
		catch (IOException ex) {
			// One side closed.
		}
	}

	private void count(String text) {
		if (this.counting) {
			String shown = text.replaceAll("\\s+", " ").trim();
			if (shown.length() > 90) {
				shown = shown.substring(0, 87) + "...";
			}
			this.byText.computeIfAbsent(shown, (key) -> new LongAdder()).increment();
		}
	}

	private static byte[] header(int length) {
		return new byte[] { (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length };
	}

	private static String[] strings(byte[] body, int count) {
		String[] strings = new String[count];
		int from = 0;
		for (int i = 0; i < count; i++) {
			int end = from;
			while (body[end] != 0) {
				end++;
			}
			strings[i] = new String(body, from, end - from, StandardCharsets.UTF_8);
			from = end + 1;
		}
		return strings;
	}

	@Override
	public void close() {
		try {
			this.server.close();
		}
		catch (IOException ex) {
			// Closing anyway.
		}
	}

}
