#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# What Xen would refuse is refused before anything changes (issue 10 item
# 10, issue 13 item 3): a new symbol or build-id a loaded payload already
# has (Xen refuses the upload with EEXIST), an expectation Xen never accepts
# (Xen checks it inside REPLACE only after reverting everything). Refused
# with a message naming the cause, or under replace_without_replace = allow
# done as revert-then-apply; never a failure halfway.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

FORGE=$XHP_TOP/tests/fixtures/forge-payload.sh

# forge_bad_expectation NAME [forge options...]: NAME.livepatch in $PD whose
# expectation is longer than the function it checks (Xen: -ERANGE)
forge_bad_expectation() {
	_n=$1
	shift
	"$FORGE" -o "$PD/$_n.livepatch" --xen-id "$XEN_ID" --nop xen_extra_version:2:2 --expect 90909090 "$@" \
		>/dev/null || fail "forge $_n"
}

# issue 13 item 3: successive versions of one fix define the same helper
test_new_symbol_clash_refused_up_front() {
	put dup-sym-a
	apply_ok
	s=$(snapshot)
	n=$(nactions)
	rm_payload dup-sym-a
	put dup-sym-b
	xhp apply
	assert_rc 1
	assert_err_line "dup-sym-b cannot be loaded while dup-sym-a is applied: both define the new symbol xhp_dup" \
		"replace_without_replace = allow" "nothing changed"
	assertEquals "no action" "" "$(actions_since "$n")"
	assert_same_state "$s"
	xhp apply --dry-run
	assert_rc 1
	assert_err_line "both define the new symbol xhp_dup"
}

test_new_symbol_clash_allowed_is_revert_then_apply() {
	put dup-sym-a
	apply_ok
	n=$(nactions)
	rm_payload dup-sym-a
	put dup-sym-b
	policy "replace_without_replace = allow"
	apply_ok
	assertEquals "actions" "revert:dup-sym-a unload:dup-sym-a upload:dup-sym-b apply:dup-sym-b" "$(actions_since "$n")"
	assert_loaded "dup-sym-b:APPLIED"
}

# a clashing payload left loaded (CHECKED) is unloaded before the upload
test_new_symbol_clash_with_a_leftover() {
	put zz-base dup-sym-a
	policy "independent = dup-sym-a"
	apply_ok
	rm_payload dup-sym-a
	XEN_HOTPATCH_SIM_FAIL=unload:dup-sym-a:EBUSY xhp apply
	assert_rc 2
	assert_loaded "zz-base:APPLIED dup-sym-a:CHECKED"
	n=$(nactions)
	policy "independent = dup-sym-b"
	put dup-sym-b
	apply_ok
	assertEquals "actions" "unload:dup-sym-a upload:dup-sym-b apply:dup-sym-b" "$(actions_since "$n")"
}

# two installed payloads Xen cannot hold together: named, nothing changed
test_new_symbol_clash_inside_the_installed_stack() {
	policy "independent = dup-sym-b"
	put zz-base
	apply_ok
	s=$(snapshot)
	put dup-sym-b
	rm_payload zz-base
	put_as "$FX/dup-sym-a.livepatch" dup-sym-a
	policy "independent = dup-sym-b"
	xhp apply
	assert_rc 1
	assert_err_has "dup-sym-a and dup-sym-b both define the new symbol xhp_dup" "nothing changed"
	assert_same_state "$s"
}

# issue 10 item 10: a cumulative payload whose expectation Xen never accepts
# would leave the hypervisor unpatched inside REPLACE
test_expectation_refused_before_replace() {
	put zz-base mm-middle
	apply_ok
	s=$(snapshot)
	n=$(nactions)
	rm_payload zz-base mm-middle
	forge_bad_expectation cum-badexp
	xhp apply
	assert_rc 1
	assert_err_line "cum-badexp: an expectation is longer than the function it checks: Xen refuses to apply it" \
		"nothing changed"
	assertEquals "no action" "" "$(actions_since "$n")"
	assert_same_state "$s"
	assert_no_unpatched_window
	xhp status
	assert_rc 3
	assert_out_has "cum-badexp" "Xen refuses to apply it"
}

# on top of the chain: the stack stops below it, and the run says so (exit 1)
test_expectation_on_top_stops_the_stack_below() {
	put zz-base
	forge_bad_expectation top-badexp --depends-file "$FX/zz-base.livepatch"
	xhp apply
	assert_rc 1
	assert_err_line "top-badexp: an expectation is longer than the function it checks: Xen refuses to apply it"
	assert_applied "zz-base"
	assertEquals "never uploaded" 0 "$(sim_q '[.actions[] | select(.name == "top-badexp")] | length')"
	assert_out_lacks "nothing to do"
}

# shellcheck disable=SC1091
. shunit2
