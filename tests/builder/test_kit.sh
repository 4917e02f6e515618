#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# `xen-hotpatch-build payload` on the real Debian 4.17.5+72 kit with the
# XSA-style patches of tests/builder/patches/ (each says what it changes and
# what dom0 sees): every payload passes the project's payload reader with
# the functions, notes, hooks and .modinfo expected; refused patches exit 1
# with one line and leave nothing; the kit is never written to.
# tests/builder/make-payloads.sh builds the same set for the real-Xen tier.
# shellcheck source=tests/builder/lib.sh
. "$(dirname "$0")/lib.sh"

KIT_ID=39a640e6f1412319235087391df9f1c5e13ae920
KIT_DEBIAN_VERSION=4.17.5+72-g01140da4e8-1
PATCHES=$XHP_TOP/tests/builder/patches
BUILD_CMD=${XHP_BUILD_CMD:-$XHP_TOP/scripts/xen-hotpatch-build}
export XEN_HOTPATCH_DIFF="$XHP_DIFF_BIN"

oneTimeSetUp() {
	KIT=${XHP_KIT:-$XHP_TOP/build/cache/kits/$KIT_ID}
	case $KIT in /*) ;; *) KIT=$(pwd)/$KIT ;; esac
	if [ ! -x "$BUILD_CMD" ]; then
		KIT_MISSING="no $BUILD_CMD (the xen-hotpatch-build dispatcher)"
		return 0
	fi
	if [ ! -f "$KIT/kit.env" ] && [ -z "${XHP_KIT:-}" ]; then
		# the kit tier's cache entry, made under its lock (a background
		# tests/kit/prepare.sh may be making it right now)
		echo "builder: waiting for or making the Debian $KIT_DEBIAN_VERSION kit (once)"
		XHP_TOP="$XHP_TOP" bash -c '. "$XHP_TOP/tests/kit/lib.sh" && kit_test_debian "$1"' sh "$KIT_DEBIAN_VERSION" \
			>"${SHUNIT_TMPDIR:-/tmp}/kit.log" 2>&1 ||
			KIT_MISSING="making the kit failed: $(tail -n 1 "${SHUNIT_TMPDIR:-/tmp}/kit.log")"
	fi
	[ -f "$KIT/kit.env" ] || KIT_MISSING=${KIT_MISSING:-"no kit at $KIT"}
	KIT_SUM=$(kit_sum)
}

# A fingerprint of what a payload build could touch in the kit.
kit_sum() {
	(cd "$KIT" && find . -newer kit.env -print | sort; cat kit.env tree/xen/common/version.c;
	 cksum tree/xen/common/version.o tree/xen/common/kernel.o) 2>/dev/null | cksum
}

setUp() {
	bt_setup
	if [ -n "${KIT_MISSING:-}" ]; then
		fail "no kit: $KIT_MISSING"
		startSkipping
	fi
}

# payload NAME OPTIONS...: build $T/NAME.livepatch from the kit
payload() {
	_n=$1
	shift
	OUT=$T/$_n.livepatch
	LAST="xen-hotpatch-build payload --kit KIT $* --name $_n -o $OUT"
	"$BUILD_CMD" payload --kit "$KIT" "$@" --name "$_n" -o "$OUT" >"$T/out" 2>"$T/err"
	RC=$?
}

xen_size() {
	readelf -sW "$KIT/xen-syms" | awk -v n="$1" '$8 == n && $4 == "FUNC" { print $3; exit }'
}

test_function_with_a_literal() {
	payload extra --patch "$PATCHES/extra-version.patch" --version 2 --modinfo xsa=none
	assert_built
	assertEquals "funcs" "xen_extra_version $(xen_size xen_extra_version)" "$(funcs | cut -d' ' -f1,2)"
	assertEquals "notes" "$KIT_ID hypervisor $KIT_ID" "$(info_q depends,stacks_on,xen_depends)"
	assertEquals "modinfo" \
		"name=extra;version=2;patches=extra-version.patch;xen_version=$KIT_DEBIAN_VERSION;xsa=none" \
		"$(info_q modinfo)"
	assert_has "$(strings_of .rodata.str)" ".5-hotpatched" "the new extra version"
}

test_switch_case_with_a_guest_copy() {
	payload changeset --patch "$PATCHES/changeset.patch"
	assert_built
	# common/compat/kernel.c builds kernel.c again (#include "../kernel.c")
	# for 32-bit guests: its copy of the function changes too
	assert_lines "compat_xen_version $(xen_size compat_xen_version)
do_xen_version $(xen_size do_xen_version)" "$(funcs | cut -d' ' -f1,2)" "funcs"
	assert_has "$(strings_of .rodata.str)" "xen-hotpatch changeset" "the new changeset string"
	assert_has "$(syms)" "ABS copy_to_guest_pv" "the guest copy stays the hypervisor's"
	assertNotEquals "its exception-table entries came along" "" "$(relas .ex_table)"
}

test_new_statics() {
	payload count --patch "$PATCHES/compile-date-count.patch"
	assert_built
	assert_has "$(syms)" "$(secidx .bss) count#compile_date_reads" "the counter"
	assert_has "$(syms)" "$(secidx .bss) count#compile_date_buf" "the buffer"
	assertEquals "unsafe to reapply (writable data)" "false" \
		"$("$XHP_BIN" --json info "$OUT" | jq -r '.[0].safe_to_reapply')"
}

test_stacked_pair() {
	payload lower --patch "$PATCHES/extra-version.patch"
	assert_built
	_lower=$OUT
	payload upper --patch "$PATCHES/compiled-by.patch" --depends "$_lower"
	assert_built
	assertEquals "upper stacks on lower" "$(info_q build_id "$_lower") payload" "$(info_q depends,stacks_on)"
	assertEquals "funcs" "xen_compile_system_maintainer_local" "$(funcs | cut -d' ' -f1)"
	payload again --patch "$PATCHES/extra-version.patch" --depends "$_lower"
	assert_refused "xen_extra_version: replaced by both payloads"
}

test_cumulative() {
	payload cumul --cumulative --patch "$PATCHES/extra-version.patch" \
		--patch "$PATCHES/changeset.patch" --patch "$PATCHES/compile-date-count.patch"
	assert_built
	assert_lines "compat_xen_version
do_xen_version
xen_compile_date
xen_extra_version" "$(funcs | cut -d' ' -f1)" "the functions of all three patches"
	assertEquals "on the hypervisor, for REPLACE" "$KIT_ID hypervisor" "$(info_q depends,stacks_on)"
	assertEquals "patches" "extra-version.patch,changeset.patch,compile-date-count.patch" \
		"$("$XHP_BIN" --json info "$OUT" | jq -r '.[0].modinfo.patches')"
}

test_load_and_unload_hooks() {
	payload hooks --patch "$PATCHES/hooks.patch"
	assert_built
	assertEquals "hooks" "load,unload false" \
		"$("$XHP_BIN" --json info "$OUT" | jq -r '.[0] | "\(.hooks | join(",")) \(.vetoing_hooks)"')"
	assertEquals "funcs" "xen_compile_system_maintainer_domain" "$(funcs | cut -d' ' -f1)"
	assert_has "$(syms)" "$(secidx .text) hooks#hotpatch_loaded" "the hook function is in the payload"
}

test_vetoing_hooks() {
	payload prepost --patch "$PATCHES/prepost-hooks.patch"
	assert_built
	assertEquals "hooks" "preapply,postrevert true" \
		"$("$XHP_BIN" --json info "$OUT" | jq -r '.[0] | "\(.hooks | join(",")) \(.vetoing_hooks)"')"
}

test_switch_conversion_table_stays_in_the_hypervisor() {
	payload msi --patch "$PATCHES/msi-switch-table.patch"
	assert_built
	assert_has "$(funcs | cut -d' ' -f1)" "arch/x86/msi.c#read_pci_mem_bar" "the patched static function, by its run-time name"
	assertEquals "the table by address" "1" "$(syms | grep -c '^ABS arch/x86/msi.c#CSWTCH\.')"
}

test_changed_static_table_takes_its_user() {
	payload table --patch "$PATCHES/table-users.patch"
	assert_built
	assertEquals "funcs" "xen_build_info" "$(funcs | cut -d' ' -f1)"
	assert_has "$(strings_of .rodata)" "DEBUG=n" "the new table"
}

test_refusals() {
	payload r1 --patch "$PATCHES/refuse-data.patch"
	assert_refused "common/timer.o: timer_slop: changed initialised data"
	payload r2 --patch "$PATCHES/refuse-init.patch"
	assert_refused "common/version.o: xen_build_init: changed __init code"
	payload r3 --patch "$PATCHES/refuse-layout.patch"
	assert_refused "common/keyhandler.o: crash_debug_panic: size changed from 32 to 64 bytes"
	payload r4 --patch "$PATCHES/refuse-noop.patch"
	assert_refused "the patches change no object code of the hypervisor"
}

# A new out-of-line helper whose switch GCC made a lookup table: the new
# table (CSWTCH) goes into the payload's read-only data with the helper.
test_new_helper_with_a_new_lookup_table() {
	payload caps --patch "$PATCHES/caps-table.patch"
	assert_built
	assertEquals "funcs" "arch_get_xen_caps" "$(funcs | cut -d' ' -f1)"
	assert_has "$(syms)" "$(secidx .text) caps#hp_code" "the new helper"
	assertEquals "the new table" "1" "$(syms | grep -c "^$(secidx .rodata) caps#CSWTCH\.")"
	# its 5 entries, in order
	assertEquals "table contents" "17 42 5 99 3" "$(readelf -x .rodata "$OUT" | awk '/^  0x/ { for (i = 2; i <= 5; i++) printf "%s", $i }' |
		fold -w 8 | head -n 5 | while read -r _w; do printf '%d ' "0x$(echo "$_w" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/')"; done | sed 's/ $//')"
}

# A guest copy both ways (copy_from_guest, __copy_to_guest) in a case of
# do_xen_version(), and its compat twin.
test_guest_copies_in_and_out() {
	payload features --patch "$PATCHES/features-bit.patch"
	assert_built
	assert_lines "compat_xen_version
do_xen_version" "$(funcs | cut -d' ' -f1)" "funcs"
}

# New function-local statics, one initialised (.data), one zeroed (.bss).
test_new_initialised_static() {
	payload gen --patch "$PATCHES/compiler-generation.patch"
	assert_built
	assert_has "$(syms | sed 's/\.[0-9]*$//')" "$(secidx .data) gen#generation" "the initialised counter"
	assert_has "$(syms | sed 's/\.[0-9]*$//')" "$(secidx .bss) gen#buf" "the buffer"
	assertEquals "its initial value" "07000000" "$(readelf -x .data "$OUT" | awk '/^  0x/ { print $2; exit }')"
}

# A bug frame (BUG_ON) and alternatives (alternative_vcall) of a changed
# function come along; its existing function-local static stays the
# hypervisor's while a new one is added.
test_bug_frame_and_alternatives() {
	payload ipi --patch "$PATCHES/ipi-bug-alt.patch"
	assert_built
	assertEquals "funcs" "send_IPI_mask" "$(funcs | cut -d' ' -f1)"
	assertNotEquals "a bug frame" "" "$(relas .bug_frames.2)"
	assertNotEquals "alternatives" "" "$(relas .altinstructions)"
	payload statics --patch "$PATCHES/local-statics.patch"
	assert_built
	assert_has "$(syms)" "ABS arch/x86/time.c#warned_once.1" "the live flag is the hypervisor's"
	assert_has "$(syms | sed 's/\.[0-9]*$//')" "$(secidx .bss) statics#wraps" "the new counter"
	assert_lacks "$(cat "$T/out")" "ignored" "no boot-time entry is new"
}

# A struct or union whose definition changes: the running hypervisor holds
# data of the old layout (struct range is allocated with xmalloc: no variable
# changes size). Refused before anything is compiled, naming file, type, line.
test_changed_struct_layout_is_refused() {
	payload s1 --patch "$PATCHES/refuse-struct.patch"
	assert_refused "xen/common/rangeset.c: struct range (line 16): its definition changes"
	# in a header, a member added to an anonymous union inside the struct
	printf -- '--- a/xen/include/xen/timer.h\n+++ b/xen/include/xen/timer.h\n@@ -25,6 +25,7 @@\n         /* Linked list (TIMER_STATUS_in_list). */\n         struct timer *list_next;\n         /* Linked list of inactive timers (TIMER_STATUS_inactive). */\n+        unsigned long cookie[4];\n         struct list_head inactive;\n     };\n \n' >"$T/timer.patch"
	payload s2 --patch "$T/timer.patch"
	assert_refused "xen/include/xen/timer.h: struct timer (line 17): its definition changes"
	# an enumerator inserted renumbers those after it; one appended does not
	payload e1 --patch "$PATCHES/refuse-enum.patch"
	assert_refused "xen/common/stop_machine.c: enum stopmachine_state (line 33): its enumerators are renumbered"
	payload e2 --patch "$PATCHES/enum-append.patch"
	assert_refused "the patch changes no function the hypervisor runs"
}

# A reworded comment inside a struct and a new type of the patch's own are
# no layout change: built.
test_struct_comments_and_new_types_are_built() {
	payload sc --patch "$PATCHES/struct-comment-new-type.patch"
	assert_built
	assertEquals "funcs" "rangeset_domain_printk" "$(funcs | cut -d' ' -f1)"
}

# An XSA-style patch also touching docs/ and tools/: the hypervisor's part is
# built, the rest left out (one line each on stderr); the tools/ hunk has
# lines "-- " and "++ " that are no file headers.
test_patch_with_parts_outside_the_hypervisor() {
	payload outside --patch "$PATCHES/outside-xen.patch"
	assert_built
	assertEquals "funcs" "xen_compiler" "$(funcs | cut -d' ' -f1)"
	assertEquals "left out, said once each" "xen-hotpatch-build: docs/misc/livepatch.pandoc: not part of the hypervisor, left out
xen-hotpatch-build: tools/misc/xenpm.c: not part of the hypervisor, left out" "$(cat "$T/err")"
	assertEquals "patches" "outside-xen.patch" "$("$XHP_BIN" --json info "$OUT" | jq -r '.[0].modinfo.patches')"
	# the same patch mailed with CRLF line ends
	sed 's/$/\r/' "$PATCHES/outside-xen.patch" >"$T/crlf.patch"
	payload crlf --patch "$T/crlf.patch"
	assert_built
	assertEquals "funcs (CRLF)" "xen_compiler" "$(funcs | cut -d' ' -f1)"
}

# What touches nothing to patch is refused in one line naming the files.
test_refusals_name_the_files() {
	printf -- '--- a/docs/misc/livepatch.pandoc\n+++ b/docs/misc/livepatch.pandoc\n@@ -1 +1 @@\n-a\n+b\n' >"$T/docs.patch"
	payload docs --patch "$T/docs.patch"
	assert_refused "docs/misc/livepatch.pandoc: not part of the hypervisor (xen/)"
	# common/argo.c: this hypervisor is configured without CONFIG_ARGO
	printf -- '--- a/xen/common/argo.c\n+++ b/xen/common/argo.c\n@@ -1,1 +1,1 @@\n-/******************************************************************************\n+/*****************************************************************************\n' >"$T/argo.patch"
	payload argo --patch "$T/argo.patch"
	assert_refused "xen/common/argo.c: no object of the kit is built from it"
	payload noop --patch "$PATCHES/refuse-noop.patch"
	assert_refused "refuse-noop.patch: the patches change no object code"
}

# A function whose body is one ud2 (2 bytes) cannot take Xen's 5-byte jump.
test_tiny_function_is_refused() {
	payload tiny --patch "$PATCHES/refuse-tiny.patch"
	assert_refused "arch/x86/mm/shadow/guest_2.o: sh_map_and_validate_gl4e__guest_2: 2 bytes: too small for a jump"
}

test_header_change_rebuilds_its_users() {
	payload ldt --patch "$PATCHES/ldt-header.patch"
	assert_built
	assert_lines "context_switch
do_mmuext_op" "$(funcs | cut -d' ' -f1)" "the functions load_LDT() is inlined into"
}

test_header_change_reaching_init_code() {
	payload hdr --patch "$PATCHES/iocap-header.patch"
	assert_refused "arch/x86/dom0_build.init.o: dom0_setup_permissions: changed __init code"
}

test_patch_that_does_not_apply() {
	sed 's/return XEN_EXTRAVERSION;/return XEN_EXTRAVERSION_NOT_THERE;/' "$PATCHES/extra-version.patch" >"$T/stale.patch"
	payload stale --patch "$T/stale.patch"
	assert_refused "$T/stale.patch: does not apply to the kit's source"
}

test_assembly_source_is_refused() {
	printf -- '--- a/xen/arch/x86/entry.S\n+++ b/xen/arch/x86/entry.S\n@@ -1 +1 @@\n-x\n+y\n' >"$T/asm.patch"
	payload asm --patch "$T/asm.patch"
	assert_refused "xen/arch/x86/entry.S: an assembly source"
}

test_build_files_and_new_sources_are_refused() {
	printf -- '--- a/xen/common/Makefile\n+++ b/xen/common/Makefile\n@@ -1 +1 @@\n-x\n+y\n' >"$T/mk.patch"
	payload mk --patch "$T/mk.patch"
	assert_refused "xen/common/Makefile: not a C source or header"
	printf -- '--- /dev/null\n+++ b/xen/common/brand-new.c\n@@ -0,0 +1 @@\n+int x;\n' >"$T/new.patch"
	payload new --patch "$T/new.patch"
	assert_refused "xen/common/brand-new.c: a new source file"
}

test_fuzzy_patch_is_refused() {
	# the context's first line no longer matches: patch would apply it with fuzz
	sed 's/^ const char \*xen_extra_version(void)$/ const char *xen_extra_version_renamed(void)/' \
		"$PATCHES/extra-version.patch" >"$T/fuzzy.patch"
	assertNotEquals "the context changed" "" "$(diff "$PATCHES/extra-version.patch" "$T/fuzzy.patch")"
	payload fuzzy --patch "$T/fuzzy.patch"
	assert_refused "$T/fuzzy.patch: does not apply to the kit's source"
}

test_toolchain_mismatch_is_refused() {
	mkdir "$T/kit"
	for _f in xen-syms config tree; do ln -s "$KIT/$_f" "$T/kit/$_f"; done
	sed "s/^KIT_CC_VERSION=.*/KIT_CC_VERSION='gcc (Other) 99.0'/" "$KIT/kit.env" >"$T/kit/kit.env"
	OUT=$T/mismatch.livepatch
	"$BUILD_CMD" payload --kit "$T/kit" --patch "$PATCHES/extra-version.patch" --name m -o "$OUT" >"$T/out" 2>"$T/err"
	RC=$?
	assert_refused "the kit was built with 'gcc (Other) 99.0'"
}

test_usage() {
	"$BUILD_CMD" payload --kit "$KIT" --name x -o "$T/x.livepatch" >"$T/out" 2>"$T/err"
	assertEquals "no --patch" 2 "$?"
	"$BUILD_CMD" payload --kit "$KIT" --patch "$PATCHES/extra-version.patch" --name x \
		--depends "$T/x" --cumulative -o "$T/x.livepatch" >"$T/out" 2>"$T/err"
	assertEquals "--depends with --cumulative" 2 "$?"
	"$BUILD_CMD" payload --kit "$KIT" --patch "$PATCHES/extra-version.patch" --name 'x/y' \
		-o "$T/x.livepatch" >"$T/out" 2>"$T/err"
	assertEquals "bad name" 2 "$?"
	assertFalse "nothing written" "[ -e '$T/x.livepatch' ]"
}

# every object the hypervisor was built from, through the engine: against
# itself nothing changes; with every function taken as changed
# (--all-changed) a payload is written and read back, or one of the expected
# refusals comes (objects that are not linked, data-only objects, functions
# too small for a jump)
test_every_object_of_the_kit() {
	_expected='nothing to patch|too small for a jump|which xen-syms does not have|xen-syms has no symbols of|is .* linked into it|not an ELF object|not an x86-64 relocatable object'
	(cd "$KIT/tree/xen" && find . -name '*.o' ! -name 'built_in*' ! -name prelink.o \
		! -path './tools/*' | sed 's|^\./||' | sort) >"$T/objects"
	assertTrue "objects found" "[ $(wc -l <"$T/objects") -gt 300 ]"
	: >"$T/unexpected"
	while read -r _o; do
		_x=$KIT/tree/xen/$_o
		"$XHP_DIFF_BIN" --xen-syms "$KIT/xen-syms" --name t -o "$T/self.livepatch" \
			"$_x" "$_x" "${_o%.o}.c" >/dev/null 2>"$T/e1"
		grep -qE 'nothing to patch|not an ELF object|not an x86-64' "$T/e1" ||
			echo "$_o against itself: $(cat "$T/e1")" >>"$T/unexpected"
		case $_o in *.init.o | arch/x86/boot/*) continue ;; esac
		if "$XHP_DIFF_BIN" --all-changed --xen-syms "$KIT/xen-syms" --name t \
			-o "$T/all.livepatch" "$_x" "$_x" "${_o%.o}.c" >/dev/null 2>"$T/e2"; then
			[ -s "$T/e2" ] && echo "$_o: $(cat "$T/e2")" >>"$T/unexpected"
		elif [ "$(wc -l <"$T/e2")" != 1 ] || ! grep -qE "$_expected" "$T/e2"; then
			echo "$_o --all-changed: $(cat "$T/e2")" >>"$T/unexpected"
		fi
	done <"$T/objects"
	assertEquals "unexpected results" "" "$(head -c 4000 "$T/unexpected")"
}

# The simulated hypervisor started from the kit's xen-syms (its symbol table
# and build-id) takes the payloads through the tool: a stacked pair, then a
# cumulative REPLACE, then a payload with load/unload hooks, one with a new
# lookup table, one with a bug frame and alternatives.
test_simulator_with_the_kit_xen_syms_applies_them() {
	_sim=${XHP_SIM_BIN:-$XHP_TOP/build/asan/xen-hotpatch-sim}
	if ! "$_sim" 2>&1 | grep -q -- '--xen-syms'; then
		echo "xen-hotpatch-sim has no --xen-syms (the simulator's symbol tables): skipped"
		startSkipping
		return 0
	fi
	payload lower --patch "$PATCHES/extra-version.patch"
	payload upper --patch "$PATCHES/compiled-by.patch" --depends "$T/lower.livepatch"
	payload cumul --cumulative --patch "$PATCHES/extra-version.patch" --patch "$PATCHES/compiled-by.patch"
	payload hooks --patch "$PATCHES/hooks.patch"
	payload caps --patch "$PATCHES/caps-table.patch"
	payload ipi --patch "$PATCHES/ipi-bug-alt.patch"
	_r=$T/root
	_pd=$_r/usr/lib/xen-hotpatch/$KIT_ID
	mkdir -p "$_r/etc/xen-hotpatch" "$_pd"
	printf 'backend = sim:%s\n' "$T/sim" >"$_r/etc/xen-hotpatch/xen-hotpatch.conf"
	"$_sim" "$T/sim" init --xen-syms "$KIT/xen-syms" >/dev/null || fail "sim init --xen-syms"
	export XEN_HOTPATCH_RUN_DIR="$T/run"
	for _step in "lower upper" "cumul" "hooks" "caps" "ipi"; do
		rm -f "$_pd"/*.livepatch
		for _p in $_step; do cp "$T/$_p.livepatch" "$_pd/"; done
		"$XHP_BIN" --root "$_r" apply >"$T/out" 2>"$T/err"
		assertEquals "apply $_step: $(cat "$T/out" "$T/err")" 0 "$?"
		assertEquals "applied after installing $_step" "$_step" \
			"$("$_sim" "$T/sim" show --json | jq -r '.applied | join(" ")')"
	done
}

test_the_kit_is_untouched() {
	payload touch --patch "$PATCHES/extra-version.patch" --patch "$PATCHES/changeset.patch"
	assert_built
	assertEquals "kit fingerprint" "$KIT_SUM" "$(kit_sum)"
}

. shunit2
