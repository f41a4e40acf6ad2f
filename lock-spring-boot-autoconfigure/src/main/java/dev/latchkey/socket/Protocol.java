package dev.latchkey.socket;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The arbiter's line protocol. One request or answer per line, fields separated by single spaces; keys, owners and
 * names are URL-encoded, so they never contain a space or a line break.
 * <pre>
 * HELLO name                                   -&gt; 0 OK clientId
 * id ACQ key token limit ttlMillis owner       -&gt; id OK fencingToken | id NO      (limit 0: exclusive)
 * id REL key token                             -&gt; id OK | id NO
 * id FORCE key                                 -&gt; id OK | id NO      (evicts every holder)
 * id RENEW ttlMillis key token [ttl key token]  -&gt; id LOST [token ...]
 * id INSPECT key                               -&gt; id INFO lock | id NONE
 * id DUMP                                      -&gt; id LOCKS [lock ...]
 * id WATCH key / id UNWATCH key                -&gt; id OK
 * id STATS                                     -&gt; id STATS clients keys holders grants
 * (pushed)                                     -&gt; * RELEASED key
 * </pre>
 * A lock is written {@code key,MODE,limit[,owner:fencingToken:remainingMillis]...}. A line longer than
 * {@link #MAX_LINE} or one that does not parse closes the connection that sent it, and nothing else.
 */
final class Protocol {

	static final int MAX_LINE = 16 * 1024;

	static final String PUSH = "*";

	private Protocol() {
	}

	static String encode(String text) {
		return URLEncoder.encode(text, StandardCharsets.UTF_8);
	}

	static String decode(String text) {
		return URLDecoder.decode(text, StandardCharsets.UTF_8);
	}

}
