package dev.latchkey.test;

import java.util.List;

/**
 * The live threads of this JVM as a user sees them in a thread dump: by name.
 */
public final class LiveThreads {

	private LiveThreads() {
	}

	/**
	 * The names of the live threads whose name starts with a prefix.
	 * @param prefix the prefix
	 * @return their names, sorted
	 */
	public static List<String> named(String prefix) {
		return Thread.getAllStackTraces()
			.keySet()
			.stream()
			.filter(Thread::isAlive)
			.map(Thread::getName)
			.filter((name) -> name.startsWith(prefix))
			.sorted()
			.toList();
	}

}
