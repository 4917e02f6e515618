#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# Hypervisor errors injected at every action (XEN_HOTPATCH_SIM_FAIL), returned
# by the call itself or, for apply/revert/replace, by the asynchronous work
# (":async"): busy (EBUSY) exits 2, anything else 1; the message names the
# step and the payload; the stack is left at a consistent point, and what
# the run uploaded and did not apply is unloaded again.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

setUp() {
	cli_setup
	put zz-base
	xhp apply
	[ "$RC" = 0 ] || fail "setUp: apply failed: $(_ctx)"
	BEFORE=$(snapshot)
	N0=$(nactions)
}

# inject SPEC RC STEP NAME ERRNO: apply with SPEC fails with RC and the one
# line "STEP NAME failed: ERRNO (...)"
inject() {
	XEN_HOTPATCH_SIM_FAIL=$1 xhp apply
	assert_rc "$2"
	assert_err_line "xen-hotpatch: $3 $4 failed: $5 (" "see \`xen-hotpatch status\`"
	assert_out_has " $4 ... failed"
}

# ---- upload: nothing was changed, nothing stays loaded ----------------------

test_upload_ebusy() {
	put mm-middle aa-top
	inject upload:aa-top:EBUSY 2 upload aa-top EBUSY
	assert_same_state "$BEFORE"
	assert_out_has "mm-middle: unloaded again (uploaded by this run, not applied)"
}

test_upload_einval() {
	put mm-middle aa-top
	inject upload:mm-middle:EINVAL 1 upload mm-middle EINVAL
	assert_same_state "$BEFORE"
	assertEquals "actions" "upload:mm-middle:-22" "$(actions_since "$N0")"
}

test_upload_eexist() {
	put mm-middle
	inject upload:mm-middle:EEXIST 1 upload mm-middle EEXIST
	assert_same_state "$BEFORE"
}

# ---- apply ---------------------------------------------------------------

test_apply_ebusy() {
	put mm-middle
	inject apply:mm-middle:EBUSY 2 apply mm-middle EBUSY
	assert_same_state "$BEFORE"
	assertEquals "last action" "unload:mm-middle" "$(actions_since "$N0" | tr ' ' '\n' | tail -n 1)"
}

test_apply_einval() {
	put mm-middle
	inject apply:mm-middle:EINVAL 1 apply mm-middle EINVAL
	assert_same_state "$BEFORE"
	assertEquals "actions" "upload:mm-middle apply:mm-middle:-22 unload:mm-middle" "$(actions_since "$N0")"
}

test_apply_ebusy_async() {
	put mm-middle
	inject apply:mm-middle:EBUSY:async 2 apply mm-middle EBUSY
	assert_same_state "$BEFORE"
}

test_apply_einval_async() {
	put mm-middle
	inject apply:mm-middle:EINVAL:async 1 apply mm-middle EINVAL
	assert_same_state "$BEFORE"
	assertEquals "actions" "upload:mm-middle apply:mm-middle unload:mm-middle" "$(actions_since "$N0")"
}

# a failure in the middle: what was applied stays, the rest is unloaded
test_apply_fails_half_way() {
	put mm-middle aa-top
	inject apply:aa-top:ENOMEM 1 apply aa-top ENOMEM
	assert_loaded "zz-base:APPLIED mm-middle:APPLIED"
	assertEquals "actions" "upload:mm-middle upload:aa-top apply:mm-middle apply:aa-top:-12 unload:aa-top" \
		"$(actions_since "$N0")"
	# the next run finishes the job
	apply_ok
	assert_applied "zz-base mm-middle aa-top"
}

test_apply_independent_nodeps_fails() {
	policy "independent = indep"
	put indep
	inject apply:indep:EINVAL 1 apply-nodeps indep EINVAL
	assert_same_state "$BEFORE"
}

# ---- revert --------------------------------------------------------------

# the sysctl's EBUSY with nothing in flight: Xen refuses to revert a payload
# that is not the top; that is permanent, not "busy, try again"
test_revert_ebusy() {
	put mm-middle
	apply_ok
	s=$(snapshot)
	rm_payload mm-middle
	inject revert:mm-middle:EBUSY 1 revert mm-middle EBUSY
	assert_err_has "mm-middle is not the top of the applied stack"
	assert_same_state "$s"
	assertEquals "asked again a few times, then given up" 3 \
		"$(sim_q '[.actions[] | select(.op == "revert")] | length')"
}

test_revert_einval_async() {
	put mm-middle
	apply_ok
	s=$(snapshot)
	rm_payload mm-middle
	inject revert:mm-middle:EINVAL:async 1 revert mm-middle EINVAL
	assert_same_state "$s"
}

test_revert_ebusy_async() {
	put mm-middle
	apply_ok
	s=$(snapshot)
	rm_payload mm-middle
	inject revert:mm-middle:EBUSY:async 2 revert mm-middle EBUSY
	assert_same_state "$s"
}

# ---- replace -------------------------------------------------------------

test_replace_einval() {
	rm_payload zz-base
	put cum-v2
	inject replace:cum-v2:EINVAL 1 replace cum-v2 EINVAL
	assert_same_state "$BEFORE"
	assertEquals "actions" "upload:cum-v2 replace:cum-v2:-22 unload:cum-v2" "$(actions_since "$N0")"
}

test_replace_ebusy_async() {
	rm_payload zz-base
	put cum-v2
	inject replace:cum-v2:EBUSY:async 2 replace cum-v2 EBUSY
	assert_same_state "$BEFORE"
}

test_replace_eopnotsupp() {
	rm_payload zz-base
	put cum-v2
	inject replace:cum-v2:EOPNOTSUPP 1 replace cum-v2 EOPNOTSUPP
	assert_err_has "pre/post hooks"
	assert_same_state "$BEFORE"
}

test_replace_einval_async() {
	rm_payload zz-base
	put cum-v2
	inject replace:cum-v2:EINVAL:async 1 replace cum-v2 EINVAL
	assert_same_state "$BEFORE"
	assert_no_unpatched_window
}

# ---- unload: the stack change is done, the leftover stays loaded ----------

test_unload_ebusy() {
	put mm-middle
	apply_ok
	rm_payload mm-middle
	inject unload:mm-middle:EBUSY 2 unload mm-middle EBUSY
	assert_loaded "zz-base:APPLIED mm-middle:CHECKED"
	xhp status
	assert_rc 3
	# the next run unloads it
	apply_ok
	assert_loaded "zz-base:APPLIED"
}

test_unload_einval() {
	put mm-middle
	apply_ok
	rm_payload mm-middle
	inject unload:mm-middle:EINVAL 1 unload mm-middle EINVAL
	assert_loaded "zz-base:APPLIED mm-middle:CHECKED"
}

# after a REPLACE the old stack is unloaded; a failure there leaves the new
# stack applied
test_unload_after_replace_fails() {
	rm_payload zz-base
	put cum-v2
	inject unload:zz-base:EBUSY 2 unload zz-base EBUSY
	assert_loaded "zz-base:CHECKED cum-v2:APPLIED"
	assert_no_unpatched_window
}

# ---- errors from the hypervisor at revert NAME ----------------------------

test_revert_verb_fails() {
	put mm-middle
	apply_ok
	s=$(snapshot)
	XEN_HOTPATCH_SIM_FAIL=revert:mm-middle:EBUSY xhp revert mm-middle
	assert_rc 1
	assert_err_line "revert mm-middle failed: EBUSY (mm-middle is not the top" \
		"applied now, bottom first: zz-base mm-middle"
	assert_same_state "$s"
}

# several faults at once (comma-separated): the first one met stops the run
test_several_faults() {
	put mm-middle aa-top
	inject upload:nothing:EINVAL,apply:mm-middle:EINVAL,apply:aa-top:EINVAL 1 apply mm-middle EINVAL
	assert_same_state "$BEFORE"
}

test_bad_fault_spec_is_an_error() {
	put mm-middle
	XEN_HOTPATCH_SIM_FAIL=explode:mm-middle:EINVAL xhp apply
	assert_rc 1
	assert_err_has "explode"
	assert_same_state "$BEFORE"
}

# shellcheck disable=SC1091
. shunit2
