#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# info: what a payload is, for people (human), scripts (--query) and tools
# (--json); every malformed fixture is refused with exit 1 and one line on
# stderr naming the file and the reason.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

setUp() { T=$(mktemp -d "${SHUNIT_TMPDIR:-/tmp}/t.XXXXXX"); }

GOLDEN=$XHP_TOP/tests/cli/golden

# Payloads no fixture of the set has, forged once for this file into $FORGED:
#   many     three entries (a jump with an expectation, a NOP, another jump)
#            and three .modinfo strings, one without "="
#   hostile  a function name and .modinfo strings holding escape sequences,
#            a tab, a C1 CSI, a newline, a ';', a backslash and a byte that is
#            not UTF-8
oneTimeSetUp() {
	FORGED=$SHUNIT_TMPDIR/forged
	_forge="$XHP_TOP/tests/fixtures/forge-payload.sh"
	MANY_ID=$("$_forge" -o "$FORGED/many.livepatch" --xen-id "$XEN_ID" --func xen_extra_version \
		--nop do_nothing:5:7 --func xen_changeset:16 --expect 0f1f44 --modinfo version=7 \
		--modinfo flag --modinfo 'desc=fixes CVE-1 and CVE-2') || cli_die "forging many"
	HOSTILE_ID=$("$_forge" -o "$FORGED/hostile.livepatch" --xen-id "$XEN_ID" \
		--func "$(printf 'evil\033[31m\tx\302\233y')" \
		--modinfo "$(printf 'version=1\033]0;pwned\007')" \
		--modinfo "$(printf 'note=a;b\\c\377\nstate: in sync')") || cli_die "forging hostile"
}

# normalize FILE: the output with the folders as FX/ and FORGED/, every
# build-id as {NAME_ID}, and a file's size as {SIZE} (what the compiler and
# linker make of a fixture is not the point; the size is checked against the
# file by the JSON test)
normalize() {
	_sed="s|$FX/|FX/|g; s|$FORGED/|FORGED/|g; s|^\(  size: *\)[0-9]* bytes\$|\1{SIZE} bytes|"
	for _v in $(sed -n 's/^\([A-Z0-9_]*_ID\)=\([0-9a-f][0-9a-f]*\)$/\1=\2/p' "$FX/ids.env") \
		"MANY_ID=$MANY_ID" "HOSTILE_ID=$HOSTILE_ID"; do
		_sed="$_sed; s/${_v#*=}/{${_v%%=*}}/g"
	done
	sed "$_sed" "$1"
}

# golden NAME: the whole of the last command's stdout (NAME.out) and stderr
# (NAME.err, when that file exists; else stderr must be empty) is what
# tests/cli/golden/info/NAME.* holds, after normalize: a changed word is a
# visible diff. XHP_GOLDEN_UPDATE=1 rewrites the files instead (then review
# the diff with git).
golden() {
	for _k in out err; do
		_g=$GOLDEN/info/$1.$_k
		normalize "$T/$_k" >"$T/$_k.norm"
		if [ "${XHP_GOLDEN_UPDATE:-}" = 1 ]; then
			if [ "$_k" = out ] || [ -s "$T/$_k.norm" ]; then
				mkdir -p "$GOLDEN/info"
				cp "$T/$_k.norm" "$_g"
			fi
		fi
		if [ -f "$_g" ]; then
			diff -u "$_g" "$T/$_k.norm" >"$T/diff" ||
				fail "$LAST: $_k differs from $_g: $(cat "$T/diff")"
		else
			assertEquals "$LAST: stderr (no $_g)" "" "$(cat "$T/$_k.norm")"
		fi
	done
}

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

# an unknown field is said once, before any file is read
test_query_unknown_field() {
	info_of info --query name,colour zz-base.livepatch mm-middle.livepatch
	assert_rc 1
	assert_err_line 'unknown field "colour"'
	assertEquals "stdout of: $(_ctx)" "" "$(cat "$T/out")"
	info_of info --query modinfo. zz-base.livepatch
	assert_rc 1
	assert_err_line 'unknown field "modinfo."'
}

# an empty first value still leaves its tab: fields stay in their columns
test_query_empty_first_value() {
	info_of info --query version,name,modinfo mm-middle.livepatch
	assert_rc 0
	assertEquals "query output: $(_ctx)" "$(printf '\tmm-middle\t')" "$(cat "$T/out")"
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

# ---- golden files: the whole human-readable output -----------------------

test_golden_chain() {
	info_of info zz-base.livepatch mm-middle.livepatch aa-top.livepatch
	assert_rc 0
	golden chain
}

test_golden_hooks_and_reapply() {
	info_of info hooks-prepost.livepatch hooks-loadonly.livepatch hooks-only.livepatch \
		hooks-action.livepatch unsafe.livepatch
	assert_rc 0
	golden hooks
}

test_golden_cumulative_independent_other() {
	info_of info cum-v2.livepatch on-cum3.livepatch indep.livepatch br-nover.livepatch \
		for-other-xen.livepatch
	assert_rc 0
	golden cumulative
}

test_golden_entries_and_modinfo() {
	xhp_noroot info "$FORGED/many.livepatch"
	assert_rc 0
	golden many
}

test_golden_query() {
	info_of info --query name,build_id,depends,xen_depends,stacks_on,version,modinfo zz-base.livepatch \
		mm-middle.livepatch hooks-prepost.livepatch
	assert_rc 0
	golden query
}

# escape sequences never reach the terminal, a newline in a value cannot
# forge a line, and --query keeps one line per file
test_golden_hostile_strings() {
	xhp_noroot info "$FORGED/hostile.livepatch"
	assert_rc 0
	golden hostile
	assert_out_lacks "$(printf '\033')" "$(printf '\007')" "$(printf '\302\233')" "$(printf '\377')"
	xhp_noroot info --query name,modinfo,version,modinfo.note "$FORGED/hostile.livepatch" \
		"$FX/zz-base.livepatch"
	assert_rc 0
	golden hostile-query
	assertEquals "one line per file: $(_ctx)" 2 "$(wc -l <"$T/out")"
	assertEquals "four fields: $(_ctx)" 4 "$(head -n 1 "$T/out" | awk -F '\t' '{ print NF }')"
}

# JSON carries the strings as they are (json-c escapes the controls), as
# valid UTF-8: a byte that is not UTF-8 is written \xNN
test_json_hostile_strings() {
	xhp_noroot info --json "$FORGED/hostile.livepatch"
	assert_rc 0
	assert_json_out '.[0].funcs[0].name' "$(printf 'evil\033[31m\tx\302\233y')"
	assert_json_out '.[0].modinfo.version' "$(printf '1\033]0;pwned\007')"
	assert_json_out '.[0].modinfo.note' "$(printf 'a;b\\c\\xff\nstate: in sync')"
	iconv -f UTF-8 -t UTF-8 "$T/out" >/dev/null || fail "info --json is not valid UTF-8: $(_ctx)"
}

# a file name is untrusted too: a newline in it cannot forge a line
test_file_name_with_a_newline() {
	_f=$T/$(printf 'x\nstate: in sync\033[2J.livepatch')
	cp "$FX/zz-base.livepatch" "$_f"
	xhp_noroot info "$_f"
	assert_rc 0
	assert_out_has "$T/x\\nstate: in sync\\x1b[2J.livepatch" "name:           x\\nstate: in sync\\x1b[2J"
	assertEquals "no forged line: $(_ctx)" "" "$(grep '^state' "$T/out")"
	xhp_noroot info --query name "$_f" "$_f.missing"
	assert_rc 1
	assertEquals "one line: $(_ctx)" 'x\nstate: in sync\x1b[2J' "$(cat "$T/out")"
	assert_err_line "$T/x\\nstate: in sync\\x1b[2J.livepatch.missing: No such file or directory"
}

# ---- not a payload file -----------------------------------------------------

# a FIFO (no writer: opening it for reading would block forever), a device,
# a directory, a missing file: one line each, at once
test_golden_not_regular_files() {
	mkfifo "$T/fifo.livepatch"
	mkdir "$T/dir.livepatch"
	ln -s "$FX/zz-base.livepatch" "$T/link.livepatch"
	LAST="xen-hotpatch info FIFO /dev/null DIR MISSING LINK"
	(cd "$T" && timeout 30 "$XHP_BIN" info fifo.livepatch /dev/null dir.livepatch missing.livepatch \
		link.livepatch >"$T/out" 2>"$T/err")
	RC=$?
	assert_rc 1
	golden not-files
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
