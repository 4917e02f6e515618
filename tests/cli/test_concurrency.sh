#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# Several runs at once (a package trigger, the boot unit and an operator)
# take one lock and end in one consistent stack: every run exits 0, the
# hypervisor runs the chain, and each payload was uploaded and applied once.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# parallel N VERB...: N runs of the tool at once; RCS holds their exit
# statuses, $T/err.I their stderr
parallel() {
	_n=$1
	shift
	_pids=
	_i=1
	while [ "$_i" -le "$_n" ]; do
		"$XHP_BIN" --root "$R" "$@" >"$T/out.$_i" 2>"$T/err.$_i" &
		_pids="$_pids $!"
		_i=$((_i + 1))
	done
	RCS=
	for _p in $_pids; do
		wait "$_p"
		RCS="$RCS$? "
	done
	RCS=${RCS% }
	LAST="$_n x xen-hotpatch $*"
}

assert_all_ok() {
	assertEquals "exit statuses of $LAST; stderr: $(cat "$T"/err.*)" "0 0 0 0" "$RCS"
	assertEquals "stderr of $LAST" "" "$(cat "$T"/err.*)"
}

# count_actions OP: "name:count" for each name with that op, sorted
count_actions() {
	sim_q "[.actions[] | select(.op == \"$1\") | .name] | group_by(.) | map(\"\\(.[0]):\\(length)\") | join(\" \")"
}

test_four_applies_at_once() {
	policy "independent = indep"
	put aa-top mm-middle zz-base indep
	parallel 4 apply
	assert_all_ok
	assert_applied "zz-base mm-middle aa-top indep"
	assertEquals "uploads" "aa-top:1 indep:1 mm-middle:1 zz-base:1" "$(count_actions upload)"
	assertEquals "applies" "aa-top:1 indep:1 mm-middle:1 zz-base:1" "$(count_actions apply)"
	assertEquals "nothing else" 8 "$(nactions)"
	# one run did the work, the three others found nothing to do
	assertEquals "runs with nothing to do" 3 "$(cat "$T"/out.* | grep -c '^nothing to do')"
	xhp status
	assert_rc 0
}

# an upgrade to a cumulative payload while other runs start: one REPLACE,
# never an unpatched moment
test_four_upgrades_at_once() {
	put zz-base mm-middle aa-top
	apply_ok
	rm_payload zz-base mm-middle aa-top
	put cum-v2
	parallel 4 apply
	assert_all_ok
	assert_applied "cum-v2"
	assertEquals "replaces" "cum-v2:1" "$(count_actions replace)"
	assertEquals "uploads of cum-v2" 1 "$(sim_q '[.actions[] | select(.op == "upload" and .name == "cum-v2")] | length')"
	assert_loaded "cum-v2:APPLIED"
	assert_no_unpatched_window
}

# apply, status and revert at once: every run sees a consistent hypervisor
# (status exits 0 or 3, never an error), and the end state is one of the two
# stacks the runs can leave
test_mixed_runs_at_once() {
	put zz-base mm-middle aa-top
	apply_ok
	"$XHP_BIN" --root "$R" apply >"$T/out.1" 2>"$T/err.1" &
	p1=$!
	"$XHP_BIN" --root "$R" revert aa-top >"$T/out.2" 2>"$T/err.2" &
	p2=$!
	"$XHP_BIN" --root "$R" status >"$T/out.3" 2>"$T/err.3" &
	p3=$!
	"$XHP_BIN" --root "$R" apply >"$T/out.4" 2>"$T/err.4" &
	p4=$!
	wait $p1
	r1=$?
	wait $p2
	r2=$?
	wait $p3
	r3=$?
	wait $p4
	r4=$?
	assertEquals "apply, revert, apply: stderr $(cat "$T"/err.*)" "0 0 0" "$r1 $r2 $r4"
	case $r3 in
	0 | 3) ;;
	*) fail "status exited $r3: $(cat "$T/err.3")" ;;
	esac
	case $(applied) in
	"zz-base mm-middle aa-top" | "zz-base mm-middle") ;;
	*) fail "inconsistent stack: $(applied)" ;;
	esac
	# whatever the order was, one more apply converges
	apply_ok
	assert_applied "zz-base mm-middle aa-top"
	assert_no_unpatched_window
}

# shellcheck disable=SC1091
. shunit2
