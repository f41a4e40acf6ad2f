#!/usr/bin/env bash
# Runs all tests: starts the servers the tests need (scripts/services.sh), then the Maven build with their addresses in
# the environment. Extra arguments go to Maven, for example 'scripts/test.sh -pl lock-spring-boot-autoconfigure'.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh)"
exec ./mvnw -B -ntp verify "$@"
