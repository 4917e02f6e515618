#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# revert NAME: revert NAME and everything stacked above it, top first, then
# unload them; the payloads below stay applied.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

setUp() {
	cli_setup
	put aa-top mm-middle zz-base
	xhp apply
	[ "$RC" = 0 ] || fail "setUp: apply failed: $(_ctx)"
	N0=$(nactions)
}

test_revert_middle_takes_everything_above() {
	xhp revert mm-middle
	assert_rc 0
	assert_err_empty
	assertEquals "actions" "revert:aa-top revert:mm-middle unload:aa-top unload:mm-middle" "$(actions_since "$N0")"
	assert_loaded "zz-base:APPLIED"
	assert_out_has "mm-middle is still installed: the next \`xen-hotpatch apply\` applies it again"
	assert_no_unpatched_window
}

test_revert_top() {
	xhp revert aa-top
	assert_rc 0
	assertEquals "actions" "revert:aa-top unload:aa-top" "$(actions_since "$N0")"
	assert_loaded "zz-base:APPLIED mm-middle:APPLIED"
}

test_revert_bottom_takes_all() {
	xhp revert zz-base
	assert_rc 0
	assertEquals "actions" \
		"revert:aa-top revert:mm-middle revert:zz-base unload:aa-top unload:mm-middle unload:zz-base" \
		"$(actions_since "$N0")"
	assert_loaded ""
}

test_revert_not_loaded() {
	s=$(snapshot)
	xhp revert nosuch
	assert_rc 1
	assert_err_line "nosuch: not loaded in the hypervisor"
	assert_same_state "$s"
	xhp revert aa-top
	xhp revert aa-top
	assert_rc 1
	assert_err_line "aa-top: not loaded in the hypervisor"
}

# then apply puts it back (it is still installed)
test_apply_after_revert_puts_it_back() {
	xhp revert mm-middle
	xhp status
	assert_rc 3
	apply_ok
	assert_applied "zz-base mm-middle aa-top"
}

# a reverted payload that is blocked stays off, and is counted as left out
# (never "nothing to do: the hypervisor runs the installed stack")
test_revert_and_block() {
	xhp revert aa-top
	policy "blocked = aa-top"
	apply_ok
	assertEquals "stdout" "nothing to change: the hypervisor runs 2 payloads; 1 installed payload left out: aa-top (blocked)" \
		"$(cat "$T/out")"
	assert_applied "zz-base mm-middle"
	xhp status
	assert_rc 0
}

# a payload loaded but not applied is just unloaded
test_revert_loaded_not_applied() {
	rm_payload aa-top
	XEN_HOTPATCH_SIM_FAIL=unload:aa-top:EBUSY xhp apply
	assert_rc 2
	assert_loaded "zz-base:APPLIED mm-middle:APPLIED aa-top:CHECKED"
	n=$(nactions)
	xhp revert aa-top
	assert_rc 0
	assertEquals "actions" "unload:aa-top" "$(actions_since "$n")"
	assert_loaded "zz-base:APPLIED mm-middle:APPLIED"
}

# issue 10 item 6: revert NAME failed on its second step (aa-top reverted,
# mm-middle not); run again, it finishes the job: nothing above NAME stays
test_failed_revert_rerun_finishes_the_job() {
	XEN_HOTPATCH_SIM_FAIL=revert:mm-middle:EINVAL:async xhp revert mm-middle
	assert_rc 1
	assert_err_line "revert mm-middle failed: EINVAL" "applied now, bottom first: zz-base mm-middle"
	assert_loaded "zz-base:APPLIED mm-middle:APPLIED aa-top:CHECKED"
	xhp revert mm-middle
	assert_rc 0
	assert_loaded "zz-base:APPLIED"
	# and again after the revert itself went through but the unload did not
	apply_ok
	XEN_HOTPATCH_SIM_FAIL=unload:mm-middle:EBUSY xhp revert mm-middle
	assert_rc 2
	assert_loaded "zz-base:APPLIED mm-middle:CHECKED"
	xhp revert mm-middle
	assert_rc 0
	assert_loaded "zz-base:APPLIED"
}

test_revert_needs_a_name() {
	xhp revert
	assert_rc 1
	assert_err_line "usage: xen-hotpatch" " revert NAME"
}

# shellcheck disable=SC1091
. shunit2
