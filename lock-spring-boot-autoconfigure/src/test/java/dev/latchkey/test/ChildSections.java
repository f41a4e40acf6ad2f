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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.Consumer;

import dev.latchkey.LockBackendException;
import dev.latchkey.LockContext;
import dev.latchkey.LockLostException;
import dev.latchkey.LockTemplate;

/**
 * The critical sections that the tests' child processes ({@link FaultChild} and the
 * socket backend's own child) run, so that every backend's process tests check the same
 * work. Each prints its events as protocol lines through the child's printer.
 *
 * <pre class="code">
 * String how = ChildSections.guard(template, "order:42", Duration.ofSeconds(30), store, Child::print);
 * print("ENDED " + how);
 * </pre>
 */
public final class ChildSections {

	private ChildSections() {
	}

	/**
	 * Takes a key and, holding it, checks the lease every 50 ms
	 * ({@code LockContext.assertHeld()}) and writes its fencing token to a
	 * {@link FencedStore} as {@code holder-<pid>}, until the check fails. Prints
	 * {@code HELD <token>} when granted, {@code WROTE <token> <accepted>} after the first
	 * write and {@code ASSERT_FAILED <reason> <epochMillis>} when the check fails.
	 * @param template the template to lock with
	 * @param key the key
	 * @param waitTime how long to wait for the key
	 * @param store the fenced store
	 * @param print the child's printer of protocol lines
	 * @return how the section ended: {@code assert-failed}, {@code interrupted},
	 * {@code lost-<reason>} or {@code error-<exception>}
	 */
	public static String guard(LockTemplate template, String key, Duration waitTime, Path store,
			Consumer<String> print) {
		String writer = "holder-" + ProcessHandle.current().pid();
		try {
			return template.exclusive(key).waitTime(waitTime).call(() -> {
				long token = LockContext.fencingToken();
				print.accept("HELD " + token);
				boolean first = true;
				while (true) {
					try {
						LockContext.assertHeld();
					}
					catch (LockLostException ex) {
						print.accept("ASSERT_FAILED " + ex.getReason() + " " + System.currentTimeMillis());
						return "assert-failed";
					}
					boolean accepted = FencedStore.write(store, token, writer);
					if (first) {
						print.accept("WROTE " + token + " " + accepted);
						first = false;
					}
					try {
						Thread.sleep(50);
					}
					catch (InterruptedException ex) {
						return "interrupted";
					}
				}
			});
		}
		catch (LockLostException ex) {
			return "lost-" + ex.getReason();
		}
		catch (RuntimeException ex) {
			ex.printStackTrace();
			return "error-" + oneLine(ex);
		}
	}

	/**
	 * Takes a key once, waiting for it. Granted, writes its fencing token to a
	 * {@link FencedStore} as {@code waiter-<pid>} and prints
	 * {@code RAN <token> <accepted>}; otherwise prints {@code NOT_ACQUIRED}. Prints
	 * {@code ABORTED <reason>} if the lease turned out lost. A call that fails with
	 * {@link LockBackendException} (a request that timed out as the process was paused
	 * and resumed, say) prints {@code RETRY <exception>} and is made again, as an
	 * application would, while the wait time lasts; after it, or for any other failure,
	 * prints {@code ERROR <exception>}.
	 * @param template the template to lock with
	 * @param key the key
	 * @param ttl the lease's TTL
	 * @param waitTime how long to wait for the key
	 * @param store the fenced store
	 * @param print the child's printer of protocol lines
	 */
	public static void waitFor(LockTemplate template, String key, Duration ttl, Duration waitTime, Path store,
			Consumer<String> print) {
		String writer = "waiter-" + ProcessHandle.current().pid();
		long deadline = System.nanoTime() + waitTime.toNanos();
		while (true) {
			try {
				Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
				template.exclusive(key).ttl(ttl).waitTime(left).call(() -> {
					long token = LockContext.fencingToken();
					print.accept("RAN " + token + " " + FencedStore.write(store, token, writer));
					return true;
				}, () -> {
					print.accept("NOT_ACQUIRED");
					return false;
				});
				return;
			}
			catch (LockLostException ex) {
				print.accept("ABORTED " + ex.getReason());
				return;
			}
			catch (LockBackendException ex) {
				ex.printStackTrace();
				if (deadline - System.nanoTime() <= 0) {
					print.accept("ERROR " + oneLine(ex));
					return;
				}
				print.accept("RETRY " + oneLine(ex));
			}
			catch (RuntimeException ex) {
				ex.printStackTrace();
				print.accept("ERROR " + oneLine(ex));
				return;
			}
		}
	}

	/**
	 * Increments the integer in a file with nothing but the lock to guard it: read,
	 * sleep, write. Two holders at once lose an update. The new value replaces the file
	 * by an atomic rename, so that a writer killed meanwhile leaves the old value or the
	 * new, never half a number.
	 * @param counter the file
	 * @param holdMillis how long to sleep between the read and the write
	 * @return the value written
	 */
	public static int increment(Path counter, long holdMillis) {
		try {
			int value = Integer.parseInt(Files.readString(counter, StandardCharsets.US_ASCII).trim());
			Thread.sleep(holdMillis);
			Path next = counter.resolveSibling(
					counter.getFileName() + "." + ProcessHandle.current().pid() + "." + Thread.currentThread().getId());
			Files.writeString(next, Integer.toString(value + 1), StandardCharsets.US_ASCII);
			Files.move(next, counter, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
			return value + 1;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while incrementing", ex);
		}
	}

	/**
	 * An exception on one protocol line.
	 * @param ex the exception
	 * @return its description with no line break
	 */
	public static String oneLine(Exception ex) {
		return ex.toString().replace('\n', ' ');
	}

}
