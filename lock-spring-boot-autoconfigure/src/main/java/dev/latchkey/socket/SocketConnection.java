package dev.latchkey.socket;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.springframework.core.log.LogAccessor;

/**
 * A client's connection to the arbiter: requests from any thread, answers matched by request id on one reader thread,
 * which also delivers the arbiter's release pushes.
 */
final class SocketConnection implements AutoCloseable {

	private static final LogAccessor logger = new LogAccessor(SocketConnection.class);

	private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

	private final LineChannel line;

	private final Duration timeout;

	private final Consumer<String> onReleased;

	private final Consumer<String[]> onGranted;

	private final Runnable onClosed;

	private final AtomicLong ids = new AtomicLong();

	private final Map<Long, CompletableFuture<String>> pending = new ConcurrentHashMap<>();

	private final AtomicBoolean closedOnce = new AtomicBoolean();

	private volatile boolean closed;

	private SocketConnection(LineChannel line, Duration timeout, Consumer<String> onReleased,
			Consumer<String[]> onGranted, Runnable onClosed) {
		this.line = line;
		this.timeout = timeout;
		this.onReleased = onReleased;
		this.onGranted = onGranted;
		this.onClosed = onClosed;
	}

	/**
	 * Connects to the arbiter's socket.
	 * @throws IOException if nobody listens there (connection refused, no such file)
	 */
	static SocketConnection open(Path socket, String name, Duration timeout, Consumer<String> onReleased,
			Consumer<String[]> onGranted, Runnable onClosed) throws IOException {
		SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
		try {
			channel.connect(UnixDomainSocketAddress.of(socket));
		}
		catch (IOException ex) {
			channel.close();
			throw ex;
		}
		SocketConnection connection = new SocketConnection(new LineChannel(channel), timeout, onReleased, onGranted,
				onClosed);
		Thread reader = new Thread(connection::read, "latchkey-socket-client");
		reader.setDaemon(true);
		reader.start();
		connection.call("HELLO " + Protocol.encode(name), 0);
		return connection;
	}

	boolean isOpen() {
		return !this.closed;
	}

	/**
	 * Sends a request and waits for its answer.
	 * @param request the request, without its id
	 * @return the answer's fields after the id
	 * @throws IOException if the connection failed or the arbiter did not answer in time
	 */
	String[] call(String request) throws IOException {
		long id = this.ids.incrementAndGet();
		return call(id + " " + request, id).split(" ", -1);
	}

	/**
	 * Sends a request without waiting for its answer, which is dropped when it comes. For the reader thread, which
	 * must not wait for answers it reads itself.
	 * @param request the request, without its id
	 */
	void send(String request) {
		try {
			this.line.writeLine(this.ids.incrementAndGet() + " " + request);
		}
		catch (IOException ex) {
			close();
		}
	}

	private String call(String line, long id) throws IOException {
		CompletableFuture<String> answer = new CompletableFuture<>();
		this.pending.put(id, answer);
		try {
			if (this.closed) {
				throw new IOException("Connection to the lock arbiter is closed");
			}
			this.line.writeLine(line);
			spinBriefly(answer);
			String text = answer.get(this.timeout.toNanos(), TimeUnit.NANOSECONDS);
			int space = text.indexOf(' ');
			return (space < 0) ? "" : text.substring(space + 1);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IOException("Interrupted while waiting for the lock arbiter", ex);
		}
		catch (ExecutionException ex) {
			throw new IOException("Connection to the lock arbiter failed", ex.getCause());
		}
		catch (TimeoutException ex) {
			close();
			throw new IOException("The lock arbiter did not answer within " + this.timeout, ex);
		}
		finally {
			this.pending.remove(id);
		}
	}

	/**
	 * The arbiter usually answers within tens of microseconds: a short spin saves the caller a park and an unpark,
	 * which cost as much again.
	 */
	private static void spinBriefly(CompletableFuture<String> answer) {
		long deadline = System.nanoTime() + SPIN_NANOS;
		while (!answer.isDone() && System.nanoTime() - deadline < 0) {
			Thread.onSpinWait();
		}
	}

	private void read() {
		try {
			String text;
			while ((text = this.line.readLine()) != null) {
				int space = text.indexOf(' ');
				String head = (space < 0) ? text : text.substring(0, space);
				if (head.equals(Protocol.PUSH)) {
					String[] push = text.split(" ");
					if (push.length == 3 && push[1].equals("RELEASED")) {
						this.onReleased.accept(Protocol.decode(push[2]));
					}
					else if (push.length == 5 && push[1].equals("GRANTED")) {
						// key, token, fencing token
						this.onGranted.accept(new String[] { Protocol.decode(push[2]), push[3], push[4] });
					}
					continue;
				}
				CompletableFuture<String> answer = this.pending.get(Long.parseLong(head));
				if (answer != null) {
					answer.complete(text);
				}
			}
		}
		catch (IOException | RuntimeException ex) {
			if (!this.closed) {
				logger.debug(ex, "Connection to the lock arbiter failed");
			}
		}
		finally {
			close();
		}
	}

	@Override
	public void close() {
		if (!this.closedOnce.compareAndSet(false, true)) {
			return;
		}
		this.closed = true;
		this.line.close();
		IOException closed = new IOException("Connection to the lock arbiter closed");
		this.pending.values().forEach((answer) -> answer.completeExceptionally(closed));
		try {
			this.onClosed.run();
		}
		catch (RuntimeException ex) {
			logger.warn(ex, "Handling the loss of the lock arbiter failed");
		}
	}

}
