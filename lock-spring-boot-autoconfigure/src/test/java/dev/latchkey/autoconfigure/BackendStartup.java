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

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.latchkey.LockConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the backends' auto-configuration tests share: the failure analysis a user would
 * read, and a Redis connection factory that only has to exist.
 */
final class BackendStartup {

	private BackendStartup() {
	}

	/**
	 * The analysis of a failed start by Latchkey's failure analyzer, which must recognise
	 * it.
	 * @param failure the start's failure
	 * @return the analysis
	 */
	static FailureAnalysis analyze(Throwable failure) {
		FailureAnalysis analysis = new LockConfigurationFailureAnalyzer().analyze(failure);
		assertThat(analysis).as("analysis of %s", failure).isNotNull();
		assertThat(analysis.getCause()).isInstanceOf(LockConfigurationException.class);
		return analysis;
	}

	/**
	 * A class loader of the test's class path without some of its jars, to load Latchkey
	 * again where a library is absent rather than hidden: a FilteredClassLoader cannot
	 * hide a library from the classes it did not load.
	 * @param jarNamePrefixes how the names of the jars to leave out begin
	 * ("reactor-core")
	 * @return the class loader, over the platform class loader
	 */
	static URLClassLoader classLoaderWithout(String... jarNamePrefixes) {
		URL[] urls = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
			.map(File::new)
			.filter((entry) -> Arrays.stream(jarNamePrefixes).noneMatch(entry.getName()::startsWith))
			.map(BackendStartup::url)
			.toArray(URL[]::new);
		return new URLClassLoader(urls, ClassLoader.getPlatformClassLoader());
	}

	private static URL url(File entry) {
		try {
			return entry.toURI().toURL();
		}
		catch (MalformedURLException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * A RedisConnectionFactory bean that is never connected: for tests that only look at
	 * which beans are made.
	 */
	@Configuration(proxyBeanMethods = false)
	static class UnconnectedRedisConfiguration {

		@Bean
		RedisConnectionFactory redisConnectionFactory() {
			return new LettuceConnectionFactory();
		}

	}

}
