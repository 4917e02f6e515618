#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# What a failing action says (issue 13 item 1, issue 10 item 10): a hook's
# veto is a veto naming the hook and the payload, not a permission problem;
# an apply or revert hook that fails, an expectation that fails, a REPLACE
# that fails halfway: each said as what it is, and what the hypervisor runs
# afterwards read again, never "the hypervisor keeps the stack as it was".
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# Xen's own hook tests: the pre-revert hook vetoes the first revert; the
# operator tries again
test_pre_revert_hook_veto() {
	put hooks-prepost
	apply_ok
	rm_payload hooks-prepost
	s=$(snapshot)
	XEN_HOTPATCH_SIM_FAIL=prerevert:hooks-prepost:EPERM:once xhp apply
	assert_rc 1
	assert_err_line "revert hooks-prepost failed: the pre-revert hook of hooks-prepost vetoed the revert (rc -1, EPERM)" \
		"applied now, bottom first: hooks-prepost"
	assert_err_lacks "not permitted" "XSM" "keeps the stack"
	assert_same_state "$s"
	apply_ok
	assert_loaded ""
}

test_pre_apply_hook_veto() {
	put hooks-prepost
	XEN_HOTPATCH_SIM_FAIL=preapply:hooks-prepost:EPERM xhp apply
	assert_rc 1
	assert_err_line "apply hooks-prepost failed: the pre-apply hook of hooks-prepost vetoed the apply (rc -1, EPERM)" \
		"nothing is applied now"
	assert_err_lacks "not permitted"
	assert_loaded ""
}

# the payload's own apply hook (replacing Xen's apply) fails
test_apply_hook_fails() {
	put hooks-action
	XEN_HOTPATCH_SIM_FAIL=apply:hooks-action:EIO:async xhp apply
	assert_rc 1
	assert_err_line "apply hooks-action failed: EIO (the apply hook of hooks-action failed (rc -5)"
	assert_loaded ""
}

# an expectation that does not match the running code, at APPLY: Xen
# refuses before changing anything
test_expectation_fails_at_apply() {
	put zz-base mm-middle
	XEN_HOTPATCH_SIM_FAIL=expect:mm-middle:EINVAL xhp apply
	assert_rc 1
	assert_err_line "apply mm-middle failed: EINVAL (" "applied now, bottom first: zz-base"
	assert_applied "zz-base"
}

# ... inside REPLACE, after everything was reverted: the hypervisor is left
# unpatched, and the message says so
test_expectation_fails_inside_replace() {
	put zz-base mm-middle
	apply_ok
	rm_payload zz-base mm-middle
	put cum-v2
	XEN_HOTPATCH_SIM_FAIL=expect:cum-v2:EINVAL xhp apply
	assert_rc 1
	assert_err_line "replace cum-v2 failed: EINVAL (" "nothing is applied now: the hypervisor is unpatched"
	assert_err_lacks "keeps the stack"
	assert_applied ""
	# the next run puts the installed stack on
	apply_ok
	assert_applied "cum-v2"
}

# a REPLACE whose revert of mm-middle fails: aa-top was reverted, mm-middle
# and zz-base stay; the message reads the hypervisor again, and the next run
# finishes the job
test_replace_fails_halfway() {
	put zz-base mm-middle aa-top
	apply_ok
	rm_payload zz-base mm-middle aa-top
	put cum-v2
	XEN_HOTPATCH_SIM_FAIL=revert:mm-middle:EINVAL:async xhp apply
	assert_rc 1
	assert_err_line "replace cum-v2 failed: EINVAL (" "applied now, bottom first: zz-base mm-middle"
	assert_err_lacks "keeps the stack"
	assert_applied "zz-base mm-middle"
	xhp status
	assert_rc 3
	assert_out_has "1. zz-base" "2. mm-middle"
	apply_ok
	assert_applied "cum-v2"
	assert_loaded "cum-v2:APPLIED"
}

# shellcheck disable=SC1091
. shunit2
