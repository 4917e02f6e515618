#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# Actions that finish after the tool stopped watching (issue 10 items 3, 5,
# 7): past deadline_ms (ETIME) or the tool killed mid-action, the simulated
# hypervisor finishes the work on time anyway (XEN_HOTPATCH_SIM_WORK_MS) as
# Xen does. The next run reconciles from what the hypervisor shows: the
# record follows it, the attempt is resolved (the payload proven, not
# quarantined by the next reboot), and nothing says "the hypervisor keeps
# the stack as it was".
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

REC=""
G=""

setUp() {
	cli_setup
	REC=$XEN_HOTPATCH_RUN_DIR/loaded.json
	G=$R/var/lib/xen-hotpatch
}

reboot_host() {
	sim reboot >/dev/null || fail "sim reboot"
	rm -rf "$XEN_HOTPATCH_RUN_DIR"
}

# slow POLICY-LINES: actions take 400 ms in the hypervisor, the tool waits 20
slow() {
	policy "deadline_ms = 20
$1"
	export XEN_HOTPATCH_SIM_WORK_MS=400
}

fast() {
	policy "$1"
	unset XEN_HOTPATCH_SIM_WORK_MS
}

# the hypervisor finishes what is pending
finish_work() {
	sim advance >/dev/null || fail "sim advance"
}

# the record's names and the hypervisor's loaded names are the same set
record_agrees() {
	assertEquals "record vs hypervisor" "$(sim_q '[.loaded[].name] | sort | join(" ")')" \
		"$(jq -r '[.payloads[].name] | sort | join(" ")' "$REC")"
}

test_apply_that_finished_late() {
	slow ""
	put zz-base
	xhp apply
	assert_rc 2
	assert_err_line "apply zz-base failed: ETIME (still in progress after deadline_ms = 20 ms" \
		"(the action is still in progress)"
	assert_err_lacks "keeps the stack"
	assertEquals "the attempt stays while Xen works" "$ZZ_BASE_ID" "$(ls "$G/attempts")"
	finish_work
	fast ""
	xhp status
	assert_rc 0
	assert_out_has "1. zz-base"
	assertEquals "proven once seen applied" "$ZZ_BASE_ID" "$(ls "$G/proven")"
	assertEquals "no attempt left" "" "$(ls "$G/attempts")"
	record_agrees
	reboot_host
	xhp boot
	assert_rc 0
	assert_out_lacks "quarantined"
	assert_applied "zz-base"
}

# a cumulative REPLACE that finished late: the next run sees it, takes the
# old payloads off the record and unloads them, and the reboot reapplies it
test_replace_that_finished_late() {
	put zz-base mm-middle
	apply_ok
	rm_payload zz-base mm-middle
	put cum-v2
	slow ""
	xhp apply
	assert_rc 2
	assert_err_has "replace cum-v2 failed: ETIME"
	assert_err_lacks "keeps the stack"
	finish_work
	fast ""
	xhp status
	assert_rc 3
	assert_out_has "1. cum-v2"
	assert_loaded "zz-base:CHECKED mm-middle:CHECKED cum-v2:APPLIED"
	n=$(nactions)
	apply_ok
	assertEquals "only the old payloads go" "unload:zz-base unload:mm-middle" "$(actions_since "$n")"
	reboot_host
	xhp boot
	assert_rc 0
	assert_applied "cum-v2"
}

# issue 10 item 5 for real: a revert that finished late; the payload is not
# safe to apply again, so it is unloaded and uploaded again
test_revert_that_finished_late() {
	fast "independent = unsafe"
	put zz-base unsafe
	apply_ok
	rm_payload unsafe
	slow "independent = unsafe"
	xhp apply
	assert_rc 2
	assert_err_has "revert unsafe failed: ETIME"
	finish_work
	fast "independent = unsafe"
	put unsafe
	n=$(nactions)
	apply_ok
	assertEquals "actions" "unload:unsafe upload:unsafe apply:unsafe" "$(actions_since "$n")"
	assert_applied "zz-base unsafe"
}

# the tool killed while the hypervisor works; the next runs converge
test_killed_while_the_hypervisor_works() {
	put zz-base mm-middle aa-top
	XEN_HOTPATCH_SIM_WORK_MS=300 "$XHP_BIN" --root "$R" apply >"$T/out" 2>"$T/err" &
	pid=$!
	sleep 0.5
	kill -9 "$pid" 2>/dev/null
	wait "$pid"
	finish_work
	xhp status
	case $RC in
	0 | 3) ;;
	*) fail "status after the kill exited $RC: $(_ctx)" ;;
	esac
	record_agrees
	apply_ok
	assert_applied "zz-base mm-middle aa-top"
	record_agrees
	assertEquals "no attempt left" "" "$(ls "$G/attempts")"
	reboot_host
	xhp boot
	assert_rc 0
	assert_applied "zz-base mm-middle aa-top"
}

# a run that finds the apply of an earlier run still in flight: Xen says
# EBUSY to its own apply, and the earlier apply then completes. The attempt
# must stay (Xen may still be working), so the next run proves the payload
# and a reboot reapplies it
test_busy_behind_a_late_apply_keeps_the_attempt() {
	slow ""
	export XEN_HOTPATCH_SIM_WORK_MS=30000 # still pending at the second run, however slow this host
	put zz-base
	xhp apply
	assert_rc 2
	xhp apply
	assert_rc 2
	assertEquals "the attempt stays while Xen works" "$ZZ_BASE_ID" "$(ls "$G/attempts")"
	finish_work
	fast ""
	xhp status
	assert_rc 0
	assertEquals "proven once seen applied" "$ZZ_BASE_ID" "$(ls "$G/proven")"
	reboot_host
	xhp boot
	assert_rc 0
	assert_applied "zz-base"
}

# killed after its uploads, while the hypervisor applies the first payload:
# the payloads it uploaded are its own for the next run (never "someone
# else's", left loaded for ever), even when one was removed meanwhile
test_killed_after_its_uploads() {
	put zz-base mm-middle
	XEN_HOTPATCH_SIM_WORK_MS=3000 "$XHP_BIN" --root "$R" apply >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ "$(sim_q '.pending.op // ""')" != apply ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -9 "$pid"
	wait "$pid"
	assertEquals "killed with zz-base's apply pending" "zz-base:APPLIED mm-middle:CHECKED" \
		"$(finish_work && loaded)"
	rm_payload mm-middle
	xhp apply
	assert_rc 0
	assert_err_empty
	assert_loaded "zz-base:APPLIED"
	record_agrees
	assertEquals "proven" "$ZZ_BASE_ID" "$(ls "$G/proven")"
}

# independents taken off and put back under a new chain bottom, every
# action finishing late (one a run): a payload applied again late, after
# its recorded revert, gets its new place in the order, not its old one
# (which put it below the other independent: "revert" of a payload that is
# not the top, EBUSY, for ever)
test_late_reapply_after_a_revert_keeps_the_order() {
	fast "independent = indep hooks-loadonly"
	put indep hooks-loadonly
	apply_ok
	slow "independent = indep hooks-loadonly"
	export XEN_HOTPATCH_SIM_WORK_MS=30000
	put zz-base
	for _i in 1 2 3 4 5 6 7; do
		xhp apply
		finish_work
	done
	fast "independent = indep hooks-loadonly"
	assert_applied "zz-base indep hooks-loadonly"
	xhp status
	assert_rc 0
	assert_out_has "2. indep" "3. hooks-loadonly"
	record_agrees
	apply_ok
	assert_out_has "nothing to do"
}

# an independent uploaded by a run and applied after it stopped watching
# (deadline, kill): it was applied with NODEPS, above the independent
# applied before it, and the record must keep it there: its entry, written
# before the upload, got its place only when it was seen APPLIED, and that
# place is not taken for a build-id chain it never joined (it was believed
# under the older one: "revert indep: not the top", EBUSY, for ever)
test_late_independent_stays_above_the_older_one() {
	fast "independent = indep hooks-prepost"
	put indep
	apply_ok
	slow "independent = indep hooks-prepost"
	put hooks-prepost
	xhp apply
	assert_rc 2
	assert_err_line "apply-nodeps hooks-prepost failed: ETIME" "(the action is still in progress)"
	finish_work
	fast "independent = indep hooks-prepost"
	assert_applied "indep hooks-prepost"
	xhp status
	assert_rc 0
	assert_out_has "1. indep" "2. hooks-prepost" "state: in sync"
	assertEquals "recorded order" "indep hooks-prepost" \
		"$(jq -r '[.payloads[] | select(.seq > 0)] | sort_by(.seq) | [.[].name] | join(" ")' "$REC")"
	record_agrees
	n=$(nactions)
	rm_payload indep
	apply_ok
	assertEquals "the top comes off first, then goes back" \
		"revert:hooks-prepost revert:indep apply:hooks-prepost unload:indep" "$(actions_since "$n")"
	assert_applied "hooks-prepost"
}

# killed, and the host rebooted before any run saw how the apply ended: the
# payload is quarantined, and the message does not claim more than is known
test_reboot_before_anyone_saw_the_result() {
	slow ""
	put zz-base
	xhp apply
	assert_rc 2
	reboot_host
	fast ""
	xhp boot
	assert_rc 0
	assert_out_has "zz-base: quarantined: its apply in an earlier boot was not seen to complete"
	# it cannot tell a crash from a stopped tool: it says both, claims neither
	assert_out_has "or the tool was stopped and the host rebooted before any run saw the result"
	assert_applied ""
}

# shellcheck disable=SC1091
. shunit2
