#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# info: what a payload is, for people (human), scripts (--query) and tools
# (--json); every malformed fixture is refused with exit 1 and one line on
# stderr naming the file and the reason.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

setUp() { T=$(mktemp -d "${SHUNIT_TMPDIR:-/tmp}/t.XXXXXX"); }

# info_of ARGS...: the tool with ARGS, where each *.livepatch is a fixture
# file relative to $FX
info_of() {
	_args=
	for _f in "$@"; do
		case $_f in
		*.livepatch) _args="$_args $FX/$_f" ;;
		*) _args="$_args $_f" ;;
		esac
	done
	# shellcheck disable=SC2086
	xhp_noroot $_args
}

test_human_describes_a_payload() {
	info_of info mm-middle.livepatch
	assert_rc 0
	assert_err_empty
	assert_out_has "$FX/mm-middle.livepatch" "name:           mm-middle" \
		"build-id:       $MM_MIDDLE_ID" "depends:        $ZZ_BASE_ID (payload)" \
		"xen_depends:    $XEN_ID" "xen_extra_version (old 12 bytes, new " \
		"hooks:          none" "reapply:        safe after a revert"
	info_of info zz-base.livepatch
	assert_out_has "depends:        $XEN_ID (hypervisor)" "version=1"
}

test_human_hooks_and_reapply() {
	info_of info hooks-prepost.livepatch unsafe.livepatch hooks-only.livepatch
	assert_rc 0
	assert_out_has "preapply, postapply, prerevert, postrevert (pre/post hooks: cannot be used with REPLACE)" \
		"unsafe after a revert (has writable data)" "functions:      none" "hooks:          load, unload"
}

test_json_is_an_array_of_the_documented_shape() {
	info_of --json info zz-base.livepatch hooks-prepost.livepatch unsafe.livepatch
	assert_rc 0
	assert_err_empty
	assert_json_out 'length' 3
	assert_json_out '[.[] | keys | join(",")] | unique | .[]' \
		"build_id,depends,file,funcs,hooks,modinfo,name,safe_to_reapply,size,stacks_on,vetoing_hooks,xen_depends"
	assert_json_out '[.[].funcs[] | keys | join(",")] | unique | .[]' "expect,name,new_size,nop,old_size"
	assert_json_out '.[0] | [.file, .name, .build_id, .depends, .xen_depends, .stacks_on] | join(" ")' \
		"$FX/zz-base.livepatch zz-base $ZZ_BASE_ID $XEN_ID $XEN_ID hypervisor"
	assert_json_out '.[0].funcs[0] | "\(.name) \(.old_size) \(.nop) \(.expect)"' "xen_extra_version 12 false false"
	assert_json_out '.[0].modinfo.version' 1
	assert_json_out '.[0].size' "$(stat -c %s "$FX/zz-base.livepatch")"
	assert_json_out '.[1] | "\(.hooks | join(",")) \(.vetoing_hooks) \(.modinfo.version)"' \
		"preapply,postapply,prerevert,postrevert true 4"
	assert_json_out '.[2] | "\(.safe_to_reapply) \(.vetoing_hooks)"' "false false"
}

test_json_option_after_the_verb() {
	info_of info --json mm-middle.livepatch
	assert_rc 0
	assert_json_out '.[0] | "\(.name) \(.stacks_on) \(.depends)"' "mm-middle payload $ZZ_BASE_ID"
}

test_query_prints_one_tab_separated_line_per_file() {
	info_of info --query name,build_id,depends,xen_depends,stacks_on,version,modinfo.version,modinfo.none \
		zz-base.livepatch mm-middle.livepatch
	assert_rc 0
	assert_err_empty
	tab=$(printf '\t')
	assertEquals "query output: $(_ctx)" \
		"zz-base${tab}$ZZ_BASE_ID${tab}$XEN_ID${tab}$XEN_ID${tab}hypervisor${tab}1${tab}1${tab}
mm-middle${tab}$MM_MIDDLE_ID${tab}$ZZ_BASE_ID${tab}$XEN_ID${tab}payload${tab}${tab}${tab}" "$(cat "$T/out")"
}

test_query_unknown_field() {
	info_of info --query name,colour zz-base.livepatch
	assert_rc 1
	assert_err_line 'unknown field "colour"'
}

test_missing_file() {
	xhp_noroot info "$T/nothing.livepatch"
	assert_rc 1
	assert_err_line "$T/nothing.livepatch" "No such file"
}

test_several_files_good_ones_still_printed() {
	info_of --json info zz-base.livepatch bad/truncated.livepatch cum-v2.livepatch bad/not-elf.livepatch
	assert_rc 1
	assert_json_out '[.[].name] | join(" ")' "zz-base cum-v2"
	assertEquals "stderr: $(_ctx)" 2 "$(wc -l <"$T/err")"
	assert_err_has "$FX/bad/truncated.livepatch: truncated" "$FX/bad/not-elf.livepatch: not an ELF file"
	info_of info bad/elf32.livepatch aa-top.livepatch
	assert_rc 1
	assert_out_has "name:           aa-top"
	assert_err_line "$FX/bad/elf32.livepatch: ELF class 32"
	info_of info --query name bad/funcs-v1.livepatch aa-top.livepatch
	assert_rc 1
	assertEquals "query with a bad file: $(_ctx)" aa-top "$(cat "$T/out")"
	assert_err_line "$FX/bad/funcs-v1.livepatch"
}

# bad KIND REASON: info refuses bad/KIND.livepatch: exit 1, nothing on stdout,
# one line naming the file and holding REASON
bad() {
	info_of info "bad/$1.livepatch"
	assert_rc 1
	assertEquals "stdout of: $(_ctx)" "" "$(cat "$T/out")"
	assert_err_line "xen-hotpatch: $FX/bad/$1.livepatch: " "$2"
	info_of --json info "bad/$1.livepatch"
	assert_rc 1
	assert_json_out 'length' 0
}

test_bad_not_elf() { bad not-elf "not an ELF file"; }
test_bad_truncated() { bad truncated "truncated"; }
test_bad_elf32() { bad elf32 "ELF class 32: Xen payloads are ELFCLASS64"; }
test_bad_wrong_machine() { bad wrong-machine "machine 183 (AArch64)"; }
test_bad_exec() { bad exec "ET_EXEC"; }
test_bad_dyn() { bad dyn "ET_DYN"; }
test_bad_no_build_id() { bad no-build-id "missing section .note.gnu.build-id"; }
test_bad_no_depends() { bad no-depends "missing section .livepatch.depends"; }
test_bad_no_xen_depends() { bad no-xen-depends "missing section .livepatch.xen_depends"; }
test_bad_empty_depends() { bad empty-depends "section .livepatch.depends is empty"; }
test_bad_note_wrong_type() { bad note-wrong-type ".livepatch.depends: note type 1"; }
test_bad_note_wrong_owner() { bad note-wrong-owner '.livepatch.depends: note owner "XEN"'; }
test_bad_note_not_alloc() { bad note-not-alloc "section .livepatch.depends is not SHF_ALLOC"; }
test_bad_funcs_bad_size() { bad funcs-bad-size ".livepatch.funcs: size 112 is not a multiple of 104"; }
test_bad_funcs_version() { bad funcs-version "version 3"; }
test_bad_funcs_v1() { bad funcs-v1 "version 1 entries: Xen <= 4.13"; }
test_bad_old_size_zero() { bad old-size-zero "old_size is 0"; }
test_bad_empty_funcs() { bad empty-funcs "section .livepatch.funcs is empty"; }
test_bad_hook_bad_size() { bad hook-bad-size ".livepatch.hooks.preapply: size 16"; }
test_bad_nothing_to_patch() { bad nothing-to-patch "nothing to patch"; }
test_bad_modinfo_no_nul() { bad modinfo-no-nul ".modinfo: last byte is not NUL"; }
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

# every KIND of forge-payload.sh --list-bad has its test above
test_every_bad_kind_is_covered() {
	for k in $FIXTURES_BAD; do
		fn=test_bad_$(printf '%s' "$k" | tr '-' '_')
		grep -q "^$fn()" "$0" || fail "no $fn in $0 for the fixture kind $k"
	done
}

# shellcheck disable=SC1091
. shunit2
