#!/usr/bin/env bash
# Model-checks the socket backend's arbiter fail-over protocol (scripts/model/socket-failover.pml) with SPIN:
#
#   1. the design: the full state space must be explored with no error (exclusion and fencing hold);
#   2. the mutants, each with one part of the design removed, must each find a violation, which shows that the model
#      and its checks can fail: NO_GRACE (no grace period after fail-over), NO_ANCHOR (no validity anchor on grants
#      and renewals), NO_FENCE_STATE (a new arbiter restarts the fencing counter).
#
# Exits non-zero if the design has an error or its search was incomplete, or if a mutant finds no violation.
# Needs spin and gcc: installs them with apt-get when missing and running as root, otherwise says how to install them.
# Works in a temporary directory, removed at the end; prints a summary of each run, with the counterexample a mutant
# found (the model's narration of the steps).
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL="$PWD/scripts/model/socket-failover.pml"

say() {
	echo "model-check.sh: $*" >&2
}

can_install() {
	[[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1
}

ensure_tool() {
	local tool="$1" package="$2"
	if command -v "$tool" >/dev/null 2>&1; then
		return
	fi
	if can_install; then
		say "installing $package"
		if [[ -z "${APT_UPDATED:-}" ]]; then
			apt-get update -qq >&2
			APT_UPDATED=1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2
	else
		say "$tool is not installed. Install it (for example 'sudo apt-get install $package', or 'brew install $package'"
		say "on macOS), then run this script again."
		exit 1
	fi
}

ensure_tool spin spin
ensure_tool gcc gcc

WORK="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-model.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Runs one verification in its own directory: run NAME EXPECT [SPIN_DEFINES...], EXPECT being 'holds' or 'fails'.
# The design is searched depth-first (exhaustive, -DSAFETY: assertions and invalid end states); a mutant
# breadth-first, so that the violation it reports is a shortest one.
FAILED=0
run() {
	local name="$1" expect="$2"
	shift 2
	local dir="$WORK/$name"
	mkdir -p "$dir"
	cp "$MODEL" "$dir/model.pml"
	local search=()
	if [[ "$expect" == fails ]]; then
		search=(-DBFS)
	fi
	(
		cd "$dir"
		spin -a "$@" model.pml >spin.log 2>&1 || { cat spin.log >&2; exit 1; }
		# -w: SPIN's generated C draws spurious array-bounds warnings from recent gcc.
		gcc -O2 -w -DSAFETY -DNOBOUNDCHECK -DMEMLIM=4096 "${search[@]}" -o pan pan.c
		./pan -m100000 -w24 >pan.log 2>&1 || true
	) || { say "$name: could not build the verifier"; FAILED=1; return; }

	local log="$dir/pan.log"
	local states errors elapsed violation incomplete=""
	states="$(awk '/states, stored/ { print $1; exit }' "$log")"
	errors="$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)"
	elapsed="$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' "$log" | head -n 1)"
	violation="$(grep -m 1 -E '^pan:[0-9]+: ' "$log" | sed 's/^pan:[0-9]*: *//; s/ (at depth \([0-9]*\))$/, at depth \1/' || true)"
	if grep -qiE 'search not completed|max search depth too small|out of memory|reached -DMEMLIM|hash table is full' "$log"; then
		incomplete=yes
	fi
	if [[ -z "$states" || -z "$errors" ]]; then
		say "$name: no result from the verifier:"
		cat "$log" >&2
		FAILED=1
		return
	fi

	local verdict
	if [[ "$expect" == holds ]]; then
		if [[ "$errors" == 0 && -z "$incomplete" ]]; then
			verdict="holds (complete search)"
		else
			verdict="FAILED"
			FAILED=1
		fi
	else
		if [[ "$errors" != 0 && "$violation" == "assertion violated"* ]]; then
			verdict="violation found, as expected"
		else
			verdict="FAILED: no violation found"
			FAILED=1
		fi
	fi
	printf 'model-check.sh: %-15s %9s states, %s error(s), %ss: %s\n' "$name" "$states" "$errors" "${elapsed:-0}" \
		"$verdict"
	if [[ -n "$violation" ]]; then
		local what="$violation"
		if [[ "$what" == *"valid["* ]]; then
			# The exclusion monitor's expression is long: name the property instead.
			what="exclusion: two clients believe they hold the key${what##*)}"
		fi
		echo "model-check.sh:   $what"
	fi
	if [[ "$verdict" == FAILED* ]]; then
		grep -iE 'search not completed|max search depth too small|out of memory|MEMLIM|hash table is full' "$log" || true
	fi
	if [[ -f "$dir/model.pml.trail" ]]; then
		# The counterexample, as the model's own narration (its printf lines), without the final variable dump.
		echo "model-check.sh:   counterexample:"
		(cd "$dir" && spin -t -T "$@" model.pml 2>&1) |
			awk '/^spin: |^#processes|^[0-9]+ processes created|^[ \t]*[0-9]+:[ \t]*proc |^[ \t]*[A-Za-z_]+(\[[0-9]+\])? = / { next }
				{ if ($0 == prev) { n++; next } flush(); prev = $0; n = 1 }
				function flush() { if (n) print "model-check.sh:     " prev (n > 1 ? " (x" n ")" : "") }
				END { flush() }' | head -n 60
	fi
}

run design holds
run NO_GRACE fails -DNO_GRACE
run NO_ANCHOR fails -DNO_ANCHOR
run NO_FENCE_STATE fails -DNO_FENCE_STATE

if [[ "$FAILED" != 0 ]]; then
	say "the fail-over model check FAILED"
	exit 1
fi
echo "model-check.sh: the fail-over model check passed"
