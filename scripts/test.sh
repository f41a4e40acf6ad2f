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
mvn -B -ntp verify "$@"
