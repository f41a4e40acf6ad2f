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

package dev.latchkey.autoconfigure;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Locale;

/**
 * Whether two host names name the same host, for comparing {@code latchkey.url} with the
 * address of a client the application has.
 */
final class Hosts {

	private Hosts() {
	}

	/**
	 * Whether the two names are the same, or resolve to a common address
	 * ({@code localhost} and {@code 127.0.0.1}, say).
	 * @param first a host name or address
	 * @param second another
	 * @return whether they name the same host
	 */
	static boolean same(String first, String second) {
		String a = strip(first);
		String b = strip(second);
		if (a.equalsIgnoreCase(b)) {
			return true;
		}
		try {
			InetAddress[] addresses = InetAddress.getAllByName(a);
			return Arrays.stream(InetAddress.getAllByName(b))
				.anyMatch((address) -> Arrays.asList(addresses).contains(address));
		}
		catch (UnknownHostException ex) {
			return false;
		}
	}

	private static String strip(String host) {
		String name = host.toLowerCase(Locale.ROOT);
		return (name.startsWith("[") && name.endsWith("]")) ? name.substring(1, name.length() - 1) : name;
	}

}
