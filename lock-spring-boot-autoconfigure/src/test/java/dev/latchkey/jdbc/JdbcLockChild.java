package dev.latchkey.jdbc;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import com.zaxxer.hikari.HikariDataSource;

import dev.latchkey.LockHandle;
import dev.latchkey.LockSettings;
import dev.latchkey.LockTemplate;

/**
 * A process that locks through the JDBC backend, for {@link JdbcLockProcessTests}. Its standard output is its
 * interface with the test; logging goes to standard error. It first prints {@code CLOCK <epochMillis>}, its wall
 * clock, so that a test can see an injected clock offset. Arguments: {@code <jdbcUrl> <table> <ttlMillis> <command>}
 * and the command's own:
 * <ul>
 * <li>{@code hold <key>}: acquires the key, prints {@code HELD <fencingToken>} and keeps renewing the lease until its
 * standard input closes;</li>
 * <li>{@code count <key> <iterations> <counterFile>}: that many times, under the lock, reads the number in the file,
 * sleeps a little and writes it back plus one (an increment that only mutual exclusion keeps exact); then prints
 * {@code DONE}.</li>
 * </ul>
 */
final class JdbcLockChild {

	private JdbcLockChild() {
	}

	public static void main(String[] args) throws Exception {
		PrintStream protocol = System.out;
		System.setOut(System.err);
		protocol.println("CLOCK " + Instant.now().toEpochMilli());
		protocol.flush();
		try (HikariDataSource dataSource = JdbcTestSupport.dataSource(args[0], 4)) {
			JdbcLockRepository repository = new JdbcLockRepository(dataSource, args[1]);
			LockSettings settings = LockSettings.defaults()
				.withOwner("child-" + ProcessHandle.current().pid())
				.withTtl(Duration.ofMillis(Long.parseLong(args[2])));
			try (LockTemplate template = new LockTemplate(repository, settings, null)) {
				String command = args[3];
				String key = args[4];
				if (command.equals("hold")) {
					LockHandle handle = template.exclusive(key).waitTime(Duration.ofSeconds(30)).acquire();
					protocol.println("HELD " + handle.fencingToken());
					protocol.flush();
					while (System.in.read() >= 0) {
						// Hold until the test is gone.
					}
				}
				else if (command.equals("count")) {
					int iterations = Integer.parseInt(args[5]);
					Path counter = Path.of(args[6]);
					for (int i = 0; i < iterations; i++) {
						template.exclusive(key).waitTime(Duration.ofSeconds(60)).run(() -> increment(counter));
					}
					protocol.println("DONE");
					protocol.flush();
				}
			}
		}
		Runtime.getRuntime().halt(0);
	}

	static void increment(Path counter) {
		try {
			int read = Integer.parseInt(Files.readString(counter, StandardCharsets.UTF_8).trim());
			Thread.sleep(2);
			Files.writeString(counter, Integer.toString(read + 1), StandardCharsets.UTF_8);
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

}
