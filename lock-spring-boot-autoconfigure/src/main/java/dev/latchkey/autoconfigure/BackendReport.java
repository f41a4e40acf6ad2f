package dev.latchkey.autoconfigure;

import java.util.Locale;
import java.util.stream.Collectors;

import org.springframework.beans.factory.annotation.AnnotatedBeanDefinition;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.log.LogAccessor;
import org.springframework.core.type.MethodMetadata;

import dev.latchkey.LockRepository;
import dev.latchkey.autoconfigure.LatchkeyProperties.Backend;
import dev.latchkey.socket.SocketLockRepository;

/**
 * The one line logged at startup that names the backend Latchkey uses and why it was chosen, so that a first run
 * shows where locks live without reading the condition report:
 * <pre class="code">
 * Latchkey: using the socket backend (latchkey.backend=auto, no Redis, DataSource or etcd configured); lock directory /tmp/latchkey-alice
 * </pre>
 */
final class BackendReport {

	private static final LogAccessor logger = new LogAccessor(LatchkeyAutoConfiguration.class);

	private BackendReport() {
	}

	static void log(LockRepository repository, LatchkeyProperties properties,
			ConfigurableListableBeanFactory beanFactory) {
		logger.info(() -> describe(repository, properties, beanFactory));
	}

	static String describe(LockRepository repository, LatchkeyProperties properties,
			ConfigurableListableBeanFactory beanFactory) {
		String backend = repository.backend();
		StringBuilder line = new StringBuilder("Latchkey: using the ").append(backend).append(" backend (");
		if (!madeByLatchkey(beanFactory)) {
			line.append("the application's own LockRepository bean, ").append(repository.getClass().getName());
		}
		else if (properties.getBackend() != Backend.AUTO) {
			line.append("latchkey.backend=").append(properties.getBackend().name().toLowerCase(Locale.ROOT));
		}
		else {
			line.append("latchkey.backend=auto, ").append(switch (backend) {
				case "redis" -> "a RedisConnectionFactory bean is configured";
				case "jdbc" -> "a DataSource bean is configured";
				case "etcd" -> "latchkey.etcd.endpoints are set";
				default -> "no Redis, DataSource or etcd configured";
			});
		}
		line.append(")");
		if (repository instanceof SocketLockRepository socket) {
			line.append("; lock directory ").append(socket.getDirectory());
		}
		else if ("redis".equals(backend) && madeByLatchkey(beanFactory)) {
			line.append("; namespace ").append(properties.getRedis().getNamespace());
		}
		else if ("etcd".equals(backend) && madeByLatchkey(beanFactory)) {
			line.append("; endpoints ")
				.append(properties.getEtcd().getEndpoints().stream().map(Object::toString).collect(Collectors.joining(",")));
		}
		return line.toString();
	}

	/**
	 * Whether the repository comes from one of Latchkey's backend configurations, rather than from the application.
	 */
	private static boolean madeByLatchkey(ConfigurableListableBeanFactory beanFactory) {
		for (String name : beanFactory.getBeanNamesForType(LockRepository.class, true, false)) {
			if (!beanFactory.containsBeanDefinition(name)) {
				continue;
			}
			BeanDefinition definition = beanFactory.getBeanDefinition(name);
			if (definition instanceof AnnotatedBeanDefinition annotated) {
				MethodMetadata factoryMethod = annotated.getFactoryMethodMetadata();
				if (factoryMethod != null && factoryMethod.getDeclaringClassName()
					.startsWith(LatchkeyAutoConfiguration.class.getPackageName() + ".")) {
					return true;
				}
			}
		}
		return false;
	}

}
