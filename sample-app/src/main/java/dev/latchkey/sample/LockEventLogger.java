package dev.latchkey.sample;

import java.util.Locale;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import dev.latchkey.event.LockEvent;

/**
 * Logs every lock event on one line: acquired, released, renewed, not acquired and lost.
 * <pre class="code">
 * LockEventLogger : acquired     key=order:42 name=order:#id fencingToken=3 wait=0ms hold=0ms
 * LockEventLogger : released     key=order:42 name=order:#id fencingToken=3 wait=0ms hold=2004ms
 * </pre>
 */
@Component
public class LockEventLogger {

	private static final Log logger = LogFactory.getLog(LockEventLogger.class);

	@EventListener
	public void log(LockEvent event) {
		if (logger.isInfoEnabled()) {
			logger.info(String.format("%-12s key=%s name=%s fencingToken=%d wait=%dms hold=%dms", type(event),
					event.getKey(), event.getName(), event.getFencingToken(), event.getWaitDuration().toMillis(),
					event.getHoldDuration().toMillis()));
		}
	}

	private static String type(LockEvent event) {
		// LockNotAcquiredEvent -> not-acquired
		String name = event.getClass().getSimpleName().replaceFirst("^Lock", "").replaceFirst("Event$", "");
		return name.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
	}

}
