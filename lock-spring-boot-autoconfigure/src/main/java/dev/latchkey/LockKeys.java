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

package dev.latchkey;

/**
 * What a lock key may be, and how it appears in a message: the configured prefix, the
 * longest key, the characters every backend stores alike, and an excerpt that never
 * splits a character.
 */
final class LockKeys {

	private static final int EXCERPT_LENGTH = 64;

	private LockKeys() {
	}

	/**
	 * The key a backend is asked for: the configured prefix and the key, checked.
	 * @param key the key as the application wrote it
	 * @param settings the prefix and the longest key allowed
	 * @return the full key
	 * @throws LockKeyException if the key is empty, too long, or holds characters a
	 * backend would store differently
	 */
	static String full(String key, LockSettings settings) {
		if (key == null || key.isEmpty()) {
			throw new LockKeyException("Lock key must not be empty");
		}
		String full = settings.keyPrefix().isEmpty() ? key : settings.keyPrefix() + key;
		if (full.length() > settings.maxKeyLength()) {
			throw new LockKeyException("Lock key of " + full.length() + " characters is longer than the maximum of "
					+ settings.maxKeyLength() + " (latchkey.max-key-length): '" + excerpt(full) + "...'");
		}
		checkCharacters(full);
		return full;
	}

	/**
	 * Refuses keys that backends would store differently: control characters (U+0000 to
	 * U+001F and U+007F to U+009F; the etcd backend uses NUL as a separator, and they are
	 * invisible in logs and the endpoint) and surrogates that are not part of a pair
	 * (which UTF-8 cannot encode, so Redis and etcd would see a '?').
	 */
	static void checkCharacters(String key) {
		for (int i = 0; i < key.length(); i++) {
			char c = key.charAt(i);
			String problem = null;
			if (Character.isISOControl(c)) {
				problem = "the control character " + codePoint(c);
			}
			else if (Character.isHighSurrogate(c) && i + 1 < key.length()
					&& Character.isLowSurrogate(key.charAt(i + 1))) {
				i++;
			}
			else if (Character.isSurrogate(c)) {
				problem = "the unpaired surrogate " + codePoint(c);
			}
			if (problem != null) {
				throw new LockKeyException("Lock key '" + excerpt(key) + (key.length() > EXCERPT_LENGTH ? "..." : "")
						+ "' contains " + problem + " at index " + i
						+ "; keys must not contain control characters (U+0000 to U+001F, U+007F to U+009F) or unpaired"
						+ " surrogates");
			}
		}
	}

	/**
	 * The start of a key, for a message: at most {@value #EXCERPT_LENGTH} characters,
	 * never ending between the two halves of a surrogate pair, with control characters
	 * and unpaired surrogates written as a backslash, {@code u} and four hexadecimal
	 * digits.
	 */
	static String excerpt(String key) {
		int end = Math.min(key.length(), EXCERPT_LENGTH);
		if (end < key.length() && end > 0 && Character.isHighSurrogate(key.charAt(end - 1))
				&& Character.isLowSurrogate(key.charAt(end))) {
			end--;
		}
		StringBuilder text = new StringBuilder(end);
		for (int i = 0; i < end; i++) {
			char c = key.charAt(i);
			boolean paired = Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(key.charAt(i + 1));
			if (paired) {
				text.append(c).append(key.charAt(++i));
			}
			else if (Character.isISOControl(c) || Character.isSurrogate(c)) {
				text.append(String.format("\\u%04X", (int) c));
			}
			else {
				text.append(c);
			}
		}
		return text.toString();
	}

	private static String codePoint(char c) {
		return String.format("U+%04X", (int) c);
	}

}
