package dev.latchkey.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * A small web application that shows what Latchkey offers, on the embedded default backend: no lock server to run.
 * <pre class="code">
 * curl -X POST localhost:8080/orders/42/pay      # @Exclusive, fencing token
 * curl -X POST localhost:8080/reports/2025-01    # @Semaphore with two permits
 * curl -X POST localhost:8080/inventory/apple/restock?quantity=5   # LockTemplate
 * curl localhost:8080/locks                      # held locks
 * </pre>
 * A scheduled cleanup job guarded by {@code @Exclusive} runs or skips every few seconds, and every lock event is
 * logged.
 */
@SpringBootApplication
@EnableScheduling
@EnableConfigurationProperties(SampleProperties.class)
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
