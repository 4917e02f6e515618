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
# cumulative REPLACE, then a payload with load/unload hooks.
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
	_r=$T/root
	_pd=$_r/usr/lib/xen-hotpatch/$KIT_ID
	mkdir -p "$_r/etc/xen-hotpatch" "$_pd"
	printf 'backend = sim:%s\n' "$T/sim" >"$_r/etc/xen-hotpatch/xen-hotpatch.conf"
	"$_sim" "$T/sim" init --xen-syms "$KIT/xen-syms" >/dev/null || fail "sim init --xen-syms"
	export XEN_HOTPATCH_RUN_DIR="$T/run"
	for _step in "lower upper" "cumul" "hooks"; do
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
