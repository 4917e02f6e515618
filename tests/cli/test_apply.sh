#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# apply: converge the simulated hypervisor to the installed stack, in
# build-id order, whatever the file names; every scenario of DESIGN.md
# section 3 checked on the sim's applied stack, history and actions.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# a chain whose file names sort against chain order
test_chain_applied_in_chain_order() {
	put aa-top mm-middle zz-base
	apply_ok
	assert_err_empty
	assert_applied "zz-base mm-middle aa-top"
	assertEquals "actions" "upload:zz-base upload:mm-middle upload:aa-top apply:zz-base apply:mm-middle apply:aa-top" \
		"$(actions)"
	assertEquals "history" "- zz-base zz-base zz-base_mm-middle zz-base_mm-middle zz-base_mm-middle_aa-top" \
		"$(history | tr ' ' _ | tr '\n' ' ' | sed 's/ $//')"
	assert_out_has "apply zz-base ... done" "apply aa-top ... done"
}

test_second_run_has_nothing_to_do() {
	put zz-base mm-middle aa-top
	apply_ok
	n=$(nactions)
	apply_ok
	assert_out_has "nothing to do"
	assert_err_empty
	assertEquals "new sim actions" "" "$(actions_since "$n")"
	assert_applied "zz-base mm-middle aa-top"
}

test_cumulative_replaces_the_stack_in_one_step() {
	put zz-base mm-middle aa-top
	apply_ok
	n=$(nactions)
	rm_payload zz-base mm-middle aa-top
	put cum-v2
	apply_ok
	assert_applied "cum-v2"
	assertEquals "actions" "upload:cum-v2 replace:cum-v2 unload:zz-base unload:mm-middle unload:aa-top" \
		"$(actions_since "$n")"
	assert_loaded "cum-v2:APPLIED"
	assert_no_unpatched_window
	assertEquals "one REPLACE" 1 "$(sim_q '[.actions[] | select(.op == "replace")] | length')"
}

test_cumulative_upgrade_with_a_stack_on_top() {
	put cum-v2
	apply_ok
	n=$(nactions)
	rm_payload cum-v2
	put on-cum3 cum-v3
	apply_ok
	assert_applied "cum-v3 on-cum3"
	assertEquals "actions" "upload:cum-v3 upload:on-cum3 replace:cum-v3 apply:on-cum3 unload:cum-v2" \
		"$(actions_since "$n")"
	assert_no_unpatched_window
	apply_ok
	assert_out_has "nothing to do"
}

test_remove_top() {
	put zz-base mm-middle aa-top
	apply_ok
	n=$(nactions)
	rm_payload aa-top
	apply_ok
	assertEquals "actions" "revert:aa-top unload:aa-top" "$(actions_since "$n")"
	assert_loaded "zz-base:APPLIED mm-middle:APPLIED"
}

# removing a middle payload takes off everything above it: the payloads above
# stack on it and become orphans (an error: exit 1, named)
test_remove_middle() {
	put zz-base mm-middle aa-top
	apply_ok
	n=$(nactions)
	rm_payload mm-middle
	xhp apply
	assert_rc 1
	assertEquals "actions" "revert:aa-top revert:mm-middle unload:mm-middle unload:aa-top" "$(actions_since "$n")"
	assert_loaded "zz-base:APPLIED"
	assert_err_line "aa-top is an orphan" "$MM_MIDDLE_ID"
	assert_no_unpatched_window
}

test_branch_resolved_by_version() {
	put zz-base br-v1 br-v2
	xhp -v apply
	assert_rc 0
	assert_applied "zz-base br-v2"
	assert_out_has "br-v1 (version=1) is superseded by br-v2 (version=2)"
	assertEquals "br-v1 never touched" 0 "$(sim_q '[.actions[] | select(.name == "br-v1")] | length')"
	xhp status
	assert_rc 0
	assert_out_has "superseded by br-v2"
}

# a branch without version=: an error naming every member; the stack stops
# below them (zz-base only), the rest of the stack is still converged
test_branch_without_version() {
	put zz-base br-v1 br-nover
	xhp apply
	assert_rc 1
	assert_applied "zz-base"
	assert_err_line "branch: br-nover br-v1 all stack on zz-base"
	xhp status
	assert_rc 3
	assert_out_has "branch: br-nover br-v1"
}

# adding the unresolvable branch member later takes the winner off again
test_branch_added_later_keeps_the_applied_member() {
	# A new, ambiguous sibling is an error, but never takes an applied fix off.
	put zz-base br-v1 br-v2
	apply_ok
	assert_applied "zz-base br-v2"
	n=$(nactions)
	put br-nover
	xhp apply
	assert_rc 1
	assert_err_line "branch: br-nover br-v1 br-v2 all stack on zz-base; keeping br-v2"
	assertEquals "actions" "" "$(actions_since "$n")"
	assert_applied "zz-base br-v2"
}

test_orphan_is_named_and_left_out() {
	put zz-base mm-middle orphan
	xhp apply
	assert_rc 1
	assert_applied "zz-base mm-middle"
	assert_err_line "orphan is an orphan" "$ORPHAN_PARENT_ID"
	assertEquals "orphan never uploaded" 0 "$(sim_q '[.actions[] | select(.name == "orphan")] | length')"
}

test_cycle_names_both() {
	put zz-base cyc-a cyc-b
	xhp apply
	assert_rc 1
	assert_applied "zz-base"
	assert_err_line "cycle:" "cyc-a" "cyc-b"
	assertEquals "no cycle member uploaded" 0 "$(sim_q '[.actions[] | select(.name | startswith("cyc"))] | length')"
}

# independent payloads: NODEPS on top, taken off and put back when the chain
# below changes
test_independent_on_top_and_put_back() {
	policy "independent = indep"
	put zz-base indep
	apply_ok
	assert_applied "zz-base indep"
	assert_out_has "apply (independent, NODEPS) indep ... done"
	n=$(nactions)
	put mm-middle
	apply_ok
	assert_applied "zz-base mm-middle indep"
	assertEquals "actions" "upload:mm-middle revert:indep apply:mm-middle apply:indep" "$(actions_since "$n")"
	n=$(nactions)
	rm_payload zz-base mm-middle
	put cum-v2
	apply_ok
	assert_applied "cum-v2 indep"
	assertEquals "one REPLACE then indep back on top" \
		"upload:cum-v2 replace:cum-v2 apply:indep unload:zz-base unload:mm-middle" "$(actions_since "$n")"
	assert_no_unpatched_window
}

# without the policy, indep is just another payload on the hypervisor: a
# branch with zz-base
test_independent_needs_policy() {
	put zz-base indep
	xhp apply
	assert_rc 1
	assert_err_line "branch: indep zz-base all stack on the hypervisor"
	assert_applied ""
}

test_blocked_by_name() {
	policy "blocked = mm-middle"
	put zz-base mm-middle aa-top
	xhp apply
	assert_rc 0
	assert_applied "zz-base"
	xhp status
	assert_rc 0
	assert_out_has "blocked by policy"
	xhp --json status
	assert_json_out '[.blocked[].name] | join(" ")' "mm-middle"
}

test_blocked_by_build_id_takes_it_off() {
	put zz-base mm-middle
	apply_ok
	n=$(nactions)
	policy "blocked = $MM_MIDDLE_ID"
	xhp apply
	assert_rc 0
	assertEquals "actions" "revert:mm-middle unload:mm-middle" "$(actions_since "$n")"
	assert_applied "zz-base"
	xhp status
	assert_rc 0
}

# the payloads above a blocked one wait for it: no error
test_blocked_base_holds_the_stack_above() {
	policy "blocked = zz-base"
	put zz-base mm-middle aa-top
	xhp apply
	assert_rc 0
	assert_applied ""
	xhp status
	assert_rc 0
	assert_out_has "left out (zz-base: blocked by policy)"
}

# foreign: loaded by someone else (another root and run directory on the same
# hypervisor, lib.sh's foreign_setup): reported, left alone, and nothing
# below it is changed
test_foreign_payload_reported() {
	foreign_setup
	xhp status
	assert_rc 3
	assert_out_has "mm-middle" "(foreign: not loaded by xen-hotpatch)"
	xhp --json status
	assert_json_out '[.applied[] | "\(.name):\(.origin)"] | join(" ")' "zz-base:xen-hotpatch mm-middle:foreign"
	xhp apply
	assert_rc 0
	assert_err_line "warning: mm-middle is loaded (APPLIED) but was not loaded by xen-hotpatch"
	# the summary does not count someone else's payload as installed
	assert_out_has "nothing to do: the hypervisor runs the installed stack (1 payload) and 1 payload" \
		"xen-hotpatch did not load (left alone)"
	assert_applied "zz-base mm-middle"
}

test_foreign_payload_blocks_changes_below_it() {
	foreign_setup
	s=$(snapshot)
	rm_payload zz-base
	put cum-v2
	xhp apply
	assert_rc 1
	assert_err_has "mm-middle is applied but not known to xen-hotpatch" "nothing changed"
	assert_same_state "$s"
	rm_payload cum-v2
	xhp apply
	assert_rc 1
	assert_same_state "$s"
}

# REPLACE is impossible with pre/post hooks: refused by default, nothing
# changed; with replace_without_replace = allow: revert all, then apply
test_replace_refused_with_prepost_hooks() {
	put zz-base mm-middle
	apply_ok
	s=$(snapshot)
	n=$(nactions)
	rm_payload zz-base mm-middle
	put hooks-prepost
	xhp apply
	assert_rc 1
	assert_err_line "cannot REPLACE the applied stack with hooks-prepost" "pre/post hooks" "nothing changed"
	assert_same_state "$s"
	assertEquals "no action" "" "$(actions_since "$n")"
	xhp apply --dry-run
	assert_rc 1
	assert_err_line "cannot REPLACE the applied stack with hooks-prepost"
}

test_replace_without_replace_allow() {
	put zz-base mm-middle
	apply_ok
	n=$(nactions)
	rm_payload zz-base mm-middle
	put hooks-prepost
	policy "replace_without_replace = allow"
	apply_ok
	assert_applied "hooks-prepost"
	assertEquals "actions" \
		"upload:hooks-prepost revert:mm-middle revert:zz-base apply:hooks-prepost unload:zz-base unload:mm-middle" \
		"$(actions_since "$n")"
}

# Xen refuses to reapply a reverted payload with writable data: the tool
# unloads it and uploads it again (independent payload taken off and put back)
test_unsafe_to_reapply_is_reloaded() {
	policy "independent = unsafe"
	put zz-base unsafe
	apply_ok
	n=$(nactions)
	put mm-middle
	apply_ok
	assert_applied "zz-base mm-middle unsafe"
	assertEquals "actions" "upload:mm-middle revert:unsafe apply:mm-middle unload:unsafe upload:unsafe apply:unsafe" \
		"$(actions_since "$n")"
}

# a safe one is simply reapplied (no unload/upload)
test_safe_to_reapply_is_reapplied() {
	policy "independent = indep"
	put zz-base indep
	apply_ok
	n=$(nactions)
	put mm-middle
	apply_ok
	assertEquals "actions" "upload:mm-middle revert:indep apply:mm-middle apply:indep" "$(actions_since "$n")"
}

test_dry_run_changes_nothing() {
	put zz-base mm-middle
	apply_ok
	put aa-top
	rm_payload zz-base mm-middle
	put cum-v2
	rm_payload aa-top
	s=$(snapshot)
	n=$(nactions)
	xhp apply --dry-run
	assert_rc 0
	assertEquals "stdout" "would upload cum-v2
would replace the applied stack with cum-v2
would unload zz-base
would unload mm-middle" "$(cat "$T/out")"
	assert_same_state "$s"
	assertEquals "no action" "" "$(actions_since "$n")"
}

test_dry_run_json() {
	put zz-base mm-middle aa-top
	xhp --json apply --dry-run
	assert_rc 0
	assert_json_out 'keys | join(",")' "desired,problems,refused,steps"
	assert_json_out '[.steps[] | "\(.op):\(.name)"] | join(" ")' \
		"upload:zz-base upload:mm-middle upload:aa-top apply:zz-base apply:mm-middle apply:aa-top"
	assert_json_out '.desired | join(" ")' "zz-base mm-middle aa-top"
	assert_json_out '.refused' false
	assert_applied ""
	# --json after the verb too; problems are listed
	put orphan
	xhp apply --dry-run --json
	assert_rc 1
	assert_json_out '[.problems[] | "\(.kind):\(.names):\(.error)"] | join(" ")' "orphan:orphan:true"
	assert_applied ""
}

test_dry_run_nothing_to_do() {
	put zz-base
	apply_ok
	xhp apply --dry-run
	assert_rc 0
	assertEquals "stdout" "nothing to do" "$(cat "$T/out")"
}

# a new content under an applied name cannot be swapped without an unpatched
# window: refused unless policy allows it
test_new_content_under_an_applied_name() {
	put zz-base
	apply_ok
	s=$(snapshot)
	put_as "$FX/cum-v2.livepatch" zz-base
	xhp apply
	assert_rc 1
	assert_err_line "zz-base: the file's build-id is $CUM_V2_ID but the applied payload of that name is $ZZ_BASE_ID"
	assert_same_state "$s"
}

# a bad file next to a good chain: the chain is applied, the run exits 1
test_bad_file_does_not_hold_up_the_others() {
	put zz-base mm-middle
	put_as "$FX/bad/no-depends.livepatch" broken
	xhp apply
	assert_rc 1
	assert_applied "zz-base mm-middle"
	assert_err_line "$PD/broken.livepatch: missing section .livepatch.depends"
}

test_apply_log_one_line_per_run() {
	put zz-base
	apply_ok
	apply_ok
	assertEquals "apply.log lines" 2 "$(wc -l <"$XEN_HOTPATCH_RUN_DIR/apply.log")"
}

test_rollback_on_failure() {
	put zz-base mm-middle
	apply_ok
	rm_payload mm-middle
	put_as "$FX/br-v1.livepatch" br-v1
	policy "on_failure = rollback"
	XEN_HOTPATCH_SIM_FAIL=apply:br-v1:EINVAL xhp apply
	assert_rc 1
	assert_err_has "apply br-v1 failed: EINVAL"
	assert_out_has "on_failure = rollback"
	assert_applied "zz-base mm-middle"
	assert_loaded "zz-base:APPLIED mm-middle:APPLIED"
}

# apply --auto (package scripts): skips an alternate root under the default
# apply_on_install = auto, and never exits non-zero
test_auto_skips_an_alternate_root() {
	put zz-base
	xhp apply --auto
	assert_rc 0
	assert_out_has "installing into an alternate root: payloads not applied now"
	assert_applied ""
}

test_auto_never_fails() {
	policy "apply_on_install = always"
	put zz-base mm-middle orphan
	XEN_HOTPATCH_SIM_FAIL=apply:mm-middle:EINVAL xhp apply --auto
	assert_rc 0
	assert_err_has "apply mm-middle failed: EINVAL" "orphan is an orphan" "\`xen-hotpatch status\` keeps reporting it"
	assert_applied "zz-base"
	policy "apply_on_install = never"
	xhp apply --auto
	assert_rc 0
	assert_out_has "apply_on_install = never"
	assert_applied "zz-base"
}

test_unknown_option() {
	xhp apply --force
	assert_rc 1
	assert_err_line "unknown option --force: usage: xen-hotpatch" " apply "
}

# shellcheck disable=SC1091
. shunit2
