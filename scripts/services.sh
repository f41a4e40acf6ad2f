#!/usr/bin/env bash
# Makes sure the servers the tests need run on loopback, and prints their addresses as 'export' lines for the shell
# that runs the tests:
#
#   eval "$(scripts/services.sh)"
#
# Progress goes to standard error; standard output carries only the 'export' lines. A variable already set (for example
# LATCHKEY_REDIS_URL pointing at another server) is kept, and nothing is started for it.
set -euo pipefail

REDIS_HOST=127.0.0.1
REDIS_PORT="${LATCHKEY_REDIS_PORT:-6379}"

say() {
	echo "services.sh: $*" >&2
}

# Answers whether a Redis server answers PING on host and port, without needing redis-cli.
redis_answers() {
	local reply=""
	if exec 3<>"/dev/tcp/$1/$2"; then
		printf 'PING\r\nQUIT\r\n' >&3
		read -r -t 2 reply <&3 || true
		exec 3<&- 3>&-
	fi 2>/dev/null
	[[ "$reply" == "+PONG"* ]]
}

ensure_redis_server_binary() {
	if command -v redis-server >/dev/null 2>&1; then
		return
	fi
	if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
		say "installing redis-server"
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
	else
		say "redis-server is not installed. Install it (for example 'sudo apt-get install redis-server' or"
		say "'brew install redis'), or set LATCHKEY_REDIS_URL to a Redis server the tests may use."
		exit 1
	fi
}

ensure_redis() {
	if [[ -n "${LATCHKEY_REDIS_URL:-}" ]]; then
		say "using LATCHKEY_REDIS_URL=$LATCHKEY_REDIS_URL"
	elif redis_answers "$REDIS_HOST" "$REDIS_PORT"; then
		say "Redis answers on $REDIS_HOST:$REDIS_PORT"
		LATCHKEY_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT"
	else
		# The fault tests start redis-server processes of their own, so the binary is needed in any case.
		ensure_redis_server_binary
		say "starting redis-server on $REDIS_HOST:$REDIS_PORT (loopback only, nothing kept on disk)"
		redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
			--logfile "" >&2
		for _ in $(seq 1 100); do
			if redis_answers "$REDIS_HOST" "$REDIS_PORT"; then
				break
			fi
			sleep 0.1
		done
		if ! redis_answers "$REDIS_HOST" "$REDIS_PORT"; then
			say "redis-server did not answer on $REDIS_HOST:$REDIS_PORT (is the port taken by something else?)"
			exit 1
		fi
		LATCHKEY_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT"
	fi
	ensure_redis_server_binary
	echo "export LATCHKEY_REDIS_URL=$LATCHKEY_REDIS_URL"
}

ensure_redis
