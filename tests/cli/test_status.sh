#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# status: the applied stack against what is installed; exit 0 in sync, 3 out
# of sync; --json for tools. It never changes the hypervisor.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

test_nothing_installed_nothing_applied_is_in_sync() {
	xhp status
	assert_rc 0
	assert_out_has "hypervisor $XEN_ID (backend sim)" "applied, bottom first: none" "state: in sync"
}

test_in_sync() {
	put aa-top mm-middle zz-base
	apply_ok
	xhp status
	assert_rc 0
	assert_err_empty
	assert_out_has "1. zz-base" "$ZZ_BASE_ID" "2. mm-middle" "3. aa-top" "state: in sync"
	assert_out_lacks "installed, not applied"
}

test_installed_not_applied_is_out_of_sync() {
	put zz-base
	apply_ok
	put mm-middle
	s=$(snapshot)
	xhp status
	assert_rc 3
	assert_out_has "installed, not applied:" "mm-middle" "pending: run \`xen-hotpatch apply\`" "state: OUT OF SYNC"
	assert_same_state "$s"
}

test_applied_not_installed_is_out_of_sync() {
	put zz-base mm-middle
	apply_ok
	rm_payload mm-middle
	xhp status
	assert_rc 3
	assert_out_has "2. mm-middle" "not in the installed stack: the next apply takes it off" "OUT OF SYNC"
	xhp --json status
	assert_rc 3
	assert_json_out '[.applied[] | "\(.name):\(.installed)"] | join(" ")' "zz-base:true mm-middle:false"
	assert_json_out '.in_sync' false
}

test_json_shape() {
	put zz-base mm-middle
	apply_ok
	put aa-top
	xhp --json status
	assert_rc 3
	assert_err_empty
	assert_json_out 'keys | join(",")' \
		"applied,backend,blocked,build_id,in_sync,installed_not_applied,loaded_not_applied,other_hypervisors,problems,quarantined"
	assert_json_out '"\(.build_id) \(.backend) \(.in_sync)"' "$XEN_ID sim false"
	assert_json_out '.applied[0] | keys | join(",")' "build_id,depends,installed,name,origin,rc"
	assert_json_out '[.applied[] | "\(.name):\(.build_id):\(.depends):\(.origin)"] | join(" ")' \
		"zz-base:$ZZ_BASE_ID:$XEN_ID:xen-hotpatch mm-middle:$MM_MIDDLE_ID:$ZZ_BASE_ID:xen-hotpatch"
	assert_json_out '[.installed_not_applied[] | "\(.name):\(.build_id)"] | join(" ")' "aa-top:$AA_TOP_ID"
	assert_json_out '[.loaded_not_applied, .blocked, .other_hypervisors, .quarantined, .problems] | map(length) | join(",")' \
		"0,0,0,0,0"
}

test_json_after_the_verb() {
	put zz-base
	apply_ok
	xhp status --json
	assert_rc 0
	assert_json_out '"\(.in_sync) \(.applied[0].name)"' "true zz-base"
}

test_loaded_not_applied_is_shown() {
	put zz-base mm-middle
	apply_ok
	rm_payload mm-middle
	XEN_HOTPATCH_SIM_FAIL=unload:mm-middle:EBUSY xhp apply
	assert_rc 2
	xhp status
	assert_rc 3
	assert_out_has "loaded, not applied:" "mm-middle" "CHECKED"
	xhp --json status
	assert_json_out '[.loaded_not_applied[] | "\(.name):\(.state):\(.origin)"] | join(" ")' "mm-middle:CHECKED:xen-hotpatch"
}

test_problems_are_listed() {
	put zz-base orphan cyc-a cyc-b
	xhp apply
	assert_rc 1
	xhp status
	assert_rc 3
	assert_out_has "problems:" "  orphan is an orphan" "  cycle: "
	xhp --json status
	assert_json_out '[.problems[].kind] | sort | join(" ")' "cycle orphan"
}

# the human status shows the quarantine; test_boot.sh makes one for real,
# here the mark is written as the tool writes it
test_quarantine_is_shown() {
	put zz-base mm-middle
	mkdir -p "$R/var/lib/xen-hotpatch/quarantine"
	printf 'mm-middle\napply attempted in boot 1 never completed (the host went down)\n' \
		>"$R/var/lib/xen-hotpatch/quarantine/$MM_MIDDLE_ID"
	xhp apply
	assert_rc 0
	assert_applied "zz-base"
	xhp status
	assert_rc 3
	assert_out_has "quarantined (release with \`xen-hotpatch clear NAME\`):" "mm-middle" "$MM_MIDDLE_ID"
	xhp --json status
	assert_json_out '.quarantined[0] | "\(.name) \(.build_id)"' "mm-middle $MM_MIDDLE_ID"
}

test_status_never_changes_the_hypervisor() {
	put zz-base mm-middle
	apply_ok
	rm_payload mm-middle
	put cum-v2
	s=$(snapshot)
	n=$(nactions)
	xhp status
	assert_rc 3
	assert_same_state "$s"
	assertEquals "no action" "" "$(actions_since "$n")"
}

# the hypervisor's reported build-id decides which folder is read
test_other_hypervisor_after_reboot() {
	put zz-base
	apply_ok
	sim reboot --build-id "$OTHER_XEN_ID" >/dev/null
	rm -rf "$XEN_HOTPATCH_RUN_DIR"
	xhp status
	assert_rc 0
	assert_out_has "hypervisor $OTHER_XEN_ID" "installed for other hypervisors" "$XEN_ID: 1 payload"
}

# ---- golden files: the whole human-readable status --------------------------

test_golden_empty() {
	xhp status
	assert_rc 0
	assert_golden status/empty
}

test_golden_in_sync() {
	policy "independent = indep"
	put zz-base mm-middle aa-top indep
	apply_ok
	xhp status
	assert_rc 0
	assert_golden status/in-sync
}

# every section at once: applied (one no longer installed), loaded but not
# applied, pending, blocked, left out above a blocked one, other
# hypervisors, quarantine, problems
test_golden_out_of_sync() {
	put zz-base mm-middle unsafe
	policy "independent = unsafe"
	apply_ok
	rm_payload unsafe
	XEN_HOTPATCH_SIM_FAIL=unload:unsafe:EBUSY xhp apply
	rm_payload mm-middle
	put aa-top br-v1 br-nover orphan for-other-xen
	mkdir -p "$R/usr/lib/xen-hotpatch/$OTHER_XEN_ID"
	mv "$PD/for-other-xen.livepatch" "$R/usr/lib/xen-hotpatch/$OTHER_XEN_ID/"
	put cum-v3 on-cum3
	policy "blocked = cum-v3"
	mkdir -p "$R/var/lib/xen-hotpatch/quarantine"
	printf 'indep\nits apply in boot 1 was not seen to complete\n' >"$R/var/lib/xen-hotpatch/quarantine/$INDEP_ID"
	put indep
	xhp status
	assert_rc 3
	assert_golden status/out-of-sync
}

test_golden_foreign() {
	foreign_setup
	xhp status
	assert_rc 3
	assert_golden status/foreign
}


# shellcheck disable=SC1091
. shunit2
