package dev.latchkey.socket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.context.ApplicationEventPublisher;

import dev.latchkey.LockHandle;
import dev.latchkey.LockInfo;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;
import dev.latchkey.event.LockLostEvent;

/**
 * A process that locks through the socket backend, for the multi-process tests: started by
 * {@link dev.latchkey.test.ChildProcess} with the test's class path. Its standard output is its interface with the test (one line per event); logging goes to
 * standard error. It exits when its standard input closes, so it never outlives the test JVM for long.
 * <p>
 * Commands (arguments):
 * <ul>
 * <li>{@code count <dir> <file> <iterations>}: increments the integer in {@code file} under the exclusive lock
 * {@code counter}, without any other guard (read, sleep 1 ms, write), prints {@code DONE} and exits 0.</li>
 * <li>{@code hold <dir> <key>}: acquires the key, prints {@code HELD <fencingToken>}, then serves standard input;
 * prints {@code LOST <key> <reason> <wallClockMillis>} when the lease is lost.</li>
 * <li>{@code arbiter <dir>}: connects (electing itself if nobody serves the directory), prints
 * {@code ARBITER true|false}, then serves standard input.</li>
 * <li>{@code idle}: serves standard input.</li>
 * </ul>
 * Standard input (one command a line): {@code arbiter <dir>} (as above), {@code inspect <dir> <key>} (prints
 * {@code INFO <key> <fencingToken>...} or {@code NONE <key>}), {@code exit}.
 */
final class SocketLockChild {

	private static final PrintStream protocol = System.out;

	private static final Map<Path, SocketLockRepository> repositories = new ConcurrentHashMap<>();

	private static final List<LockHandle> held = new ArrayList<>();

	private SocketLockChild() {
	}

	public static void main(String[] args) throws Exception {
		// Standard output carries the protocol: keep log output away from it.
		System.setOut(System.err);
		switch (args[0]) {
			case "count" -> count(Path.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]));
			case "hold" -> hold(Path.of(args[1]), args[2]);
			case "arbiter" -> arbiter(Path.of(args[1]));
			case "idle" -> {
			}
			default -> throw new IllegalArgumentException("Unknown command " + args[0]);
		}
		serve();
	}

	private static void count(Path directory, Path file, int iterations) {
		try (LockTemplate template = new LockTemplate(repository(directory), settings(), null)) {
			for (int i = 0; i < iterations; i++) {
				template.exclusive("counter").waitTime(Duration.ofSeconds(30)).run(() -> increment(file));
			}
		}
		print("DONE");
		System.exit(0);
	}

	static void increment(Path file) {
		try {
			int value = Integer.parseInt(Files.readString(file, StandardCharsets.US_ASCII).trim());
			Thread.sleep(1);
			Files.writeString(file, Integer.toString(value + 1), StandardCharsets.US_ASCII);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while incrementing", ex);
		}
	}

	private static void hold(Path directory, String key) {
		ApplicationEventPublisher events = (event) -> {
			if (event instanceof LockLostEvent lost) {
				print("LOST " + lost.getKey() + " " + lost.getReason() + " " + System.currentTimeMillis());
			}
		};
		// Short TTL and renewal interval: a lost lease is noticed within a fraction of a second.
		LockTemplate template = new LockTemplate(repository(directory),
				settings().withTtl(Duration.ofSeconds(3)).withRenewInterval(Duration.ofMillis(200)), events);
		LockHandle handle = template.exclusive(key).waitTime(Duration.ofSeconds(30)).acquire();
		held.add(handle);
		print("HELD " + handle.fencingToken());
	}

	private static void arbiter(Path directory) {
		SocketLockRepository repository = repository(directory);
		repository.inspect("probe");
		print("ARBITER " + repository.isArbiter());
	}

	private static void inspect(Path directory, String key) {
		StringBuilder line = new StringBuilder();
		repository(directory).inspect(key).ifPresentOrElse((info) -> {
			line.append("INFO ").append(key);
			for (LockInfo.Holder holder : info.holders()) {
				line.append(' ').append(holder.fencingToken());
			}
		}, () -> line.append("NONE ").append(key));
		print(line.toString());
	}

	private static void serve() throws IOException {
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		String line;
		while ((line = in.readLine()) != null) {
			String[] command = line.split(" ");
			try {
				switch (command[0]) {
					case "arbiter" -> arbiter(Path.of(command[1]));
					case "inspect" -> inspect(Path.of(command[1]), command[2]);
					case "exit" -> System.exit(0);
					default -> print("ERROR unknown command " + command[0]);
				}
			}
			catch (RuntimeException ex) {
				ex.printStackTrace();
				print("ERROR " + ex);
			}
		}
		// The test is gone: so is this process, whatever it holds.
		Runtime.getRuntime().halt(0);
	}

	private static SocketLockRepository repository(Path directory) {
		return repositories.computeIfAbsent(directory, SocketLockRepository::new);
	}

	private static LockSettings settings() {
		return LockSettings.defaults().withOwner("child-" + ProcessHandle.current().pid());
	}

	private static void print(String line) {
		synchronized (protocol) {
			protocol.println(line);
			protocol.flush();
		}
	}

}
