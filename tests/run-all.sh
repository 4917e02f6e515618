#!/bin/bash
# Run every test tier of `make check` and print one closing line
# "N passed, N failed", followed by ", N skipped" when a test was skipped.
# Each tier is tests/<tier>/run.sh: it prints what it does and ends with its
# own line of that form. A tier that is missing, prints no summary, or exits
# non-zero without a failed test counts as one failure.
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
# when this run began (a cached result made later was made by this run)
XHP_RUN_START=$(date +%s)
export XHP_RUN_START

TIERS=${TIERS:-"lint fixtures unit fuzz cli python ansible rpm deb boot kit builder realxen realbuild"}
total_pass=0
total_fail=0
total_skip=0
log_dir="$top/build/test-logs"
mkdir -p "$log_dir"
# shellcheck source=tests/lib/checks.sh
. "$top/tests/lib/checks.sh"
# the last summary line of a log: "PASSED FAILED SKIPPED", or nothing
tier_counts() {
	sed -nE 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\2 \3 \5/p' "$1" |
		tail -n 1 | awk '{ print $1, $2, ($3 == "" ? 0 : $3) }'
}
# The long builds later tiers share (a kit, the xen-livepatch RPMs) start in
# the background while the short tiers run; those tiers wait on the cache's
# locks. Its log: build/test-logs/kit-prepare.log.
prep_pid=""
case " $TIERS " in
*" kit "* | *" builder "* | *" realbuild "*)
	# its own process group (a background job of this shell is no group
	# leader, so setsid does not fork): a signal here stops its whole build
	TIERS="$TIERS" setsid tests/kit/prepare.sh > "$log_dir/kit-prepare.log" 2>&1 &
	prep_pid=$!
	trap 'kill -- "-$prep_pid" 2>/dev/null; exit 130' INT TERM
	;;
esac
for t in $TIERS; do
	script="tests/$t/run.sh"
	echo "== tier $t"
	start=$(date +%s)
	if [ -x "$script" ]; then
		"$script" 2>&1 | tee "$log_dir/$t.log"
		rc=${PIPESTATUS[0]}
	else
		echo "== tier $t: no $script" | tee "$log_dir/$t.log"
		rc=127
	fi
	p="" f=0 s=0
	read -r p f s < <(tier_counts "$log_dir/$t.log")
	if [ -z "$p" ]; then
		echo "== tier $t: no summary line (exit $rc): counted as 1 failure"
		p=0 f=1 s=0
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "== tier $t: exit $rc with no failed test: counted as 1 failure"
		f=1
	fi
	echo "== tier $t: $(summary "$p" "$f" "$s") ($(( $(date +%s) - start ))s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
done
[ -z "$prep_pid" ] || wait "$prep_pid" || echo "(the background kit build failed: $log_dir/kit-prepare.log)"
echo
summary "$total_pass" "$total_fail" "$total_skip"
[ "$total_fail" -eq 0 ]
