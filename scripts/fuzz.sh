#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the tree for the given time each
# (default 5s: the short pass `make test` runs; `make fuzz` runs 10m).
# Targets are found by name: func FuzzXxx(f *testing.F) in *_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
t=${1:-5s}
n=0
while IFS=: read -r file _ line; do
	dir=$(dirname "$file")
	name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
	echo "fuzz: $dir $name for $t"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$dir" >/tmp/flexcp-fuzz.log 2>&1 || {
		cat /tmp/flexcp-fuzz.log
		echo "fuzz: $dir $name FAILED (new crasher, if any, is in $dir/testdata/fuzz/$name)" >&2
		exit 1
	}
	n=$((n + 1))
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . | grep -v '/\.' | sort)
echo "fuzz: $n targets passed"
