#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# The crash-loop guard (issue 10 items 7-8, issue 13 item 4): a payload is
# proven only once the host stayed up after it; a state folder that cannot
# be written is said, with what it costs; the summary line counts honestly
# (never "nothing to do ... (0 payloads)" over payloads left out, never a
# message that contradicts the exit code).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

G=""
MOUNTS=""

setUp() {
	cli_setup
	G=$R/var/lib/xen-hotpatch
	MOUNTS=""
}

tearDown() {
	for _m in $MOUNTS; do
		umount "$_m" 2>/dev/null
	done
	cli_teardown
}

# small_fs DIR OPTIONS: a tmpfs mounted on DIR (a real read-only or full
# file system); skips the test where mounting is not allowed
small_fs() {
	mkdir -p "$1"
	if ! mount -t tmpfs -o "$2" tmpfs "$1" 2>/dev/null; then
		startSkipping
		return 1
	fi
	MOUNTS="$1 $MOUNTS"
}

reboot_host() {
	sim reboot >/dev/null || fail "sim reboot"
	rm -rf "$XEN_HOTPATCH_RUN_DIR"
}

# ls_marks KIND: the build-ids under KIND, space-separated
ls_marks() {
	# shellcheck disable=SC2012
	ls "$G/$1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}

# with the default proven_after_s = 0, the applying run proves what it
# applied once its steps are done and the hypervisor, read again, still
# has it; no attempt is left behind
test_proven_by_the_applying_run() {
	put zz-base mm-middle
	apply_ok
	assertEquals "attempts" "" "$(ls_marks attempts)"
	assertEquals "proven" "$MM_MIDDLE_ID $ZZ_BASE_ID" "$(ls_marks proven | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
}

# proven_after_s: a reboot sooner than that after the apply leaves the
# payload unproven (not quarantined); a later run that sees it still applied
# proves it
test_proven_only_after_the_host_stayed_up() {
	policy "proven_after_s = 2"
	put zz-base
	apply_ok
	assertEquals "not proven by the apply" "" "$(ls_marks proven)"
	assertEquals "attempt kept" "$ZZ_BASE_ID" "$(ls_marks attempts)"
	xhp status
	assert_rc 0
	assert_out_has "applied, proof pending (proven_after_s = 2):" "zz-base"
	reboot_host
	xhp boot
	assert_rc 0
	assert_out_has "zz-base: not proven: the host rebooted soon after its apply"
	assert_applied ""
	assertEquals "not quarantined" "" "$(ls_marks quarantine)"
	apply_ok
	assert_applied "zz-base"
	sleep 3
	xhp status
	assert_rc 0
	assertEquals "proven once seen applied 2 s later" "$ZZ_BASE_ID" "$(ls_marks proven)"
	reboot_host
	xhp boot
	assert_rc 0
	assert_applied "zz-base"
}

# the host dies applying mm-middle right after zz-base in one run: only the
# apply in flight is blamed (quarantined); zz-base, applied before it in the
# same run, is left unproven
test_only_the_apply_in_flight_is_quarantined() {
	put zz-base mm-middle
	XEN_HOTPATCH_SIM_FAIL=apply:mm-middle:crash xhp apply
	assertNotEquals "the host died: $(_ctx)" 0 "$RC"
	reboot_host
	xhp boot
	assert_rc 0
	assert_out_has "mm-middle: quarantined" "zz-base: not proven: the host rebooted soon after its apply"
	assert_out_lacks "zz-base: quarantined"
	assertEquals "quarantined" "$MM_MIDDLE_ID" "$(ls_marks quarantine)"
	assert_applied ""
	apply_ok
	assert_applied "zz-base"
}

# the host died applying mm-middle, and after the reboot its quarantine mark
# cannot be written: every run says so (an error, never "quarantined"),
# leaves mm-middle out all the same, and status counts it quarantined; the
# crashing payload is never applied again until an operator clears it
test_quarantine_that_cannot_be_written_keeps_the_payload_out() {
	put zz-base
	apply_ok
	put mm-middle
	XEN_HOTPATCH_SIM_FAIL=apply:mm-middle:crash xhp apply
	assertNotEquals "the host died: $(_ctx)" 0 "$RC"
	reboot_host
	: >"$G/quarantine" # a file where the folder should be (ENOTDIR)
	xhp boot
	assert_rc 0
	assert_err_line "mm-middle: its apply in an earlier boot was not seen to complete, and its quarantine mark" \
		"cannot be written in $G" "left out of this run"
	assert_out_lacks "mm-middle: quarantined: its apply"
	assert_applied "zz-base"
	xhp apply
	assert_rc 1
	assert_err_has "mm-middle: its apply in an earlier boot was not seen to complete"
	assert_applied "zz-base"
	xhp status
	assert_rc 3
	assert_out_has "$MM_MIDDLE_ID	its apply in an earlier boot was not seen to complete; its quarantine mark"
	xhp clear mm-middle
	assert_rc 0
	apply_ok
	assert_applied "zz-base mm-middle"
}

# issue 10 item 8: /var/lib/xen-hotpatch cannot be written
test_unwritable_state_is_said_and_counted() {
	mkdir -p "$R/var/lib"
	: >"$G" # a file where the folder should be: every write fails (ENOTDIR)
	put zz-base
	xhp apply
	assert_rc 1
	assert_err_line "cannot write the crash-loop guard's records in $G" "1 apply went without an attempt record" \
		"boot will not reapply it"
	assert_applied "zz-base"
	reboot_host
	rm -f "$G"
	xhp boot
	assert_rc 0
	assert_out_lacks "nothing to do"
	assert_out_has "the hypervisor runs 0 payloads; 1 installed payload left out: zz-base (not proven)"
}

# a read-only /var/lib (EROFS) and a full one (ENOSPC), as they really are
test_readonly_state_folder() {
	small_fs "$G" ro,size=64k || return 0
	put zz-base
	xhp apply
	assert_rc 1
	assert_err_line "cannot write the crash-loop guard's records in $G (Read-only file system)"
	assert_applied "zz-base"
	xhp status
	assert_rc 0
}

test_full_state_folder() {
	small_fs "$G" size=8k || return 0
	dd if=/dev/zero of="$G/filler" bs=1k count=64 2>/dev/null
	put zz-base
	xhp apply
	assert_rc 1
	assert_err_line "cannot write the crash-loop guard's records in $G (No space left on device)"
	assert_applied "zz-base"
}

# the record of this boot cannot be written (a full /run): said, as a
# warning; the next run takes what is loaded by name
test_full_run_folder_is_a_warning() {
	small_fs "$XEN_HOTPATCH_RUN_DIR" size=8k || return 0
	: >"$XEN_HOTPATCH_RUN_DIR/lock"
	dd if=/dev/zero of="$XEN_HOTPATCH_RUN_DIR/filler" bs=1k count=64 2>/dev/null
	put zz-base mm-middle
	xhp apply
	assert_rc 0
	assert_err_has "warning: cannot write $XEN_HOTPATCH_RUN_DIR/loaded.json (No space left on device)"
	assert_applied "zz-base mm-middle"
	xhp status
	assert_rc 0
	assert_out_has "1. zz-base" "2. mm-middle"
}

# at boot, a state folder that cannot be written (a read-only root in the
# initramfs) is a note, and boot still applies the proven stack
test_unwritable_state_at_boot_is_a_note() {
	put zz-base
	apply_ok
	reboot_host
	chmod 0555 "$G/attempts"
	mv "$G/attempts" "$G/attempts.ro"
	: >"$G/attempts"
	xhp boot
	assert_rc 0
	assert_applied "zz-base"
	assert_out_has "note: $G cannot be written here" "not guarded against a crash"
}

# issue 10 item 8 / issue 13 item 4: payloads left out are counted, by why
test_boot_counts_what_it_leaves_out() {
	policy "independent = indep"
	put zz-base mm-middle
	XEN_HOTPATCH_SIM_FAIL=apply:zz-base:crash xhp apply
	reboot_host
	put indep
	xhp boot
	assert_rc 0
	assert_out_lacks "nothing to do"
	assert_out_has "zz-base: quarantined" \
		"nothing to change: the hypervisor runs 0 payloads; 3 installed payloads left out: indep (not proven), mm-middle (not proven), zz-base (quarantined)"
}

# issue 13 item 4: an installed payload that cannot be used is never
# "nothing to do", and the exit code says the same as the message
test_refused_payload_is_not_nothing_to_do() {
	put_as "$FX/bad/no-depends.livepatch" broken
	xhp apply
	assert_rc 1
	assert_out_lacks "nothing to do"
	assert_out_has "the hypervisor runs 0 payloads; 1 installed payload cannot be used (see above)"
	put zz-base orphan
	apply_ok_or_one
	assert_out_has "the hypervisor runs 1 payload; 2 installed payloads cannot be used (see above)"
}

# apply_ok_or_one: the run converged what it could and exits 1
apply_ok_or_one() {
	xhp apply
	assert_rc 1
}

# shellcheck disable=SC1091
. shunit2
