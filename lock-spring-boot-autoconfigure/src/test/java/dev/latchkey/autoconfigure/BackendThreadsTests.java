package dev.latchkey.autoconfigure;

import java.util.concurrent.ThreadFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link BackendThreads}: the backends' threads follow Spring Boot's {@code spring.threads.virtual.enabled}.
 */
class BackendThreadsTests {

	@Test
	void daemonPlatformThreadsByDefault() throws Exception {
		Thread thread = newThread(new MockEnvironment());
		assertThat(thread.getName()).startsWith("latchkey-test-");
		assertThat(thread.isDaemon()).isTrue();
		assertThat(isVirtual(thread)).isFalse();
	}

	@Test
	@EnabledForJreRange(min = JRE.JAVA_21)
	void virtualThreadsWhenTheApplicationEnablesThem() throws Exception {
		Thread thread = newThread(new MockEnvironment().withProperty("spring.threads.virtual.enabled", "true"));
		assertThat(thread.getName()).startsWith("latchkey-test-");
		assertThat(isVirtual(thread)).isTrue();
	}

	@Test
	@EnabledForJreRange(max = JRE.JAVA_20)
	void platformThreadsBeforeJava21EvenWhenEnabled() throws Exception {
		Thread thread = newThread(new MockEnvironment().withProperty("spring.threads.virtual.enabled", "true"));
		assertThat(thread.getName()).startsWith("latchkey-test-");
		assertThat(thread.isDaemon()).isTrue();
		assertThat(isVirtual(thread)).isFalse();
	}

	private static Thread newThread(MockEnvironment environment) {
		ThreadFactory threads = BackendThreads.threadFactory(environment, "latchkey-test-");
		return threads.newThread(() -> {
		});
	}

	// Thread.isVirtual() is Java 21 API; the library compiles for Java 17.
	private static boolean isVirtual(Thread thread) throws Exception {
		try {
			return (boolean) Thread.class.getMethod("isVirtual").invoke(thread);
		}
		catch (NoSuchMethodException ex) {
			return false;
		}
	}

}
