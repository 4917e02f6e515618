#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# Independent payloads (NODEPS, on top of the chain) while the chain below
# them appears, changes, goes away, is blocked or quarantined, with hooks on
# either side (issue 10 items 1-2, issue 13 item 2): every step is one Xen
# carries out, the stack ends as installed, and the next run has nothing to
# do. Never a REPLACE with a payload that is applied (Xen does nothing).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# converged STACK: the applied stack is STACK, status is in sync, and a
# second apply does nothing
converged() {
	assert_applied "$1"
	xhp status
	assert_rc 0
	n=$(nactions)
	apply_ok
	assert_out_has "nothing to "
	assertEquals "actions of a second apply" "" "$(actions_since "$n")"
}

# issue 13 item 2: a cumulative payload with an independent on top; the
# cumulative one is removed, the independent stays
test_independent_stays_when_the_cumulative_goes() {
	policy "independent = indep"
	put cum-v2 indep
	apply_ok
	n=$(nactions)
	rm_payload cum-v2
	apply_ok
	assert_err_empty
	assertEquals "actions" "revert:indep revert:cum-v2 apply:indep unload:cum-v2" "$(actions_since "$n")"
	converged "indep"
}

test_independent_stays_when_the_chain_is_blocked() {
	policy "independent = indep"
	put zz-base mm-middle indep
	apply_ok
	n=$(nactions)
	policy "independent = indep
blocked = zz-base"
	apply_ok
	assertEquals "actions" "revert:indep revert:mm-middle revert:zz-base apply:indep unload:zz-base unload:mm-middle" \
		"$(actions_since "$n")"
	converged "indep"
}

test_independent_stays_when_the_chain_is_quarantined() {
	policy "independent = indep"
	put zz-base indep
	apply_ok
	mkdir -p "$R/var/lib/xen-hotpatch/quarantine"
	printf 'zz-base\nquarantined by the test\n' >"$R/var/lib/xen-hotpatch/quarantine/$ZZ_BASE_ID"
	n=$(nactions)
	apply_ok
	assertEquals "actions" "revert:indep revert:zz-base apply:indep unload:zz-base" "$(actions_since "$n")"
	assert_applied "indep"
}

# issue 10 item 2: only an independent with pre/post hooks is applied; a new
# chain goes under it (revert it, apply the chain, put it back)
test_new_chain_under_an_independent_with_hooks() {
	policy "independent = hooks-prepost"
	put hooks-prepost
	apply_ok
	n=$(nactions)
	put zz-base mm-middle
	apply_ok
	assertEquals "actions" \
		"upload:zz-base upload:mm-middle revert:hooks-prepost apply:zz-base apply:mm-middle apply:hooks-prepost" \
		"$(actions_since "$n")"
	converged "zz-base mm-middle hooks-prepost"
}

# ... and a new chain bottom with hooks under a plain independent
test_new_chain_bottom_with_hooks_under_an_independent() {
	policy "independent = indep"
	put indep
	apply_ok
	n=$(nactions)
	put hooks-prepost
	apply_ok
	assertEquals "actions" "upload:hooks-prepost revert:indep apply:hooks-prepost apply:indep" "$(actions_since "$n")"
	converged "hooks-prepost indep"
}

# the chain's bottom changes under an independent with hooks: it comes off
# first, then one REPLACE (no unpatched moment for the chain)
test_replace_under_an_independent_with_hooks() {
	policy "independent = hooks-prepost"
	put zz-base hooks-prepost
	apply_ok
	n=$(nactions)
	rm_payload zz-base
	put cum-v2
	apply_ok
	assertEquals "actions" "upload:cum-v2 revert:hooks-prepost replace:cum-v2 apply:hooks-prepost unload:zz-base" \
		"$(actions_since "$n")"
	converged "cum-v2 hooks-prepost"
	assert_no_unpatched_window
}

# the matrix of issue 10 item 2 through the real tool, a representative cut:
# {chain kept, new, changed, removed} x {independents 0, 1, 2, one removed};
# hooks on both sides are the tests above, every hook case is the planner's
# unit test against Xen's rules
test_chain_and_independents_matrix() {
	for chain in kept new changed removed; do
		for ind in 0 1 2 one-removed; do
			cli_teardown
			cli_setup
			case $ind in
			0) list="" ;;
			1 | one-removed) list="indep" ;;
			2) list="indep unsafe" ;;
			esac
			policy "independent = indep unsafe"
			before=""
			case $chain in kept | changed | removed) before="zz-base mm-middle" ;; esac
			case $ind in 1) before="$before indep" ;; 2 | one-removed) before="$before indep unsafe" ;; esac
			# shellcheck disable=SC2086
			[ -n "$before" ] && put $before
			[ -n "$before" ] && { xhp apply; assertEquals "before ($chain, $ind): $(_ctx)" 0 "$RC"; }
			rm_payload zz-base mm-middle indep unsafe
			case $chain in
			kept | new) after="zz-base mm-middle" ;;
			changed) after="cum-v2" ;;
			removed) after="" ;;
			esac
			after=$(echo "$after $list" | sed 's/^ *//; s/ *$//')
			# shellcheck disable=SC2086
			[ -n "$after" ] && put $after
			xhp apply
			assertEquals "chain $chain, independents $ind: $(_ctx)" 0 "$RC"
			assertEquals "chain $chain, independents $ind" "$after" "$(applied)"
		done
	done
}

# shellcheck disable=SC1091
. shunit2
