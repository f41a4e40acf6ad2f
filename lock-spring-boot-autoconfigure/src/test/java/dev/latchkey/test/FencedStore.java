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
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A downstream store guarded by fencing tokens, as the lock's users are told to build
 * one: a file that keeps the highest token written and rejects a write with a lower one.
 * It takes its own file lock for each write, so it stays correct whatever the lock under
 * test does, and it logs every attempt, accepted or not, next to it ({@code <file>.log})
 * for the test to check.
 *
 * <pre class="code">
 * boolean accepted = FencedStore.write(store, LockContext.fencingToken(), "pid-42");
 * List&lt;FencedStore.Attempt&gt; attempts = FencedStore.attempts(store);
 * </pre>
 * <p>
 * Used by several processes at once: the child processes and the test.
 */
public final class FencedStore {

	private FencedStore() {
	}

	/**
	 * Writes with a fencing token: accepted unless a higher token was written before.
	 * @param store the store's file
	 * @param token the writer's fencing token
	 * @param writer who writes, for the log (no spaces)
	 * @return whether the write was accepted
	 */
	public static boolean write(Path store, long token, String writer) {
		// One JVM may hold the file lock only once: its threads take turns here first.
		synchronized (FencedStore.class) {
			try (FileChannel channel = FileChannel.open(store, StandardOpenOption.CREATE, StandardOpenOption.READ,
					StandardOpenOption.WRITE); FileLock lock = channel.lock()) {
				// The highest token written so far: 8 bytes, absent before the first
				// write.
				ByteBuffer stored = ByteBuffer.allocate(Long.BYTES);
				long highest = (channel.read(stored, 0) == Long.BYTES) ? stored.getLong(0) : 0;
				boolean accepted = token >= highest;
				if (accepted) {
					ByteBuffer written = ByteBuffer.allocate(Long.BYTES).putLong(0, token);
					while (written.hasRemaining()) {
						channel.write(written, written.position());
					}
				}
				Files.writeString(log(store), (accepted ? "A " : "R ") + token + " " + highest + " " + writer + "\n",
						StandardCharsets.US_ASCII, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
				return accepted;
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Cannot write to the fenced store " + store, ex);
			}
		}
	}

	/**
	 * Every write attempted so far, in order. A line cut short by a killed writer is left
	 * out.
	 * @param store the store's file
	 * @return the attempts
	 */
	public static List<Attempt> attempts(Path store) {
		List<Attempt> attempts = new ArrayList<>();
		Path log = log(store);
		if (!Files.exists(log)) {
			return attempts;
		}
		try {
			for (String line : Files.readAllLines(log, StandardCharsets.US_ASCII)) {
				String[] fields = line.split(" ");
				if (fields.length == 4) {
					attempts.add(new Attempt(fields[0].equals("A"), Long.parseLong(fields[1]),
							Long.parseLong(fields[2]), fields[3]));
				}
			}
			return attempts;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read the log of the fenced store " + store, ex);
		}
	}

	/**
	 * The attempts the store rejected: each a write whose token went backwards.
	 * @param store the store's file
	 * @return the rejected attempts
	 */
	public static List<Attempt> rejected(Path store) {
		return attempts(store).stream().filter((attempt) -> !attempt.accepted()).toList();
	}

	private static Path log(Path store) {
		return store.resolveSibling(store.getFileName() + ".log");
	}

	/**
	 * One write attempt.
	 *
	 * @param accepted whether the store took it
	 * @param token the writer's fencing token
	 * @param highest the highest token written before it
	 * @param writer who wrote
	 */
	public record Attempt(boolean accepted, long token, long highest, String writer) {

		@Override
		public String toString() {
			return (this.accepted ? "accepted " : "REJECTED ") + this.token + " from " + this.writer + " (highest was "
					+ this.highest + ")";
		}

	}

}
