package dev.latchkey.socket;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The arbiter's fencing tokens: one counter for every key (so tokens strictly increase per key), kept in a file in the
 * lock directory so that the next arbiter continues above every token this one granted.
 * <p>
 * The file holds a high-water mark reserved in blocks: the arbiter writes the end of a block before granting tokens
 * from it, and a new arbiter starts at the stored mark. Tokens may skip a partly used block after an arbiter change,
 * but never go backwards. Only the arbiter, which holds the election lock, writes the file.
 */
final class FencingCounter {

	static final long BLOCK = 4096;

	private final Path file;

	private long last;

	private long reserved;

	FencingCounter(Path file) {
		this.file = file;
		this.last = read(file);
		this.reserved = this.last;
	}

	/**
	 * Whether an arbiter granted tokens from this file before.
	 * @return {@code true} if this arbiter takes over from another
	 */
	boolean isTakeover() {
		return this.last > 0;
	}

	private static long read(Path file) {
		try {
			if (!Files.exists(file)) {
				return 0;
			}
			String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
			return text.isEmpty() ? 0 : Long.parseLong(text);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read the fencing counter " + file.getFileName(), ex);
		}
		catch (NumberFormatException ex) {
			throw new IllegalStateException("Fencing counter " + file.getFileName() + " is corrupt", ex);
		}
	}

	synchronized long next() {
		if (this.last == this.reserved) {
			reserve(this.reserved + BLOCK);
		}
		return ++this.last;
	}

	private void reserve(long mark) {
		try {
			Path temporary = this.file.resolveSibling(this.file.getFileName() + ".tmp");
			Files.writeString(temporary, Long.toString(mark), StandardCharsets.US_ASCII);
			Files.move(temporary, this.file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
			this.reserved = mark;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot write the fencing counter " + this.file.getFileName(), ex);
		}
	}

}
