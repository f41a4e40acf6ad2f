#!/usr/bin/env bash
# Makes sure the servers the tests need run on loopback, and prints their addresses as 'export' lines for the shell
# that runs the tests:
#
#   eval "$(scripts/services.sh)"
#
# Progress goes to standard error; standard output carries only the 'export' lines. A variable already set (for example
# LATCHKEY_REDIS_URL pointing at another server) is kept, and nothing is started for it.
#
# What it starts in the background (etcd) is recorded in a state directory, and stopped again by
#
#   scripts/services.sh stop
#
# which scripts/test.sh runs when Maven is done. A second run while those servers are up reuses them.
set -euo pipefail

STATE_DIR="${TMPDIR:-/tmp}/latchkey-services-$(id -u)"

REDIS_HOST=127.0.0.1
REDIS_PORT="${LATCHKEY_REDIS_PORT:-6379}"
POSTGRES_PORT=5432
MARIADB_PORT=3306

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

# Answers whether something accepts TCP connections on host and port.
port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_for_port() {
	for _ in $(seq 1 150); do
		if port_open "$1" "$2"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

can_install() {
	[[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1
}

apt_install() {
	say "installing $*"
	if [[ -z "${APT_UPDATED:-}" ]]; then
		apt-get update -qq >&2
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

ensure_redis_server_binary() {
	if command -v redis-server >/dev/null 2>&1; then
		return
	fi
	if can_install; then
		apt_install redis-server
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

# PostgreSQL on 127.0.0.1:5432 with a database 'test' that the user 'postgres' may use without a password.
ensure_postgres() {
	if [[ -n "${LATCHKEY_POSTGRES_URL:-}" ]]; then
		say "using LATCHKEY_POSTGRES_URL=$LATCHKEY_POSTGRES_URL"
	else
		if ! port_open 127.0.0.1 "$POSTGRES_PORT"; then
			if ! command -v pg_ctlcluster >/dev/null 2>&1; then
				if can_install; then
					apt_install postgresql
				else
					say "PostgreSQL does not answer on 127.0.0.1:$POSTGRES_PORT and is not installed. Install it (for"
					say "example 'sudo apt-get install postgresql'), or set LATCHKEY_POSTGRES_URL to a JDBC URL of a"
					say "database the tests may use (jdbc:postgresql://host:port/db?user=...)."
					exit 1
				fi
			fi
			local version
			version="$(ls /etc/postgresql | sort -V | tail -n 1)"
			local hba="/etc/postgresql/$version/main/pg_hba.conf"
			# The tests connect over loopback as 'postgres' without a password.
			if [[ -w "$hba" ]] && ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
				sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
			fi
			say "starting PostgreSQL $version on 127.0.0.1:$POSTGRES_PORT"
			pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
			# The package may have started the cluster before pg_hba.conf was changed.
			pg_ctlcluster --skip-systemctl-redirect "$version" main reload >&2 || true
			if ! wait_for_port 127.0.0.1 "$POSTGRES_PORT"; then
				say "PostgreSQL did not start on 127.0.0.1:$POSTGRES_PORT"
				exit 1
			fi
		fi
		if command -v psql >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] \
			&& ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
			say "creating the database 'test' in PostgreSQL"
			runuser -u postgres -- psql -qc 'CREATE DATABASE test' >&2 || true
		fi
		say "PostgreSQL answers on 127.0.0.1:$POSTGRES_PORT"
		LATCHKEY_POSTGRES_URL="jdbc:postgresql://127.0.0.1:$POSTGRES_PORT/test?user=postgres"
	fi
	echo "export LATCHKEY_POSTGRES_URL='$LATCHKEY_POSTGRES_URL'"
}

# MariaDB on 127.0.0.1:3306 with a database 'test' that 'root' may use with an empty password.
ensure_mariadb() {
	if [[ -n "${LATCHKEY_MARIADB_URL:-}" ]]; then
		say "using LATCHKEY_MARIADB_URL=$LATCHKEY_MARIADB_URL"
	else
		if ! port_open 127.0.0.1 "$MARIADB_PORT"; then
			if [[ ! -x /usr/sbin/mariadbd ]]; then
				if can_install; then
					apt_install mariadb-server
				else
					say "MariaDB does not answer on 127.0.0.1:$MARIADB_PORT and is not installed. Install it (for"
					say "example 'sudo apt-get install mariadb-server'), or set LATCHKEY_MARIADB_URL to a JDBC URL of a"
					say "database the tests may use (jdbc:mariadb://host:port/db?user=...)."
					exit 1
				fi
			fi
			say "starting MariaDB on 127.0.0.1:$MARIADB_PORT"
			mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
			start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql \
				--bind-address=127.0.0.1 >&2
			if ! wait_for_port 127.0.0.1 "$MARIADB_PORT"; then
				say "MariaDB did not start on 127.0.0.1:$MARIADB_PORT"
				exit 1
			fi
		fi
		if command -v mariadb >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] \
			&& ! mariadb -h 127.0.0.1 -u root test -e 'select 1' >/dev/null 2>&1; then
			# A fresh Debian install lets root in through the unix socket only: allow loopback with no password.
			say "letting root use the database 'test' over loopback"
			mariadb -u root -e "CREATE DATABASE IF NOT EXISTS test; ALTER USER root@localhost IDENTIFIED VIA unix_socket
				OR mysql_native_password USING PASSWORD('')" >&2 || true
		fi
		say "MariaDB answers on 127.0.0.1:$MARIADB_PORT"
		LATCHKEY_MARIADB_URL="jdbc:mariadb://127.0.0.1:$MARIADB_PORT/test?user=root"
	fi
	echo "export LATCHKEY_MARIADB_URL='$LATCHKEY_MARIADB_URL'"
}

# libfaketime: the JDBC fault tests start a process whose wall clock is hours off, to show that it changes nothing.
ensure_faketime() {
	if ! command -v faketime >/dev/null 2>&1; then
		if can_install; then
			apt_install faketime
		else
			say "faketime is not installed; the JDBC clock-offset tests will fail until it is (for example"
			say "'sudo apt-get install faketime')."
		fi
	fi
}

# Answers whether an etcd member answers /health with "true" on host and port, without needing curl or etcdctl.
etcd_healthy() {
	local reply=""
	if exec 3<>"/dev/tcp/$1/$2"; then
		printf 'GET /health HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&3
		reply="$(timeout 1 cat <&3 || true)"
		exec 3<&- 3>&-
	fi 2>/dev/null
	[[ "$reply" == *'"health":"true"'* ]]
}

ensure_etcd_binary() {
	if command -v etcd >/dev/null 2>&1; then
		return
	fi
	if can_install; then
		apt_install etcd-server
		# The package may start a system-wide etcd on the default ports; the tests use their own.
	else
		say "etcd is not installed. Install it (for example 'sudo apt-get install etcd-server' or 'brew install etcd'),"
		say "or set LATCHKEY_TEST_ETCD_ENDPOINTS and LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS to etcd servers the tests may use."
		exit 1
	fi
}

# Starts one etcd member in the background: name, client port, peer port, initial cluster, cluster token. Its data
# directory and log live in the state directory, its process id is recorded there.
start_etcd_member() {
	local name="$1" client_port="$2" peer_port="$3" cluster="$4" token="$5"
	local data="$STATE_DIR/$name"
	rm -rf "$data"
	mkdir -p "$data"
	# Short heartbeats and elections, so that leases may be as short as one second (etcd's minimum lease TTL is 1.5
	# election timeouts) and a killed leader is replaced quickly.
	nohup etcd --name "$name" --data-dir "$data/data" \
		--listen-client-urls "http://127.0.0.1:$client_port" --advertise-client-urls "http://127.0.0.1:$client_port" \
		--listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
		--initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$token" \
		--heartbeat-interval 50 --election-timeout 500 --logger zap --log-outputs stderr \
		>"$data/etcd.log" 2>&1 </dev/null &
	echo "$!" >>"$STATE_DIR/etcd.pids"
	STARTED_ETCD=1
}

await_etcd() {
	local port deadline=$((SECONDS + 30))
	for port in "$@"; do
		while ((SECONDS < deadline)) && ! etcd_healthy 127.0.0.1 "$port"; do
			sleep 0.1
		done
		if ! etcd_healthy 127.0.0.1 "$port"; then
			say "etcd did not become healthy on 127.0.0.1:$port (is the port taken by something else?); its log:"
			tail -n 20 "$STATE_DIR"/etcd-*/etcd.log >&2 || true
			stop_etcd
			exit 1
		fi
	done
}

# A single node, and a three-member cluster on other loopback ports, each only if nothing healthy answers there yet (an
# earlier run's servers are reused). The variables say TEST: Spring Boot would bind LATCHKEY_ETCD_ENDPOINTS to the
# property latchkey.etcd.endpoints, and so configure the etcd backend in every test application context.
ensure_etcd() {
	local single_port="${LATCHKEY_TEST_ETCD_PORT:-23790}" cluster_base="${LATCHKEY_TEST_ETCD_CLUSTER_PORT:-23791}"
	local cluster_ports=("$cluster_base" "$((cluster_base + 1))" "$((cluster_base + 2))")
	local endpoints="" port i
	if [[ -z "${LATCHKEY_TEST_ETCD_ENDPOINTS:-}" || -z "${LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS:-}" ]]; then
		mkdir -p "$STATE_DIR"
		chmod 700 "$STATE_DIR"
	fi
	if [[ -n "${LATCHKEY_TEST_ETCD_ENDPOINTS:-}" ]]; then
		say "using LATCHKEY_TEST_ETCD_ENDPOINTS=$LATCHKEY_TEST_ETCD_ENDPOINTS"
	elif etcd_healthy 127.0.0.1 "$single_port"; then
		say "etcd answers on 127.0.0.1:$single_port"
		LATCHKEY_TEST_ETCD_ENDPOINTS="http://127.0.0.1:$single_port"
	else
		ensure_etcd_binary
		say "starting etcd on 127.0.0.1:$single_port (loopback only, data in $STATE_DIR)"
		start_etcd_member etcd-single "$single_port" "$((single_port + 10))" \
			"etcd-single=http://127.0.0.1:$((single_port + 10))" latchkey-single
		await_etcd "$single_port"
		LATCHKEY_TEST_ETCD_ENDPOINTS="http://127.0.0.1:$single_port"
	fi
	if [[ -n "${LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS:-}" ]]; then
		say "using LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS=$LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS"
	else
		local healthy=0
		for port in "${cluster_ports[@]}"; do
			if etcd_healthy 127.0.0.1 "$port"; then
				healthy=$((healthy + 1))
			fi
		done
		if ((healthy == 3)); then
			say "an etcd cluster answers on 127.0.0.1:${cluster_ports[0]}-${cluster_ports[2]}"
		elif ((healthy > 0)); then
			say "some but not all etcd cluster members answer on 127.0.0.1:${cluster_ports[0]}-${cluster_ports[2]};"
			say "run 'scripts/services.sh stop' (or stop them) and try again"
			exit 1
		else
			ensure_etcd_binary
			say "starting a three-member etcd cluster on 127.0.0.1:${cluster_ports[0]}-${cluster_ports[2]}"
			local cluster=""
			for i in 0 1 2; do
				cluster="${cluster:+$cluster,}etcd-cluster-$i=http://127.0.0.1:$((cluster_ports[i] + 10))"
			done
			for i in 0 1 2; do
				start_etcd_member "etcd-cluster-$i" "${cluster_ports[i]}" "$((cluster_ports[i] + 10))" "$cluster" \
					latchkey-cluster
			done
			await_etcd "${cluster_ports[@]}"
		fi
		for port in "${cluster_ports[@]}"; do
			endpoints="${endpoints:+$endpoints,}http://127.0.0.1:$port"
		done
		LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS="$endpoints"
	fi
	# The etcd fault tests start etcd processes of their own, so the binary is needed in any case.
	ensure_etcd_binary
	echo "export LATCHKEY_TEST_ETCD_ENDPOINTS=$LATCHKEY_TEST_ETCD_ENDPOINTS"
	echo "export LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS=$LATCHKEY_TEST_ETCD_CLUSTER_ENDPOINTS"
	if [[ -n "${STARTED_ETCD:-}" ]]; then
		# Tells scripts/test.sh that this run started etcd, so that it stops it again (a run that reused servers
		# leaves them to whoever started them).
		echo "export LATCHKEY_SERVICES_STARTED=1"
	fi
}

# Stops the etcd processes an earlier run started (recorded in the state directory) and removes their data.
stop_etcd() {
	local pid
	if [[ -f "$STATE_DIR/etcd.pids" ]]; then
		while read -r pid; do
			# Only an etcd process: a recorded id may have been reused since.
			if [[ -n "$pid" ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == etcd* ]]; then
				say "stopping etcd (pid $pid)"
				kill "$pid" 2>/dev/null || true
			fi
		done <"$STATE_DIR/etcd.pids"
		while read -r pid; do
			for _ in $(seq 1 50); do
				[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		done <"$STATE_DIR/etcd.pids"
		rm -f "$STATE_DIR/etcd.pids"
	fi
	rm -rf "$STATE_DIR"/etcd-*
}

# The fault matrix starts PostgreSQL and MariaDB servers of its own (it pauses and kills them), from the machine's
# server packages, even where the tests' shared databases are elsewhere. Prints where PostgreSQL's programs are
# (Debian keeps them off the PATH).
ensure_database_servers() {
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
		if can_install; then
			apt_install postgresql
		else
			say "PostgreSQL's server programs (initdb, postgres) are not installed; the fault matrix will fail until"
			say "they are (for example 'sudo apt-get install postgresql')."
		fi
	fi
	if ! command -v mariadb-install-db >/dev/null 2>&1; then
		if can_install; then
			apt_install mariadb-server
		else
			say "MariaDB's server programs (mariadb-install-db, mariadbd) are not installed; the fault matrix will"
			say "fail until they are (for example 'sudo apt-get install mariadb-server')."
		fi
	fi
	local bin
	bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
	if [[ -z "$bin" ]] && command -v initdb >/dev/null 2>&1; then
		bin="$(dirname "$(command -v initdb)")"
	fi
	if [[ -n "$bin" ]]; then
		echo "export LATCHKEY_POSTGRES_BIN=$bin"
	fi
}

if [[ "${1:-}" == "stop" ]]; then
	stop_etcd
	exit 0
fi

ensure_redis
ensure_postgres
ensure_mariadb
ensure_database_servers
ensure_faketime
ensure_etcd
