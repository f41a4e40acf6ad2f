package dev.latchkey.benchmarks;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration;

/**
 * The smallest Spring Boot application that uses Latchkey the way an application does: its auto-configuration, the
 * memory backend, and an {@link Orders} bean proxied by {@code LockAnnotationBeanPostProcessor}.
 */
@Configuration(proxyBeanMethods = false)
@ImportAutoConfiguration(LatchkeyAutoConfiguration.class)
public class BenchmarkApplication {

	@Bean
	Orders orders() {
		return new Orders();
	}

	/**
	 * Starts the application, without a web server and quietly.
	 * @return the started context, to close when done
	 */
	public static ConfigurableApplicationContext start() {
		return new SpringApplicationBuilder(BenchmarkApplication.class).web(WebApplicationType.NONE)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties("latchkey.backend=memory", "logging.level.root=warn")
			.run();
	}

}
