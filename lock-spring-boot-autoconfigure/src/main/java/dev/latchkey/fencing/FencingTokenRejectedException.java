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

package dev.latchkey.fencing;

import dev.latchkey.LockException;

/**
 * Thrown by a fence when a write carries an older fencing token than one that has already
 * written to the same resource: the writer's lease was lost (it expired while the writer
 * was paused, or it was force-released) and a newer holder has written since. The write
 * did not happen; in a transaction, let the exception roll it back.
 *
 * <pre class="code">
 * try {
 *     fence.run("ledger:" + account, token, () -&gt; ledger.insert(account, entry));
 * }
 * catch (FencingTokenRejectedException ex) {
 *     log.warn("Stale write to " + ex.getResource() + " refused: token " + ex.getToken() + " is older than "
 *             + ex.getCurrentToken());
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public class FencingTokenRejectedException extends LockException {

	private static final long serialVersionUID = 1L;

	private final String resource;

	private final long token;

	private final long currentToken;

	/**
	 * Makes the exception.
	 * @param resource the fenced resource
	 * @param token the token the refused write carried
	 * @param currentToken the newer token stored for the resource, or 0 when it could not
	 * be read
	 */
	public FencingTokenRejectedException(String resource, long token, long currentToken) {
		super("Write to '"
				+ resource + "' with fencing token " + token + " refused: " + ((currentToken > 0)
						? "token " + currentToken + " has written already" : "a newer token has written already")
				+ " (was the lease lost while the work ran?)");
		this.resource = resource;
		this.token = token;
		this.currentToken = currentToken;
	}

	/**
	 * The fenced resource.
	 * @return the resource name or key
	 */
	public String getResource() {
		return this.resource;
	}

	/**
	 * The fencing token of the refused write.
	 * @return the token
	 */
	public long getToken() {
		return this.token;
	}

	/**
	 * The newer token stored for the resource when the write was refused.
	 * @return the stored token, or 0 when it could not be read
	 */
	public long getCurrentToken() {
		return this.currentToken;
	}

}
