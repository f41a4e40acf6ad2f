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

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Service;

import dev.latchkey.LockContext;
import dev.latchkey.annotation.Exclusive;
import dev.latchkey.annotation.Shared;

/**
 * Reads and writes documents under a read/write lock per document: any number of reads of
 * a document at once, across every instance, and a write alone. Once a write waits, new
 * reads wait behind it, so readers never starve a writer.
 */
@Service
public class DocumentService {

	private final SampleProperties properties;

	// Stands in for a document table.
	private final Map<String, String> documents = new ConcurrentHashMap<>();

	public DocumentService(SampleProperties properties) {
		this.properties = properties;
	}

	/**
	 * Reads a document, beside any other reads of it.
	 * @param id the document
	 * @return the document, with the fencing token of the shared lock it was read under
	 */
	@Shared("doc:#id")
	public Document read(String id) {
		SimulatedWork.take(this.properties.getDocumentDuration());
		return new Document(id, this.documents.getOrDefault(id, ""), LockContext.fencingToken());
	}

	/**
	 * Writes a document, alone: waits up to five seconds for the reads in progress.
	 * @param id the document
	 * @param text the new text
	 * @return the document, with the fencing token of the exclusive lock it was written
	 * under
	 */
	@Exclusive(value = "doc:#id", waitTimeString = "5s")
	public Document write(String id, String text) {
		SimulatedWork.take(this.properties.getDocumentDuration());
		this.documents.put(id, text);
		return new Document(id, text, LockContext.fencingToken());
	}

	/**
	 * A document as read or written.
	 *
	 * @param id the document
	 * @param text its text
	 * @param fencingToken the fencing token of the lock it was read or written under
	 */
	public record Document(String id, String text, long fencingToken) {
	}

}
