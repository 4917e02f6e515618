#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# boot: reapply the proven stack after a reboot; the kill switch and policy;
# the crash-loop guard (a payload whose apply killed the host is quarantined
# at the next boot, the rest still applied); boot never fails (exit 0).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# reboot_host: the hypervisor forgets everything, and so does /run
reboot_host() {
	sim reboot >/dev/null || fail "sim reboot"
	rm -rf "$XEN_HOTPATCH_RUN_DIR"
}

test_boot_reapplies_the_proven_stack() {
	put aa-top mm-middle zz-base
	apply_ok
	reboot_host
	assert_applied ""
	xhp status
	assert_rc 3
	xhp boot
	assert_rc 0
	assert_err_empty
	assert_applied "zz-base mm-middle aa-top"
	assertEquals "actions after the reboot" \
		"upload:zz-base upload:mm-middle upload:aa-top apply:zz-base apply:mm-middle apply:aa-top" "$(actions)"
	xhp status
	assert_rc 0
	# a second boot (the unit after the initramfs) has nothing to do
	xhp boot
	assert_rc 0
	assert_out_has "nothing to do"
}

# the cumulative payload proven at run time is what boot applies
test_boot_after_cumulative_upgrade() {
	put zz-base mm-middle
	apply_ok
	rm_payload zz-base mm-middle
	put cum-v2
	apply_ok
	reboot_host
	xhp boot
	assert_rc 0
	assert_applied "cum-v2"
}

test_payload_added_without_apply_is_not_applied_at_boot() {
	policy "independent = indep"
	put zz-base mm-middle
	apply_ok
	put indep aa-top
	reboot_host
	xhp boot
	assert_rc 0
	assert_applied "zz-base mm-middle"
	assert_out_has "aa-top: not proven yet" "indep: not proven yet"
	xhp status
	assert_rc 3
	assert_out_has "aa-top" "pending: run \`xen-hotpatch apply\`"
	# apply (what the unit or the package trigger runs) adds them, and proves them
	apply_ok
	assert_applied "zz-base mm-middle aa-top indep"
	reboot_host
	xhp boot
	assert_applied "zz-base mm-middle aa-top indep"
}

test_kill_switch_on_the_command_line() {
	put zz-base
	apply_ok
	reboot_host
	echo "placeholder root=/dev/xvda1 ro xen_hotpatch=0 quiet" >"$T/cmdline"
	XEN_HOTPATCH_CMDLINE=$T/cmdline xhp boot
	assert_rc 0
	assert_out_has "xen_hotpatch=0 on the kernel command line: not applying payloads"
	assertEquals "no action" "" "$(actions)"
	# the last xen_hotpatch= wins, as for kernel parameters
	echo "xen_hotpatch=0 xen_hotpatch=1" >"$T/cmdline"
	XEN_HOTPATCH_CMDLINE=$T/cmdline xhp boot
	assert_rc 0
	assert_applied "zz-base"
}

test_kill_switch_off() {
	put zz-base
	apply_ok
	reboot_host
	echo "xen_hotpatch=off" >"$T/cmdline"
	XEN_HOTPATCH_CMDLINE=$T/cmdline xhp boot
	assert_rc 0
	assert_applied ""
}

test_boot_apply_no() {
	put zz-base
	apply_ok
	reboot_host
	policy "boot_apply = no"
	echo "ro" >"$T/cmdline"
	XEN_HOTPATCH_CMDLINE=$T/cmdline xhp boot
	assert_rc 0
	assert_out_has "boot_apply = no in policy: not applying payloads"
	assert_applied ""
}

# crash-loop guard: the tool dies (the host with it) applying aa-top
test_crash_loop_quarantines_and_applies_the_rest() {
	put zz-base mm-middle
	apply_ok
	put aa-top
	XEN_HOTPATCH_SIM_FAIL=apply:aa-top:crash xhp apply
	assertNotEquals "the tool was killed: $(_ctx)" 0 "$RC"
	reboot_host
	xhp boot
	assert_rc 0
	assert_out_has "aa-top: quarantined: its apply in an earlier boot was not seen to complete"
	assert_applied "zz-base mm-middle"
	xhp status
	assert_rc 3
	assert_out_has "quarantined (release with" "aa-top"
	xhp --json status
	assert_json_out '[.quarantined[] | "\(.name) \(.build_id)"] | join(",")' "aa-top $AA_TOP_ID"
	# apply leaves it off too, until an operator clears it
	xhp apply
	assert_rc 0
	assert_applied "zz-base mm-middle"
	xhp clear aa-top
	assert_rc 0
	assert_out_has "aa-top: released from quarantine"
	xhp clear aa-top
	assert_rc 1
	assert_err_line "aa-top: not quarantined"
	apply_ok
	assert_applied "zz-base mm-middle aa-top"
	xhp status
	assert_rc 0
}

# the guard also covers a boot that dies: a proven payload whose apply
# kills the host at boot is quarantined at the next one, the stack below it
# still applied (no crash loop)
test_crash_during_boot() {
	put zz-base mm-middle aa-top
	apply_ok
	reboot_host
	XEN_HOTPATCH_SIM_FAIL=apply:mm-middle:crash xhp boot
	assertNotEquals "the tool was killed: $(_ctx)" 0 "$RC"
	reboot_host
	xhp boot
	assert_rc 0
	assert_out_has "mm-middle: quarantined"
	assert_applied "zz-base"
	xhp boot
	assert_rc 0
	assert_applied "zz-base"
	xhp clear mm-middle
	apply_ok
	assert_applied "zz-base mm-middle aa-top"
}

test_clear_by_build_id_and_all() {
	put zz-base mm-middle
	XEN_HOTPATCH_SIM_FAIL=apply:zz-base:crash xhp apply
	reboot_host
	xhp boot
	assert_rc 0
	assert_out_has "zz-base: quarantined"
	assert_applied ""
	xhp clear "$ZZ_BASE_ID"
	assert_rc 0
	assert_out_has "zz-base: released from quarantine"
	apply_ok
	assert_applied "zz-base mm-middle"
	xhp clear --all
	assert_rc 0
}

# boot never fails: not even when the hypervisor is down
test_boot_never_fails() {
	put zz-base
	XEN_HOTPATCH_SIM_FAIL=apply:zz-base:crash xhp apply
	xhp boot
	assert_rc 0
	assert_err_has "not applying payloads at boot"
	printf 'backend = sim:%s\nnonsense\n' "$SIMD" >"$R/etc/xen-hotpatch/xen-hotpatch.conf"
	reboot_host
	xhp boot
	assert_rc 0
	assert_err_line "xen-hotpatch.conf:2" "not applying payloads at boot"
	assert_applied ""
}

# shellcheck disable=SC1091
. shunit2
