package dev.latchkey.socket;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

import org.jspecify.annotations.Nullable;

/**
 * Lines over a blocking unix-domain {@link SocketChannel}: one thread reads, any thread writes (writes are serialized).
 * A line longer than {@link Protocol#MAX_LINE} bytes is an error.
 */
final class LineChannel implements AutoCloseable {

	private final SocketChannel channel;

	private final ByteBuffer in = ByteBuffer.allocate(8192);

	private final byte[] line = new byte[Protocol.MAX_LINE];

	private final Object writeLock = new Object();

	LineChannel(SocketChannel channel) {
		this.channel = channel;
		this.in.flip();
	}

	SocketChannel channel() {
		return this.channel;
	}

	/**
	 * Reads the next line, without its line break.
	 * @return the line, or {@code null} at the end of the stream
	 * @throws IOException if reading fails or the line is too long
	 */
	@Nullable String readLine() throws IOException {
		int length = 0;
		while (true) {
			while (this.in.hasRemaining()) {
				byte b = this.in.get();
				if (b == '\n') {
					return new String(this.line, 0, length, StandardCharsets.UTF_8);
				}
				if (length == this.line.length) {
					throw new IOException("Line longer than " + Protocol.MAX_LINE + " bytes");
				}
				this.line[length++] = b;
			}
			this.in.clear();
			int read = this.channel.read(this.in);
			this.in.flip();
			if (read < 0) {
				if (length > 0) {
					throw new EOFException("Connection closed in the middle of a line");
				}
				return null;
			}
		}
	}

	void writeLine(String text) throws IOException {
		ByteBuffer out = ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8));
		synchronized (this.writeLock) {
			while (out.hasRemaining()) {
				this.channel.write(out);
			}
		}
	}

	@Override
	public void close() {
		try {
			this.channel.close();
		}
		catch (IOException ex) {
			// Closing: nothing left to do with the channel.
		}
	}

}
