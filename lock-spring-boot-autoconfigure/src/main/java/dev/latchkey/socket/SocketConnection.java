package dev.latchkey.socket;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.core.log.LogAccessor;

/**
 * A client's connection to an arbiter in another process (or another repository of this one): requests from any
 * thread, each answered by id on one reader thread, which also delivers the arbiter's pushes to a {@link Listener}.
 */
final class SocketConnection implements ArbiterConnection {

	private static final LogAccessor logger = new LogAccessor(SocketConnection.class);

	private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

	private final SocketChannel channel;

	private final Duration timeout;

	private final Listener listener;

	private final AtomicLong ids = new AtomicLong();

	private final Map<Long, CompletableFuture<Frame.Reader>> pending = new ConcurrentHashMap<>();

	private final Object writing = new Object();

	private final AtomicBoolean closed = new AtomicBoolean();

	private SocketConnection(SocketChannel channel, Duration timeout, Listener listener) {
		this.channel = channel;
		this.timeout = timeout;
		this.listener = listener;
	}

	/**
	 * Connects to the arbiter's socket and introduces this client.
	 * @param socket the arbiter's socket
	 * @param client who connects
	 * @param name how the client is named in the arbiter's log
	 * @param timeout how long to wait for each answer
	 * @param listener told of pushes, and of the connection's end
	 * @return the connection
	 * @throws IOException if nobody listens there (connection refused, no such file), or the arbiter does not share
	 * this process's monotonic clock
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
		threads.newThread(connection::read).start();
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
	 * Says hello, and checks that the arbiter's monotonic clock is this process's: every grant's expiry is a reading
	 * of the arbiter's clock, which this process compares with its own.
	 */
	private void hello(ArbiterState.Client client, String name) throws IOException {
		long id = nextId();
		long sent = System.nanoTime();
		long arbiterNanos = Protocol.Hello
			.readAnswer(call(id, new Protocol.Hello(id, client.id(), name, client.pid(), client.started(), client.pidNamespace(), sent).write()));
		long received = System.nanoTime();
		if (arbiterNanos - sent < 0 || received - arbiterNanos < 0) {
			throw new IOException("The lock arbiter (" + socket() + ") does not share this process's monotonic clock"
					+ " (its reading " + arbiterNanos + " is outside [" + sent + ", " + received + "]); the processes"
					+ " of one lock directory must run on one host, in one time namespace");
		}
	}

	private String socket() {
		try {
			return String.valueOf(this.channel.getRemoteAddress());
		}
		catch (IOException ex) {
			return "?";
		}
	}

	@Override
	public long nextId() {
		return this.ids.incrementAndGet();
	}

	@Override
	public boolean isOpen() {
		return !this.closed.get();
	}

	/**
	 * Sends a request and waits for its answer, up to the connection's time-out.
	 * @param id the request's id, from {@link #nextId()}
	 * @param request the request's frame
	 * @return the answer's fields after its id
	 * @throws IOException if the connection failed (it is then closed), or {@link NoAnswerException} if the arbiter
	 * did not answer in time (the connection stays open: the leases it holds are not given up for a slow arbiter)
	 */
	@Override
	public Frame.Reader call(long id, ByteBuffer request) throws IOException {
		return call(id, request, this.timeout);
	}

	/**
	 * Sends a request and waits for its answer.
	 * @param id the request's id, from {@link #nextId()}
	 * @param request the request's frame
	 * @param timeout how long to wait
	 * @return the answer's fields after its id
	 * @throws IOException if the connection failed (it is then closed), or {@link NoAnswerException} if the arbiter
	 * did not answer in time
	 */
	@Override
	public Frame.Reader call(long id, ByteBuffer request, Duration timeout) throws IOException {
		CompletableFuture<Frame.Reader> answer = new CompletableFuture<>();
		this.pending.put(id, answer);
		try {
			write(request);
			spinBriefly(answer);
			return answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IOException("Interrupted while waiting for the lock arbiter", ex);
		}
		catch (ExecutionException ex) {
			throw new IOException("Connection to the lock arbiter failed", ex.getCause());
		}
		catch (TimeoutException ex) {
			throw new NoAnswerException("The lock arbiter did not answer within " + timeout, ex);
		}
		finally {
			this.pending.remove(id);
		}
	}

	/**
	 * Sends a request without waiting for its answer, which is dropped when it comes: for the reader thread, which
	 * must not wait for answers it reads itself.
	 * @param request the request's frame
	 */
	@Override
	public void send(ByteBuffer request) {
		try {
			write(request);
		}
		catch (IOException ex) {
			// Closed by write: nothing more to do.
		}
	}

	private void write(ByteBuffer frame) throws IOException {
		if (this.closed.get()) {
			throw new IOException("Connection to the lock arbiter is closed");
		}
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
	}

	/**
	 * The arbiter usually answers within tens of microseconds: a short spin saves the caller a park and an unpark,
	 * which cost as much again.
	 */
	private static void spinBriefly(CompletableFuture<Frame.Reader> answer) {
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
					dispatch(new Frame.Reader(ByteBuffer.wrap(payload)));
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
			if (!this.closed.get()) {
				logger.debug(ex, "Connection to the lock arbiter failed");
			}
		}
		finally {
			close();
		}
	}

	private void dispatch(Frame.Reader frame) {
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

	@Override
	public void close() {
		if (!this.closed.compareAndSet(false, true)) {
			return;
		}
		try {
			this.channel.close();
		}
		catch (IOException ex) {
			// Closing: nothing left to do with the channel.
		}
		IOException gone = new IOException("Connection to the lock arbiter closed");
		this.pending.values().forEach((answer) -> answer.completeExceptionally(gone));
		try {
			this.listener.closed(this);
		}
		catch (RuntimeException ex) {
			logger.warn(ex, "Handling the end of the connection to the lock arbiter failed");
		}
	}

}
