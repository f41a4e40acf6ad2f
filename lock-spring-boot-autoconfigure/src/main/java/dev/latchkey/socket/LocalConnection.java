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

import org.springframework.core.log.LogAccessor;

/**
 * The link of the repository that runs the arbiter to its own arbiter: a request is handled on the calling thread,
 * with no socket and no thread hand-off, so that the arbiter's own process locks at the cost of a method call. The
 * frames are those of the socket, so the repository treats both links alike.
 */
final class LocalConnection implements ArbiterConnection {

	private static final LogAccessor logger = new LogAccessor(LocalConnection.class);

	private final SocketArbiter arbiter;

	private final Duration timeout;

	private final Listener listener;

	private final AtomicLong ids = new AtomicLong();

	private final Map<Long, CompletableFuture<Frame.Reader>> pending = new ConcurrentHashMap<>();

	private final AtomicBoolean closed = new AtomicBoolean();

	LocalConnection(SocketArbiter arbiter, Duration timeout, Listener listener) {
		this.arbiter = arbiter;
		this.timeout = timeout;
		this.listener = listener;
	}

	@Override
	public long nextId() {
		return this.ids.incrementAndGet();
	}

	@Override
	public boolean isOpen() {
		return !this.closed.get();
	}

	@Override
	public Frame.Reader call(long id, ByteBuffer request) throws IOException {
		return call(id, request, this.timeout);
	}

	@Override
	public Frame.Reader call(long id, ByteBuffer request, Duration timeout) throws IOException {
		if (this.closed.get()) {
			throw new IOException("The lock arbiter of this repository has stopped");
		}
		// Registered first: a deferred answer (a grace period) comes as a frame, maybe from another thread.
		CompletableFuture<Frame.Reader> later = new CompletableFuture<>();
		this.pending.put(id, later);
		try {
			ByteBuffer answer = this.arbiter.handleLocal(this, request);
			if (answer != null) {
				return fieldsAfterId(answer);
			}
			return later.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IOException("Interrupted while waiting for the lock arbiter", ex);
		}
		catch (ExecutionException ex) {
			throw new IOException("The lock arbiter of this repository has stopped", ex.getCause());
		}
		catch (TimeoutException ex) {
			throw new NoAnswerException("The lock arbiter did not answer within " + timeout, ex);
		}
		finally {
			this.pending.remove(id);
		}
	}

	@Override
	public void send(ByteBuffer request) {
		if (!this.closed.get()) {
			this.arbiter.handleLocal(this, request);
		}
	}

	/**
	 * Takes a frame the arbiter sent this link: an answer that was deferred, or a push.
	 * @param frame the frame, its length prefix included
	 */
	void receive(ByteBuffer frame) {
		Frame.Reader reader = new Frame.Reader(frame.slice(4, frame.remaining() - 4));
		int kind = reader.kind();
		switch (kind) {
			case Protocol.ANSWER -> {
				CompletableFuture<Frame.Reader> answer = this.pending.get(reader.getLong());
				if (answer != null) {
					answer.complete(reader);
				}
			}
			case Protocol.PUSHED_GRANT -> this.listener.granted(this, Protocol.PushedGrant.read(reader));
			case Protocol.PUSHED_RELEASE -> this.listener.released(Protocol.readPushedRelease(reader));
			default -> logger.warn(() -> "Unknown message kind " + kind + " from the lock arbiter");
		}
	}

	private static Frame.Reader fieldsAfterId(ByteBuffer answer) {
		Frame.Reader reader = new Frame.Reader(answer.slice(4, answer.remaining() - 4));
		reader.kind();
		reader.getLong();
		return reader;
	}

	@Override
	public void close() {
		if (this.closed.compareAndSet(false, true)) {
			this.arbiter.disconnectLocal(this);
			ended();
		}
	}

	/**
	 * The arbiter stopped: the link is closed.
	 */
	void closedByArbiter() {
		if (this.closed.compareAndSet(false, true)) {
			ended();
		}
	}

	private void ended() {
		IOException gone = new IOException("The lock arbiter of this repository has stopped");
		this.pending.values().forEach((answer) -> answer.completeExceptionally(gone));
		try {
			this.listener.closed(this);
		}
		catch (RuntimeException ex) {
			logger.warn(ex, "Handling the end of the link to the lock arbiter failed");
		}
	}

}
