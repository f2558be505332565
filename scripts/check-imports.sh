#!/usr/bin/env bash
# check-imports.sh enforces the import rules of DESIGN.md section 1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
mod=$(go list -m)
fail=0
check() { # package pattern, allowed project imports (regex)
	local pkg=$1 allow=$2
	for p in $(go list "$pkg" 2>/dev/null); do
		for imp in $(go list -f '{{join .Imports " "}}' "$p"); do
			case $imp in
			"$mod"/*) [[ ${imp#"$mod"/} =~ ^($allow)(/|$) ]] || { echo "imports: $p must not import $imp"; fail=1; } ;;
			C) echo "imports: $p uses cgo (only dataplane/dpdk may)"; fail=1 ;;
			esac
		done
	done
}
check ./dtree/... 'dtree'
check ./steering/... 'steering'
check ./translate/... 'translate|dtree'
check ./config/... 'config'
check ./metrics/... 'metrics'
exit $fail
