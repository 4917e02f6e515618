#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# Hostile files and folders (issue 10, items 11-13 and 16): a FIFO, a device
# or a directory where a file is expected never blocks the tool and is named
# in one line; payload folders, and the folders above them, that others can
# write are refused; a NUL byte in the policy is an error at its line; odd
# file names get a clear reason. Each test starts from an applied chain
# zz-base <- mm-middle, so "nothing changed" means something.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

setUp() {
	cli_setup_chain
	CONF=$R/etc/xen-hotpatch/xen-hotpatch.conf
}

# xhp_bounded ARGS...: xhp that cannot hang the tier: after 30 s it is
# killed and RC is 124 (a FIFO opened for reading blocks until a writer
# comes, forever here)
xhp_bounded() {
	LAST="xen-hotpatch --root R $*"
	timeout 30 "$XHP_BIN" --root "$R" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
}

# unchanged: no hypervisor action since setUp, same applied/loaded state
unchanged() {
	assert_same_state "$BEFORE"
	assertEquals "sim actions of: $LAST" "" "$(actions_since "$N0")"
}

# refused_line RC STRING...: apply exits RC, says one line holding each
# STRING, and changes nothing
refused_line() {
	_rc=$1
	shift
	xhp_bounded apply
	assert_rc "$_rc"
	assert_err_line "$@"
	unchanged
}

# ---- FIFOs and devices where a file is expected ------------------------------

test_fifo_as_payload() {
	mkfifo "$PD/aa-top.livepatch"
	refused_line 1 "xen-hotpatch: $PD/aa-top.livepatch: is a FIFO, not a regular file: never applied"
	xhp_bounded status
	assert_rc 3
	assert_out_has "$PD/aa-top.livepatch: is a FIFO, not a regular file"
}

test_device_as_payload() {
	mknod "$PD/aa-top.livepatch" c 1 3
	refused_line 1 "$PD/aa-top.livepatch: is a character device, not a regular file: never applied"
}

test_fifo_as_policy() {
	rm "$CONF"
	mkfifo "$CONF"
	refused_line 1 "xen-hotpatch: $CONF: is a FIFO, not a regular file"
	xhp_bounded status
	assert_rc 1
	assert_err_line "$CONF: is a FIFO, not a regular file"
}

test_fifo_in_conf_d() {
	mkdir "$R/etc/xen-hotpatch/conf.d"
	mkfifo "$R/etc/xen-hotpatch/conf.d/50-site.conf"
	refused_line 1 "xen-hotpatch: $R/etc/xen-hotpatch/conf.d/50-site.conf: is a FIFO, not a regular file"
}

test_directory_in_conf_d() {
	mkdir -p "$R/etc/xen-hotpatch/conf.d/50-site.conf"
	refused_line 1 "xen-hotpatch: $R/etc/xen-hotpatch/conf.d/50-site.conf: is a directory, not a regular file"
}

# hidden entries and other names than *.conf are not read, whatever they are
test_conf_d_ignores_hidden_and_other_names() {
	mkdir -p "$R/etc/xen-hotpatch/conf.d/.50-site.conf" "$R/etc/xen-hotpatch/conf.d/README"
	mkfifo "$R/etc/xen-hotpatch/conf.d/50-site.conf.dpkg-old"
	xhp_bounded status
	assert_rc 0
	assert_err_empty
}

test_conf_d_not_a_directory() {
	: >"$R/etc/xen-hotpatch/conf.d"
	refused_line 1 "xen-hotpatch: $R/etc/xen-hotpatch/conf.d: Not a directory"
}

test_fifo_as_config_option_file() {
	mkfifo "$T/policy"
	xhp_bounded --config "$T/policy" status
	assert_rc 1
	assert_err_line "xen-hotpatch: $T/policy: is a FIFO, not a regular file"
}

# the kill switch reads /proc/cmdline (XEN_HOTPATCH_CMDLINE in tests): boot
# goes on, and never fails
test_fifo_as_kernel_command_line() {
	mkfifo "$T/cmdline"
	XEN_HOTPATCH_CMDLINE=$T/cmdline xhp_bounded boot
	assert_rc 0
	unchanged
}

# the record of what was loaded, the apply log and the durable marks are
# the engine's files, read and written through the same helpers
test_fifo_as_record_and_log() {
	mkdir -p "$XEN_HOTPATCH_RUN_DIR"
	rm -f "$XEN_HOTPATCH_RUN_DIR/apply.log" "$XEN_HOTPATCH_RUN_DIR/loaded.json"
	mkfifo "$XEN_HOTPATCH_RUN_DIR/apply.log" "$XEN_HOTPATCH_RUN_DIR/loaded.json"
	put aa-top
	xhp_bounded apply
	assertNotEquals "apply hung: $(_ctx)" 124 "$RC"
	xhp_bounded status
	assertNotEquals "status hung: $(_ctx)" 124 "$RC"
}

# a quarantine mark that cannot be read still quarantines: apply leaves the
# payload out, and status says so (exit 3) until `clear` releases it
test_fifo_as_quarantine_mark() {
	mkdir -p "$R/var/lib/xen-hotpatch/quarantine"
	mkfifo "$R/var/lib/xen-hotpatch/quarantine/$AA_TOP_ID"
	put aa-top
	xhp_bounded apply
	assert_rc 0
	assert_out_has "aa-top (quarantined)"
	unchanged
	xhp_bounded status
	assert_rc 3
	assert_out_has "$AA_TOP_ID	its quarantine mark cannot be read"
	xhp_bounded clear "$AA_TOP_ID"
	assert_rc 0
	xhp_bounded status
	assert_rc 3
	assert_out_has "aa-top                                   pending"
	apply_ok
	assert_applied "zz-base mm-middle aa-top"
}

# an attempt mark in the way of the next apply (a FIFO: opening it to write
# would wait for a reader forever) is replaced, and the apply is guarded
test_fifo_as_attempt_mark() {
	mkdir -p "$R/var/lib/xen-hotpatch/attempts"
	mkfifo "$R/var/lib/xen-hotpatch/attempts/$AA_TOP_ID"
	put aa-top
	xhp_bounded apply
	assert_rc 0
	assert_err_empty
	assert_applied "zz-base mm-middle aa-top"
	assertTrue "proven" "[ -f '$R/var/lib/xen-hotpatch/proven/$AA_TOP_ID' ]"
}

# ---- the policy: NUL bytes and numbers ---------------------------------------

# a NUL used to end the file: the line after it was ignored
test_nul_byte_in_policy() {
	printf 'backend = sim:%s\n# site\000\nblocked = mm-middle\n' "$SIMD" >"$CONF"
	refused_line 1 "xen-hotpatch: $CONF:2: a NUL byte: not a text file"
}

test_nul_byte_in_conf_d() {
	mkdir "$R/etc/xen-hotpatch/conf.d"
	printf 'blocked = mm-middle\000\n' >"$R/etc/xen-hotpatch/conf.d/50-site.conf"
	refused_line 1 "$R/etc/xen-hotpatch/conf.d/50-site.conf:1: a NUL byte"
}

# number_refused KEY VALUE: the policy line KEY = VALUE is refused at line 2
number_refused() {
	policy "$1 = $2"
	xhp_bounded status
	assert_rc 1
	assert_err_line "xen-hotpatch: $CONF:2: bad value \"$(printf '%s' "$2" | sed 's/^ *//; s/ *$//')\" for $1 (expected a whole number of milliseconds from"
}

test_numbers_refused() {
	for v in +5 -5 -0 5ms 0x10 1e3 "5 5" 5.0 " " 99999999999999999999 4294967296 18446744073709551616 \
		3600001 "$(printf '\342\202\205')"; do
		number_refused deadline_ms "$v"
		number_refused lock_wait_ms "$v"
	done
	for v in +1 4295 -1 4294967297; do
		number_refused action_timeout_ms "$v"
	done
	# a deadline of 0 ms would give up on every action at once
	number_refused deadline_ms 0
}

test_numbers_accepted() {
	for kv in "deadline_ms = 1" "deadline_ms = 3600000" "deadline_ms =007" "lock_wait_ms = 0" \
		"lock_wait_ms = 3600000" "action_timeout_ms = 0" "action_timeout_ms = 4294" \
		"action_timeout_ms=30"; do
		policy "$kv"
		xhp_bounded status
		assertEquals "status with '$kv': $(_ctx)" 0 "$RC"
	done
}

# a list word that can never be a payload name is a typo, not a name
test_list_words_must_be_names() {
	policy 'blocked = mm-middle;aa-top'
	xhp_bounded status
	assert_rc 1
	assert_err_line "$CONF:2: bad value \"mm-middle;aa-top\" for blocked (expected payload names or build-ids"
}

# the value is quoted escaped: an escape sequence in a policy value never
# reaches the terminal
test_policy_value_escaped() {
	policy "$(printf 'on_failure = \033[31mstop')"
	xhp_bounded status
	assert_rc 1
	assert_err_line "$CONF:2: bad value \"\\x1b[31mstop\" for on_failure (expected stop or rollback)"
	assert_err_lacks "$(printf '\033')"
}

# ---- payload file names ------------------------------------------------------

test_file_named_dot_livepatch() {
	put_as "$FX/aa-top.livepatch" ""
	refused_line 1 "$PD/.livepatch: the name is empty: a payload file is NAME.livepatch: never applied"
}

test_file_named_dot_dot_livepatch() {
	put_as "$FX/aa-top.livepatch" "."
	refused_line 1 "$PD/..livepatch: name \".\" is not allowed (not \".\" or \"..\"): never applied"
	rm_payload .
	put_as "$FX/aa-top.livepatch" ".."
	refused_line 1 "$PD/...livepatch: name \"..\" is not allowed"
}

# a newline or an escape sequence in a file name cannot forge a line or
# reach the terminal: status says OUT OF SYNC once, and no "in sync"
test_file_name_cannot_forge_lines() {
	_n=$(printf 'x\nstate: in sync\033[2J')
	put_as "$FX/aa-top.livepatch" "$_n"
	refused_line 1 "$PD/x\\nstate: in sync\\x1b[2J.livepatch: name \"x\\nstate: in sync\\x1b[2J\" has characters outside"
	xhp_bounded status
	assert_rc 3
	assertEquals "state lines of: $(_ctx)" "state: OUT OF SYNC" "$(grep '^state' "$T/out")"
	assert_out_lacks "$(printf '\033')"
	xhp_bounded status --json
	assert_json_out '.problems[0].file' "$PD/$_n.livepatch"
}

# a hidden payload is a payload: .x.livepatch is the payload ".x"
test_hidden_payload_name() {
	put_as "$FX/aa-top.livepatch" ".x"
	apply_ok
	assert_applied "zz-base mm-middle .x"
}

# ---- an applied payload whose installed file goes bad ---------------------

# a bad file (malformed, unsafe, not a regular file) is bad input: it never
# takes off the payload applied under its name, nor what is above it; the
# run says why, exits 1 and changes nothing, and status says the same
test_applied_payload_whose_file_goes_bad_stays() {
	for kind in truncated writable fifo; do
		for who in mm-middle zz-base; do
			cli_teardown
			cli_setup_chain
			rm -f "$PD/$who.livepatch"
			case $kind in
			truncated) head -c 100 "$FX/$who.livepatch" >"$PD/$who.livepatch" ;;
			writable) put "$who" && chmod 0666 "$PD/$who.livepatch" ;;
			fifo) mkfifo "$PD/$who.livepatch" ;;
			esac
			xhp_bounded apply
			assertEquals "apply ($kind $who): $(_ctx)" 1 "$RC"
			assert_err_has "$who is applied and its installed file cannot be used (see above): it stays applied"
			unchanged
			xhp_bounded status
			assertEquals "status ($kind $who): $(_ctx)" 3 "$RC"
		done
	done
}

# ---- files and folders others can write ------------------------------------

test_payload_owned_by_another_user() {
	put aa-top
	chown nobody "$PD/aa-top.livepatch"
	refused_line 1 "$PD/aa-top.livepatch: is owned by uid $(id -u nobody), not root: refusing to load it"
}

# folder_refused PATH REASON: apply and status refuse the payloads, with
# one line naming PATH, and change nothing
folder_refused() {
	put aa-top
	refused_line 1 "xen-hotpatch: $1 $2: refusing to read payloads below it: nothing changed"
	xhp_bounded status
	assert_rc 3
	assert_out_has "payload-dir: $1 $2"
}

test_payload_folder_writable_by_everyone() {
	chmod 0777 "$PD"
	folder_refused "payload folder $PD" "is writable by everyone (mode 0777)"
}

test_payload_folder_sticky_is_still_refused() {
	chmod 1777 "$PD"
	folder_refused "payload folder $PD" "is writable by everyone (mode 1777)"
}

test_payload_dir_writable_by_its_group() {
	chmod 0775 "$R/usr/lib/xen-hotpatch"
	folder_refused "payload folder $R/usr/lib/xen-hotpatch" "is writable by its group (mode 0775)"
}

test_payload_folder_owned_by_another_user() {
	chown nobody "$PD"
	folder_refused "payload folder $PD" "is owned by uid $(id -u nobody), not root"
}

test_folder_above_writable_by_everyone() {
	chmod 0777 "$R/usr/lib"
	folder_refused "folder above the payloads $R/usr/lib" "is writable by everyone (mode 0777)"
}

test_folder_above_owned_by_another_user() {
	chown nobody "$R/usr"
	folder_refused "folder above the payloads $R/usr" "is owned by uid $(id -u nobody), not root"
}

test_root_itself_writable() {
	chmod 0757 "$R"
	folder_refused "folder above the payloads $R" "is writable by everyone (mode 0757)"
}

# a sticky folder of root's above the payloads (as /tmp, where this tier
# runs) is fine: others cannot rename or remove what is not theirs
test_sticky_folder_above_is_fine() {
	chmod 1777 "$R/usr"
	put aa-top
	apply_ok
	assert_err_empty
	assert_applied "zz-base mm-middle aa-top"
}

# ... unless it is not root's
test_sticky_folder_above_owned_by_another_user() {
	chmod 1777 "$R/usr"
	chown nobody "$R/usr"
	folder_refused "folder above the payloads $R/usr" "is owned by uid $(id -u nobody), not root"
}

# the folder is judged as it really is: a symbolic link to a folder others
# can write is refused by the name of that folder
test_payload_folder_is_a_link_to_a_writable_folder() {
	mkdir -m 0777 "$T/elsewhere"
	cp -p "$PD"/*.livepatch "$T/elsewhere/"
	rm -rf "$PD"
	ln -s "$T/elsewhere" "$PD"
	folder_refused "payload folder $T/elsewhere" "is writable by everyone (mode 0777)"
}

# the folders of other hypervisors are only counted, never read: their mode
# does not matter
test_other_hypervisor_folder_is_not_judged() {
	mkdir -p "$R/usr/lib/xen-hotpatch/$OTHER_XEN_ID"
	chmod 0777 "$R/usr/lib/xen-hotpatch/$OTHER_XEN_ID"
	put aa-top
	apply_ok
	assert_err_empty
}

# shellcheck disable=SC1091
. shunit2
