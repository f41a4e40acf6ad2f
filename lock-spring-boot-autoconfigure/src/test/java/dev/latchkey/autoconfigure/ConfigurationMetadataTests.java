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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import org.springframework.boot.json.JsonParserFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every property the README's property tables (those whose first column is headed
 * "property") document has IDE metadata with a description: in the metadata the
 * configuration processor generates (which merges
 * {@code additional-spring-configuration-metadata.json}), or in the additional file
 * itself. A property documented but unknown to the IDE is a property users cannot
 * complete or look up.
 */
class ConfigurationMetadataTests {

	// A table row's first cell: one or more `property` names, comma-separated.
	private static final Pattern ROW = Pattern.compile("^\\| ((?:`[a-z][a-z0-9.*-]*`(?:, )?)+) \\|");

	private static final Pattern NAME = Pattern.compile("`([a-z][a-z0-9.*-]*)`");

	@Test
	void everyPropertyInTheReadmesTablesHasMetadataWithADescription() throws IOException {
		List<String> documented = documentedProperties(Path.of("../README.md"));
		assertThat(documented).contains("latchkey.backend", "management.health.latchkey.enabled",
				"latchkey.web.problem-details.enabled", "latchkey.jdbc.table-name");
		Map<String, Map<String, Object>> metadata = new HashMap<>(
				properties(Path.of("target/classes/META-INF/spring-configuration-metadata.json")));
		// The additional file adds properties and fields (a default, say) to the
		// generated ones.
		properties(Path.of("src/main/resources/META-INF/additional-spring-configuration-metadata.json"))
			.forEach((name, fields) -> metadata.merge(name, fields, (generated, added) -> {
				Map<String, Object> merged = new HashMap<>(generated);
				merged.putAll(added);
				return merged;
			}));
		for (String property : documented) {
			if (property.endsWith(".*")) {
				String prefix = property.substring(0, property.length() - 1);
				assertThat(metadata.keySet()).as("properties under %s", prefix)
					.anyMatch((name) -> name.startsWith(prefix));
				continue;
			}
			assertThat(metadata).as("metadata of %s", property).containsKey(property);
			assertThat(metadata.get(property).get("description")).as("description of %s", property)
				.asString()
				.isNotBlank();
		}
	}

	private static List<String> documentedProperties(Path readme) throws IOException {
		List<String> properties = new ArrayList<>();
		boolean inPropertyTable = false;
		for (String line : Files.readAllLines(readme)) {
			// Property tables are those whose first column is headed 'property' (not the
			// meters' or events').
			if (line.startsWith("| property |")) {
				inPropertyTable = true;
				continue;
			}
			if (!line.startsWith("|")) {
				inPropertyTable = false;
			}
			Matcher row = ROW.matcher(line);
			if (inPropertyTable && row.find()) {
				Matcher name = NAME.matcher(row.group(1));
				while (name.find()) {
					if (name.group(1).startsWith("latchkey.") || name.group(1).startsWith("management.")) {
						properties.add(name.group(1));
					}
				}
			}
		}
		return properties;
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Map<String, Object>> properties(Path metadata) throws IOException {
		Map<String, Object> json = JsonParserFactory.getJsonParser().parseMap(Files.readString(metadata));
		Map<String, Map<String, Object>> byName = new HashMap<>();
		for (Object property : (List<Object>) json.get("properties")) {
			Map<String, Object> fields = (Map<String, Object>) property;
			byName.put((String) fields.get("name"), fields);
		}
		return byName;
	}

}
