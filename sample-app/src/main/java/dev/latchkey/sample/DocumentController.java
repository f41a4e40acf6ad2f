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

package dev.latchkey.sample;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.latchkey.sample.DocumentService.Document;

/**
 * {@code GET /documents/{id}} reads a document under its shared lock; {@code PUT} writes
 * it under the exclusive one (409 when the reads in progress outlast the wait).
 */
@RestController
public class DocumentController {

	private final DocumentService documents;

	public DocumentController(DocumentService documents) {
		this.documents = documents;
	}

	@GetMapping("/documents/{id}")
	public Document read(@PathVariable String id) {
		return this.documents.read(id);
	}

	@PutMapping("/documents/{id}")
	public Document write(@PathVariable String id, @RequestBody String text) {
		return this.documents.write(id, text);
	}

}
