#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the tree for the given time each
# (default 5s: the short pass `make test` runs; `make fuzz` runs 10m).
# Targets are found by name: func FuzzXxx(f *testing.F) in *_test.go.
#
# Each target gets a private fuzz cache directory: with the shared default
# cache, a fuzzer on this 2-core machine was seen to stall at 0 execs/s
# while other builds ran. A run that fails only with the fuzzing engine's
# own "context deadline exceeded" (its workers did not answer in time on a
# loaded machine) and wrote no new crasher is tried once more; a crasher
# always fails the run.
#
# Environment: FUZZ_TARGETS (a regex on "dir name", default all) picks
# targets; FUZZ_PARALLEL sets go test -parallel (default: GOMAXPROCS);
# FUZZ_KEEP_GOING=1 runs every target even after a failure and fails at the
# end; FUZZ_SUMMARY=FILE appends one line per target (result, last progress
# line of the fuzzing engine) for the closing note of a long run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
t=${1:-5s}
n=0
cache=$(mktemp -d /tmp/flexcp-fuzzcache.XXXXXX)
log=$(mktemp /tmp/flexcp-fuzz.XXXXXX)
trap 'rm -rf "$cache" "$log"' EXIT

par=()
[ -n "${FUZZ_PARALLEL:-}" ] && par=(-parallel "$FUZZ_PARALLEL")
failed=0

run1() { # dir name
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$t" "${par[@]}" "$1" -test.fuzzcachedir "$cache/$2" >"$log" 2>&1
}

summary() { # dir name result
	[ -n "${FUZZ_SUMMARY:-}" ] || return 0
	local last
	last=$(grep -E '^fuzz: elapsed' "$log" | tail -n1 || true)
	echo "$1 $2 $3 for $t: ${last:-no progress line}" >>"$FUZZ_SUMMARY"
}

fail() { # dir name message
	cat "$log"
	echo "fuzz: $1 $2 $3" >&2
	summary "$1" "$2" FAILED
	if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
		failed=$((failed + 1))
		return 0
	fi
	exit 1
}

while IFS=: read -r file _ line; do
	dir=$(dirname "$file")
	name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
	if [ -n "${FUZZ_TARGETS:-}" ] && ! grep -qE "$FUZZ_TARGETS" <<<"$dir $name"; then
		continue
	fi
	echo "fuzz: $dir $name for $t"
	before=$({ find "$dir/testdata/fuzz/$name" -type f 2>/dev/null || true; } | wc -l)
	if ! run1 "$dir" "$name"; then
		after=$({ find "$dir/testdata/fuzz/$name" -type f 2>/dev/null || true; } | wc -l)
		if grep -q "context deadline exceeded" "$log" && [ "$after" = "$before" ]; then
			echo "fuzz: $dir $name: fuzzing engine timed out without a crasher; retrying once"
			if ! run1 "$dir" "$name"; then
				fail "$dir" "$name" "FAILED twice"
				continue
			fi
		else
			fail "$dir" "$name" "FAILED (new crasher, if any, is in $dir/testdata/fuzz/$name)"
			continue
		fi
	fi
	summary "$dir" "$name" ok
	n=$((n + 1))
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . | grep -v '/\.' | sort)
echo "fuzz: $n targets passed"
if [ "$failed" -gt 0 ]; then
	echo "fuzz: $failed targets FAILED" >&2
	exit 1
fi
