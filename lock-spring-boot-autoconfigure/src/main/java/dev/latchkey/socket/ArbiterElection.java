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

package dev.latchkey.socket;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ThreadFactory;

import org.jspecify.annotations.Nullable;

/**
 * The election of a lock directory's arbiter, and the directory's safety checks.
 * <p>
 * The directory (created owner-only, 0700) holds the socket {@code arbiter.sock}, the
 * election lock {@code arbiter.lock} and the {@link ArbiterState state} file. Whoever
 * holds the election lock (an exclusive file lock the operating system releases the
 * moment its process dies) is the arbiter: two processes can never both be. The winner
 * removes a stale socket file, checking first that it is a socket, and binds a new one.
 */
final class ArbiterElection {

	private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

	private ArbiterElection() {
	}

	/**
	 * Tries to become the directory's arbiter.
	 * @param directory the lock directory, already {@link #prepare prepared}
	 * @param ownerId the client identity of the repository that would run the arbiter
	 * @param threads makes the arbiter's thread
	 * @return the running arbiter, or {@code null} if another process (or another
	 * repository of this JVM) holds the election lock
	 * @throws IOException if the lock directory cannot be used
	 */
	static @Nullable SocketArbiter tryElect(Path directory, String ownerId, ThreadFactory threads) throws IOException {
		FileChannel channel = FileChannel.open(directory.resolve(SocketLockRepository.ELECTION),
				StandardOpenOption.CREATE, StandardOpenOption.WRITE);
		FileLock lock;
		try {
			lock = channel.tryLock();
		}
		catch (OverlappingFileLockException ex) {
			lock = null;
		}
		if (lock == null) {
			channel.close();
			return null;
		}
		try {
			Path socket = directory.resolve(SocketLockRepository.SOCKET);
			removeStaleSocket(socket);
			return new SocketArbiter(socket, lock, currentUser(), ownerId, threads);
		}
		catch (IOException | RuntimeException ex) {
			lock.release();
			channel.close();
			throw ex;
		}
	}

	private static void removeStaleSocket(Path socket) throws IOException {
		if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		// We hold the election lock, so no live arbiter serves this file. Remove it only
		// if it is a socket.
		Object mode = Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
		if (!(mode instanceof Integer bits) || (bits & 0170000) != 0140000) {
			throw new IOException(socket + " exists and is not a socket; remove it or choose another lock directory");
		}
		Files.delete(socket);
	}

	/**
	 * Creates the lock directory owner-only if needed, and checks that it belongs to this
	 * user and nobody else may enter it.
	 * @param directory the lock directory
	 * @throws IOException if it cannot be used safely, saying what to do
	 */
	static void prepare(Path directory) throws IOException {
		if (!Files.exists(directory)) {
			Files.createDirectories(directory.getParent());
			try {
				Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
			}
			catch (FileAlreadyExistsException ex) {
				// Created by another process meanwhile: checked below.
			}
		}
		PosixFileAttributeView view = Files.getFileAttributeView(directory, PosixFileAttributeView.class,
				LinkOption.NOFOLLOW_LINKS);
		if (view == null) {
			return;
		}
		PosixFileAttributes attributes = view.readAttributes();
		UserPrincipal user = currentUser();
		if (!attributes.isDirectory()) {
			throw new IOException("Lock directory " + directory + " is not a directory");
		}
		if (user != null && !attributes.owner().equals(user)) {
			throw new IOException("Lock directory " + directory + " belongs to " + attributes.owner().getName()
					+ ", not to " + user.getName() + "; choose another latchkey.socket.directory");
		}
		Set<PosixFilePermission> open = EnumSet.copyOf(attributes.permissions());
		open.removeAll(OWNER_ONLY);
		if (!open.isEmpty()) {
			throw new IOException("Lock directory " + directory + " is accessible by other users ("
					+ PosixFilePermissions.toString(attributes.permissions()) + "); run chmod 700 on it");
		}
	}

	static @Nullable UserPrincipal currentUser() {
		try {
			return FileSystems.getDefault()
				.getUserPrincipalLookupService()
				.lookupPrincipalByName(System.getProperty("user.name"));
		}
		catch (IOException | UnsupportedOperationException ex) {
			return null;
		}
	}

}
