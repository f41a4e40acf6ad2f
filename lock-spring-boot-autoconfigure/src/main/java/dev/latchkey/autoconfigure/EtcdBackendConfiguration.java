package dev.latchkey.autoconfigure;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

import javax.net.ssl.SSLException;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockRepository;
import dev.latchkey.etcd.EtcdLockRepository;

/**
 * The etcd backend: chosen by {@code latchkey.backend=etcd}, and by {@code auto} when {@code latchkey.etcd.endpoints}
 * are set. Makes a jetcd {@link Client} from {@code latchkey.etcd.*} unless the application has one. With
 * {@code auto}, etcd endpoints next to another configured backend stop the start
 * ({@link AmbiguousBackendConfiguration}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(Client.class)
@ConditionalOnMissingBean(LockRepository.class)
@Conditional(OnLockBackendCondition.Etcd.class)
class EtcdBackendConfiguration {

	@Bean(destroyMethod = "close")
	@ConditionalOnMissingBean
	Client etcdClient(LatchkeyProperties properties, ObjectProvider<SslBundles> sslBundles) {
		LatchkeyProperties.Etcd etcd = properties.getEtcd();
		List<URI> endpoints = etcd.getEndpoints();
		if (endpoints.isEmpty()) {
			throw new LockConfigurationException("latchkey.backend is etcd, but latchkey.etcd.endpoints is not set",
					"Set latchkey.etcd.endpoints to the etcd members (for example http://etcd-1:2379,http://etcd-2:2379),"
							+ " or define a jetcd Client bean; or set latchkey.backend to another backend");
		}
		for (URI endpoint : endpoints) {
			if (!("http".equals(endpoint.getScheme()) || "https".equals(endpoint.getScheme()))
					|| endpoint.getHost() == null || endpoint.getPort() < 0) {
				throw new LockConfigurationException(
						"latchkey.etcd.endpoints has '" + endpoint + "', which is not an etcd endpoint",
						"Give each member of latchkey.etcd.endpoints as http://host:port (or https://host:port with"
								+ " latchkey.etcd.ssl.bundle)");
			}
		}
		ClientBuilder builder = Client.builder().endpoints(endpoints).connectTimeout(etcd.getConnectTimeout());
		if (StringUtils.hasText(etcd.getUser())) {
			builder.user(ByteSequence.from(etcd.getUser(), StandardCharsets.UTF_8));
			String password = (etcd.getPassword() != null) ? etcd.getPassword() : "";
			builder.password(ByteSequence.from(password, StandardCharsets.UTF_8));
		}
		LatchkeyProperties.Etcd.Ssl ssl = etcd.getSsl();
		if (StringUtils.hasText(ssl.getBundle())) {
			SslBundle bundle = sslBundle(sslBundles.getIfAvailable(), ssl.getBundle());
			try {
				builder.sslContext((tls) -> {
					tls.trustManager(bundle.getManagers().getTrustManagerFactory());
					if (bundle.getStores().getKeyStore() != null) {
						tls.keyManager(bundle.getManagers().getKeyManagerFactory());
					}
				});
			}
			catch (SSLException ex) {
				throw new LockConfigurationException(
						"latchkey.etcd.ssl.bundle '" + ssl.getBundle() + "' cannot make a TLS context: " + ex.getMessage(),
						"Review the SSL bundle's certificates and keys (spring.ssl.bundle.*)", ex);
			}
		}
		if (StringUtils.hasText(ssl.getAuthority())) {
			builder.authority(ssl.getAuthority());
		}
		return builder.build();
	}

	private static SslBundle sslBundle(@Nullable SslBundles sslBundles, String name) {
		if (sslBundles == null) {
			throw new LockConfigurationException("latchkey.etcd.ssl.bundle is set, but there are no SSL bundles",
					"Define the bundle with spring.ssl.bundle.* (pem or jks)");
		}
		try {
			return sslBundles.getBundle(name);
		}
		catch (NoSuchSslBundleException ex) {
			throw new LockConfigurationException("latchkey.etcd.ssl.bundle names the SSL bundle '" + name
					+ "', which does not exist", "Define it with spring.ssl.bundle.pem." + name + ".* or"
							+ " spring.ssl.bundle.jks." + name + ".*, or correct latchkey.etcd.ssl.bundle",
					ex);
		}
	}

	@Bean(destroyMethod = "close")
	EtcdLockRepository lockRepository(Client etcdClient, LatchkeyProperties properties, Environment environment) {
		LatchkeyProperties.Etcd etcd = properties.getEtcd();
		return new EtcdLockRepository(etcdClient, etcd.getNamespace(), etcd.getRequestTimeout(),
				BackendThreads.threadFactory(environment, EtcdLockRepository.DEFAULT_THREAD_NAME_PREFIX));
	}

}
