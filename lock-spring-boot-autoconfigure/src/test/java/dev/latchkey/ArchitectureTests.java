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

package dev.latchkey;

import java.util.Set;
import java.util.TreeSet;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules the main code's structure follows, after Spring Boot's own architecture
 * checks: no package cycles, no case change that depends on the default locale, and
 * backends that stand apart.
 */
class ArchitectureTests {

	private static final String AUTOCONFIGURE = "dev.latchkey.autoconfigure..";

	private static final JavaClasses classes = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.importPackages("dev.latchkey");

	@Test
	void packagesAreFreeOfCycles() {
		slices().matching("(**)").should().beFreeOfCycles().check(classes);
	}

	@Test
	void caseChangesNameTheirLocale() {
		noClasses().should()
			.callMethod(String.class, "toLowerCase")
			.orShould()
			.callMethod(String.class, "toUpperCase")
			.because("the default locale changes the result (in Turkish, \"I\".toLowerCase() is not \"i\"): use "
					+ "toLowerCase(Locale.ROOT)")
			.check(classes);
	}

	@Test
	void onlyTheAutoConfigurationKnowsTheBackends() {
		Set<String> backends = backendPackages();
		assertThat(backends).contains("dev.latchkey.memory", "dev.latchkey.socket", "dev.latchkey.redis",
				"dev.latchkey.jdbc", "dev.latchkey.etcd");
		for (String backend : backends) {
			noClasses().that()
				.resideOutsideOfPackages(AUTOCONFIGURE, backend + "..")
				.should()
				.dependOnClassesThat()
				.resideInAPackage(backend + "..")
				.because("backends never import each other and the core never imports a backend")
				.check(classes);
		}
	}

	/**
	 * The packages of the main code's {@link LockRepository} implementations, the core's
	 * own aside.
	 */
	private static Set<String> backendPackages() {
		Set<String> packages = new TreeSet<>();
		for (JavaClass type : classes) {
			if (type.isAssignableTo(LockRepository.class) && !type.isInterface()
					&& !type.getPackageName().equals(LockRepository.class.getPackageName())
					&& !type.getPackageName().startsWith("dev.latchkey.autoconfigure")) {
				packages.add(type.getPackageName());
			}
		}
		return packages;
	}

}
