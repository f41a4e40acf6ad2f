#!/usr/bin/env bash
# Runs all tests: model-checks the socket backend's fail-over protocol (scripts/model-check.sh), starts the servers the
# tests need (scripts/services.sh), then the Maven build with their addresses in the environment. Extra arguments go to
# Maven, for example 'scripts/test.sh -pl lock-spring-boot-autoconfigure'.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/model-check.sh
# What services.sh started in the background for this run is stopped when this script ends, whatever Maven's outcome
# (which stays the script's exit status).
trap 'if [[ -n "${LATCHKEY_SERVICES_STARTED:-}" ]]; then scripts/services.sh stop; fi' EXIT
eval "$(scripts/services.sh)"
mvn -B -ntp verify "$@"
