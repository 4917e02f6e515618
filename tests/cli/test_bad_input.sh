#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# Bad input (issue 2's list): each is refused by `apply` with its exit code,
# one line on stderr naming the file or payload, and the hypervisor's
# applied/loaded state unchanged. Each test starts from an applied chain
# zz-base <- mm-middle, so "unchanged" means something.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

setUp() {
	cli_setup_chain
}

# refused RC STRING...: apply exits RC with one stderr line holding each
# STRING, and changed nothing (no sim action at all)
refused() {
	_rc=$1
	shift
	xhp apply
	assert_rc "$_rc"
	assert_err_line "$@"
	assert_same_state "$BEFORE"
	assertEquals "sim actions of: $LAST" "" "$(actions_since "$N0")"
}

# bad KIND REASON: the malformed fixture installed as KIND.livepatch
bad() {
	put_as "$FX/bad/$1.livepatch" "$1"
	refused 1 "xen-hotpatch: $PD/$1.livepatch: " "$2" "never applied"
	# status reports it too, and is out of sync
	xhp --json status
	assert_rc 3
	assert_json_out '[.problems[] | select(.kind == "invalid") | .file] | join(" ")' "$PD/$1.livepatch"
}

test_bad_not_elf() { bad not-elf "not an ELF file"; }
test_bad_truncated() { bad truncated "truncated"; }
test_bad_elf32() { bad elf32 "ELF class 32"; }
test_bad_wrong_machine() { bad wrong-machine "machine 183"; }
test_bad_exec() { bad exec "ET_EXEC"; }
test_bad_dyn() { bad dyn "ET_DYN"; }
test_bad_no_build_id() { bad no-build-id "missing section .note.gnu.build-id"; }
test_bad_no_depends() { bad no-depends "missing section .livepatch.depends"; }
test_bad_no_xen_depends() { bad no-xen-depends "missing section .livepatch.xen_depends"; }
test_bad_empty_depends() { bad empty-depends "section .livepatch.depends is empty"; }
test_bad_note_wrong_type() { bad note-wrong-type "note type 1"; }
test_bad_note_wrong_owner() { bad note-wrong-owner 'note owner "XEN"'; }
test_bad_note_not_alloc() { bad note-not-alloc "not SHF_ALLOC"; }
test_bad_funcs_bad_size() { bad funcs-bad-size "size 112 is not a multiple of 104"; }
test_bad_funcs_version() { bad funcs-version "version 3"; }
test_bad_funcs_v1() { bad funcs-v1 "version 1 entries: Xen <= 4.13"; }
test_bad_old_size_zero() { bad old-size-zero "old_size is 0"; }
test_bad_empty_funcs() { bad empty-funcs "section .livepatch.funcs is empty"; }
test_bad_hook_bad_size() { bad hook-bad-size "size 16"; }
test_bad_nothing_to_patch() { bad nothing-to-patch "nothing to patch"; }
test_bad_modinfo_no_nul() { bad modinfo-no-nul "last byte is not NUL"; }
test_bad_wx_section() { bad wx-section "both writable and executable"; }
test_bad_bad_reloc() { bad bad-reloc "R_X86_64_GOTPCREL"; }
test_bad_huge() { bad huge "at most 2097152"; }
test_bad_jump_too_far() { bad jump-too-far "out of reach of a jump"; }
test_bad_alt_outside_text() { bad alt-outside-text "not inside the payload's text"; }
test_bad_alt_repl_outside() { bad alt-repl-outside "not inside .altinstr_replacement"; }
test_bad_hook_array_not_alloc() { bad hook-array-not-alloc ".livepatch.hooks.load is not SHF_ALLOC"; }
test_bad_rela_ragged() { bad rela-ragged "is not a multiple of its entry size 24"; }
test_bad_rel_section() { bad rel-section "SHT_REL relocations are not supported"; }
test_bad_rela_info_0() { bad rela-info-0 "relocates section [0]"; }
test_bad_pc32_overflow() { bad pc32-overflow "R_X86_64_PC32 does not reach"; }

test_every_bad_kind_is_covered() {
	for k in $FIXTURES_BAD; do
		fn=test_bad_$(printf '%s' "$k" | tr '-' '_')
		grep -q "^$fn()" "$0" || fail "no $fn in $0 for the fixture kind $k"
	done
}

# Xen's name limit is 127 bytes: a 128-byte stem is refused, 127 accepted
test_name_too_long() {
	long=$(printf 'n%.0s' $(seq 128))
	put_as "$FX/aa-top.livepatch" "$long"
	refused 1 "$PD/$long.livepatch: name is 128 bytes, Xen allows 127"
}

test_name_of_127_bytes_is_fine() {
	rm_payload zz-base mm-middle
	long=$(printf 'n%.0s' $(seq 127))
	put_as "$FX/cum-v2.livepatch" "$long"
	apply_ok
	assert_applied "$long"
}

test_name_with_a_space() {
	put_as "$FX/aa-top.livepatch" "a b"
	refused 1 "$PD/a b.livepatch: name \"a b\" has characters outside [A-Za-z0-9._-]"
}

test_name_with_shell_characters() {
	# shellcheck disable=SC2016 # a literal $(id) in the file name
	put_as "$FX/aa-top.livepatch" 'x;$(id)'
	refused 1 "$PD/x;\$(id).livepatch: name" "has characters outside"
}

test_name_not_ascii() {
	put_as "$FX/aa-top.livepatch" "$(printf 'caf\303\251')"
	refused 1 "$PD/$(printf 'caf\303\251').livepatch: name" "has characters outside"
}

test_symlink_payload_file() {
	ln -s "$FX/aa-top.livepatch" "$PD/aa-top.livepatch"
	refused 1 "$PD/aa-top.livepatch: is a symbolic link"
}

test_world_writable_payload_file() {
	put aa-top
	chmod 0666 "$PD/aa-top.livepatch"
	refused 1 "$PD/aa-top.livepatch: is writable by everyone (mode 0666)"
}

test_group_writable_payload_file() {
	put aa-top
	chmod 0664 "$PD/aa-top.livepatch"
	refused 1 "$PD/aa-top.livepatch: is writable by its group"
}

test_payload_not_a_regular_file() {
	mkdir "$PD/aa-top.livepatch"
	refused 1 "$PD/aa-top.livepatch: is a directory, not a regular file"
}

# an already applied payload whose file became unsafe is never re-read: it
# is reported, and bad input changes nothing: it stays applied (a removed
# file takes it off; a bad one is not a removal)
test_applied_payload_file_becomes_world_writable() {
	chmod 0666 "$PD/mm-middle.livepatch"
	xhp apply
	assert_rc 1
	assert_err_has "$PD/mm-middle.livepatch: is writable by everyone" \
		"mm-middle is applied and its installed file cannot be used (see above): it stays applied"
	assert_applied "zz-base mm-middle"
}

# built for another hypervisor, in that hypervisor's folder: not a problem,
# reported under other hypervisors
test_other_hypervisor_in_its_own_folder() {
	mkdir -p "$R/usr/lib/xen-hotpatch/$OTHER_XEN_ID"
	install -m 0644 "$FX/for-other-xen.livepatch" "$R/usr/lib/xen-hotpatch/$OTHER_XEN_ID/"
	xhp apply
	assert_rc 0
	assert_err_empty
	assert_same_state "$BEFORE"
	xhp status
	assert_rc 0
	assert_out_has "installed for other hypervisors" "$OTHER_XEN_ID: 1 payload"
	xhp --json status
	assert_json_out '.other_hypervisors[0] | "\(.build_id) \(.payloads)"' "$OTHER_XEN_ID 1"
}

# ... in the running hypervisor's folder: reported and never applied
test_other_hypervisor_in_the_wrong_folder() {
	put for-other-xen
	refused 1 "$PD/for-other-xen.livepatch: built for hypervisor $OTHER_XEN_ID but installed in the folder of $XEN_ID: never applied"
	xhp status
	assert_rc 3
}

# two files with the same content: the second name is reported and unused
test_duplicate_payload_build_id() {
	put_as "$FX/mm-middle.livepatch" mm-middle-copy
	refused 1 "mm-middle and mm-middle-copy have the same build-id $MM_MIDDLE_ID: only mm-middle is used"
}

test_orphan() {
	put orphan
	refused 1 "orphan is an orphan: it stacks on build-id $ORPHAN_PARENT_ID"
}

test_cycle() {
	put cyc-a cyc-b
	refused 1 "cycle: " "cyc-a" "cyc-b" "never reach the hypervisor"
}

test_lock_held() {
	policy "lock_wait_ms = 200"
	put aa-top
	mkdir -p "$XEN_HOTPATCH_RUN_DIR"
	# flock holds the lock until its fifo is written to
	mkfifo "$T/go"
	# shellcheck disable=SC2016 # $1 of the inner shell
	flock "$XEN_HOTPATCH_RUN_DIR/lock" sh -c 'echo locked; read -r x <"$1"' sh "$T/go" >"$T/flock.out" &
	fpid=$!
	while ! grep -q locked "$T/flock.out" 2>/dev/null; do sleep 0.05; done
	refused 2 "another xen-hotpatch run holds $XEN_HOTPATCH_RUN_DIR/lock (waited 200 ms): try again"
	xhp revert mm-middle
	assert_rc 2
	assert_err_line "holds $XEN_HOTPATCH_RUN_DIR/lock"
	echo go >"$T/go"
	wait "$fpid"
	apply_ok
	assert_applied "zz-base mm-middle aa-top"
}

# the payload directory missing or unreadable: nothing installed cannot be
# told from nothing readable, so nothing is reverted
test_payload_dir_missing() {
	rm -rf "$R/usr/lib/xen-hotpatch"
	refused 1 "payload directory $R/usr/lib/xen-hotpatch: No such file or directory: nothing changed"
	xhp status
	assert_rc 3
	assert_out_has "payload-dir: payload directory $R/usr/lib/xen-hotpatch"
	assert_out_lacks "the next apply takes it off"
}

test_payload_dir_not_a_directory() {
	rm -rf "$R/usr/lib/xen-hotpatch"
	: >"$R/usr/lib/xen-hotpatch"
	refused 1 "payload directory $R/usr/lib/xen-hotpatch: Not a directory: nothing changed"
}

test_hypervisor_folder_not_a_directory() {
	rm -rf "$PD"
	: >"$PD"
	refused 1 "payload directory $PD: Not a directory: nothing changed"
}

# the hypervisor's folder missing is "nothing installed": the stack comes off
test_hypervisor_folder_missing_means_nothing_installed() {
	rm -rf "$PD"
	xhp apply
	assert_rc 0
	assert_err_empty
	assert_loaded ""
}

# unreadable (a non-root user cannot list it): only when setpriv can drop root
test_payload_dir_unreadable() {
	if ! command -v setpriv >/dev/null || [ "$(id -u)" != 0 ]; then
		startSkipping
	fi
	chmod 0700 "$R/usr/lib/xen-hotpatch"
	chmod 0755 "$(dirname "$SHUNIT_TMPDIR")" "$SHUNIT_TMPDIR" "$T"
	mkdir -p "$T/nobody-run"
	chown nobody "$T/nobody-run"
	chmod -R a+rwX "$SIMD"
	XEN_HOTPATCH_RUN_DIR=$T/nobody-run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$XHP_BIN" --root "$R" apply >"$T/out" 2>"$T/err"
	RC=$?
	LAST="setpriv --reuid=nobody xen-hotpatch --root R apply"
	assert_rc 1
	assert_err_line "payload directory $R/usr/lib/xen-hotpatch: Permission denied: nothing changed"
	assert_same_state "$BEFORE"
}

test_bad_policy_file() {
	printf 'backend = sim:%s\nfrobnicate = yes\n' "$SIMD" >"$R/etc/xen-hotpatch/xen-hotpatch.conf"
	refused 1 "$R/etc/xen-hotpatch/xen-hotpatch.conf:2"
}

# xen-hotpatch-mkpkg reads payloads with the tool: without it, it says so
# (it used to say "a payload is not valid"). Not on PATH, it takes
# /usr/sbin/xen-hotpatch (not on a user's PATH on Debian) when there is one.
test_mkpkg_without_the_tool() {
	mkdir "$T/bin"
	ln -s "$(command -v dirname)" "$T/bin/dirname"
	(unset XEN_HOTPATCH; PATH=$T/bin "$XHP_TOP/scripts/xen-hotpatch-mkpkg" --deb --outdir "$T" \
		"$FX/zz-base.livepatch") >"$T/out" 2>"$T/err"
	RC=$?
	LAST="xen-hotpatch-mkpkg --deb zz-base.livepatch (PATH without xen-hotpatch)"
	assert_rc 1
	if [ -x /usr/sbin/xen-hotpatch ]; then
		assert_err_lacks "not on PATH"
	else
		assert_err_line "xen-hotpatch-mkpkg: xen-hotpatch is not on PATH (it reads the payloads; install it, or set XEN_HOTPATCH): nothing built"
	fi
	for _t in "$T/nothing" "$T/bin" no-such-tool-xhp; do
		XEN_HOTPATCH=$_t "$XHP_TOP/scripts/xen-hotpatch-mkpkg" --deb --outdir "$T" \
			"$FX/zz-base.livepatch" >"$T/out" 2>"$T/err"
		RC=$?
		LAST="XEN_HOTPATCH=$_t xen-hotpatch-mkpkg --deb zz-base.livepatch"
		assert_rc 1
		case $_t in
		*/*) assert_err_line "xen-hotpatch-mkpkg: XEN_HOTPATCH=$_t is not an executable file: nothing built" ;;
		*) assert_err_line "xen-hotpatch-mkpkg: XEN_HOTPATCH=$_t is not on PATH: nothing built" ;;
		esac
	done
	assertEquals "nothing built in $T" "" "$(find "$T" -maxdepth 1 -name '*.deb')"
}

# shellcheck disable=SC1091
. shunit2
