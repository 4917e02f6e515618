#!/bin/bash
# Run every test tier of `make check` and print one closing line
# "N passed, N failed". Each tier is tests/<tier>/run.sh: it prints what it
# does and ends with its own "N passed, N failed" line.
#   TIERS="unit cli" tests/run-all.sh    run only some tiers
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export XHP_TOP="$top"
export XHP_BUILD="$top/build"
export XHP_BIN="${XHP_BIN:-$top/build/asan/xen-hotpatch}"
export XHP_SIM_BIN="${XHP_SIM_BIN:-$top/build/asan/xen-hotpatch-sim}"
export XHP_PLAIN_BIN="$top/build/xen-hotpatch"
export XHP_PLAIN_SIM_BIN="$top/build/xen-hotpatch-sim"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export SHUNIT_COLOR=none

TIERS=${TIERS:-"lint fixtures unit fuzz cli builder rpm deb boot realxen"}
total_pass=0
total_fail=0
log_dir="$top/build/test-logs"
mkdir -p "$log_dir"
for t in $TIERS; do
	script="tests/$t/run.sh"
	if [ ! -x "$script" ]; then
		echo "== tier $t: no $script"
		continue
	fi
	echo "== tier $t"
	start=$(date +%s)
	"$script" 2>&1 | tee "$log_dir/$t.log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log_dir/$t.log" | tail -n 1)
	p=$(printf '%s\n' "$line" | sed -nE 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/p')
	f=$(printf '%s\n' "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
	if [ -z "$line" ]; then
		echo "== tier $t: no summary line (exit $rc): counted as 1 failure"
		p=0 f=1
	elif [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "== tier $t: exit $rc with no failed test: counted as 1 failure"
		f=1
	fi
	echo "== tier $t: ${p:-0} passed, ${f:-0} failed ($(( $(date +%s) - start ))s)"
	total_pass=$((total_pass + ${p:-0}))
	total_fail=$((total_fail + ${f:-0}))
done
echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
