#!/usr/bin/env bash
# Runs all tests: model-checks the socket backend's fail-over protocol (scripts/model-check.sh), starts the servers the
# tests need (scripts/services.sh), then the Maven build with their addresses in the environment. Extra arguments go to
# Maven, for example 'scripts/test.sh -pl lock-spring-boot-autoconfigure'.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v mvn >/dev/null 2>&1; then
	if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
		echo "test.sh: installing Maven" >&2
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >&2
	else
		echo "test.sh: Maven (mvn) is not installed; install Maven 3.8 or newer (for example 'sudo apt-get install maven')" >&2
		exit 1
	fi
fi
scripts/model-check.sh
# What services.sh started in the background for this run is stopped when this script ends, whatever Maven's outcome
# (which stays the script's exit status).
trap 'if [[ -n "${LATCHKEY_SERVICES_STARTED:-}" ]]; then scripts/services.sh stop; fi' EXIT
eval "$(scripts/services.sh)"
# install, not verify: the JDK 25 runs below build one module each (-pl), and Maven takes the other modules they need
# from the local repository, which must then hold this build's, not an older one's (or, on a fresh machine, none).
mvn -B -ntp install "$@"
# The same build's virtual-thread tests again on JDK 25 (they are skipped on 17): every backend's contract suite
# holds and waits for a key from virtual threads, and checks that Latchkey's code pins no carrier thread; the lock
# context follows wrapped work onto a virtual thread.
if [[ $# -eq 0 ]]; then
	jdk25="${LATCHKEY_JDK25_HOME:-}"
	if [[ -z "$jdk25" ]]; then
		for candidate in /usr/lib/jvm/*; do
			if [[ -x "$candidate/bin/java" ]] && "$candidate/bin/java" -version 2>&1 | grep -q 'version "25'; then
				jdk25="$candidate"
				break
			fi
		done
	fi
	if [[ -n "$jdk25" ]]; then
		echo "test.sh: the virtual-thread tests on JDK 25 ($jdk25)" >&2
		mvn -B -ntp -pl lock-spring-boot-test surefire:test -Djvm="$jdk25/bin/java" \
			-Dtest='*LockRepositoryTests#virtualThreads*' -Dsurefire.failIfNoSpecifiedTests=false
		# And the lock context carried to a virtual thread (LockContext.wrap).
		mvn -B -ntp -pl lock-spring-boot-autoconfigure surefire:test -Djvm="$jdk25/bin/java" \
			-Dtest='LockContextPropagationTests' -Dsurefire.failIfNoSpecifiedTests=false
	else
		# Not a failure: the README asks for JDK 17 or newer only (on JDK 21 or newer, the build above ran them).
		echo "test.sh: WARNING: no JDK 25 found under /usr/lib/jvm (set LATCHKEY_JDK25_HOME to one); the" >&2
		echo "test.sh: virtual-thread tests ran only if the default JDK is 21 or newer" >&2
	fi
fi
