package dev.latchkey.socket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A client's link to the arbiter: over the socket ({@link SocketConnection}), or, for the repository that runs the
 * arbiter, a direct call into it ({@link LocalConnection}). Requests are {@link Protocol} frames either way, so the
 * repository speaks to both alike.
 */
interface ArbiterConnection extends AutoCloseable {

	/**
	 * A new request id.
	 * @return the id
	 */
	long nextId();

	/**
	 * Whether the link still works.
	 * @return {@code false} once closed, by either side
	 */
	boolean isOpen();

	/**
	 * Sends a request and waits for its answer, up to the link's time-out.
	 * @param id the request's id, from {@link #nextId()}
	 * @param request the request's frame
	 * @return the answer's fields after its id
	 * @throws IOException if the link failed (it is then closed), or {@link NoAnswerException} if the arbiter did not
	 * answer in time (the link stays open: the leases it holds are not given up for a slow arbiter)
	 */
	Frame.Reader call(long id, ByteBuffer request) throws IOException;

	/**
	 * Sends a request and waits for its answer.
	 * @param id the request's id, from {@link #nextId()}
	 * @param request the request's frame
	 * @param timeout how long to wait
	 * @return the answer's fields after its id
	 * @throws IOException if the link failed (it is then closed), or {@link NoAnswerException} if the arbiter did not
	 * answer in time
	 */
	Frame.Reader call(long id, ByteBuffer request, Duration timeout) throws IOException;

	/**
	 * Sends a request without waiting for its answer, which is dropped: for the thread that delivers pushes, which
	 * must not wait.
	 * @param request the request's frame
	 */
	void send(ByteBuffer request);

	/**
	 * Closes the link: the arbiter frees the leases taken through it.
	 */
	@Override
	void close();

	/**
	 * The arbiter did not answer in time; the link is still open, and the answer is dropped if it comes.
	 */
	final class NoAnswerException extends IOException {

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
