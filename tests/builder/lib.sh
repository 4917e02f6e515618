# shellcheck shell=sh
# tests/builder/lib.sh: shared by the builder tier's shunit2 files (POSIX sh,
# run with `sh FILE` by tests/lib/shunit-run.sh).
#
# Engine tests work on small objects compiled here with Xen 4.17's x86 code
# generation flags and linked like a hypervisor (tests/builder/mini/): each
# test writes an original and a patched source, `mini_build` compiles both
# and links the original into $T/xen-syms, `engine` runs xen-hotpatch-diff
# on them, and what was written is checked through the project's payload
# reader (`xen-hotpatch info`) and readelf.
#
# After engine/xhpb ARGS...: $RC is the exit status, $T/out and $T/err the output.

export LC_ALL=C
XHP_TOP=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
XHP_BIN=${XHP_BIN:-$XHP_TOP/build/asan/xen-hotpatch}
XHP_DIFF_BIN=${XHP_DIFF_BIN:-$XHP_TOP/build/asan/xen-hotpatch-diff}
BT_MINI=$XHP_TOP/tests/builder/mini
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export SHUNIT_COLOR=none

# Xen 4.17's flags for hypervisor C code that change code generation
# (xen/Makefile, xen/arch/x86/arch.mk; -ffunction-sections -fdata-sections
# from CONFIG_LIVEPATCH).
MINI_CFLAGS="-O2 -std=gnu99 -fno-strict-aliasing -fomit-frame-pointer -nostdinc
-fno-builtin -fno-common -ffunction-sections -fdata-sections
-mindirect-branch=thunk-extern -mindirect-branch-register -fno-jump-tables
-mfunction-return=thunk-extern -msoft-float -fno-pie -fno-stack-protector
-fno-exceptions -fno-asynchronous-unwind-tables -mno-red-zone -fpic -mno-mmx
-mno-sse -mskip-rax-setup -fcf-protection=branch -mmanual-endbr"

bt_setup() {
	T=$(mktemp -d "${SHUNIT_TMPDIR:-/tmp}/b.XXXXXX")
	mkdir -p "$T/o/common" "$T/p/common"
	OUT=$T/t.livepatch
	EXTRA_CFLAGS=""
	RC=
	LAST=
}

bt_teardown() {
	[ -n "${T:-}" ] && rm -rf "$T"
	T=
}

setUp() { bt_setup; }
tearDown() { bt_teardown; }

# orig NAME / patched NAME: the original / patched common/NAME.c, from stdin.
orig() { cat >"$T/o/common/$1.c"; }
patched() { cat >"$T/p/common/$1.c"; }
# same NAME: the patched source is the original.
same() { cp "$T/o/common/$1.c" "$T/p/common/$1.c"; }

# cc_obj DIR NAME: compile DIR/common/NAME.c as Xen does (from DIR, then the
# STT_FILE symbol renamed to the path, CONFIG_ENFORCE_UNIQUE_SYMBOLS).
cc_obj() {
	# shellcheck disable=SC2086 # flag lists
	(cd "$1" && gcc $MINI_CFLAGS $EXTRA_CFLAGS -I"$BT_MINI" -include xen.h \
		-c "common/$2.c" -o "common/.$2.o.tmp" &&
		objcopy --redefine-sym "$2.c=common/$2.c" "common/.$2.o.tmp" "common/$2.o" &&
		rm -f "common/.$2.o.tmp") || fail "compiling $1/common/$2.c"
}

# mini_build NAME...: compile the original and patched NAME.c and link the
# originals (with the stubs) into $T/xen-syms.
mini_build() {
	for _n in "$@"; do
		cc_obj "$T/o" "$_n"
		cc_obj "$T/p" "$_n"
	done
	# shellcheck disable=SC2086
	gcc $MINI_CFLAGS -c "$BT_MINI/stubs.c" -o "$T/stubs.o" || fail "compiling stubs.c"
	ld -T "$BT_MINI/xen.lds" --build-id=sha1 -e 0 --no-warn-rwx-segments -o "$T/xen-syms" \
		"$T"/o/common/*.o "$T/stubs.o" || fail "linking xen-syms"
	NAMES="$*"
	# shellcheck disable=SC2034 # used by the test files
	XEN_ID=$(readelf -n "$T/xen-syms" | sed -n 's/.*Build ID: //p')
}

# run_build NAME...: compile the original and patched NAME.c, and link each
# set with tests/builder/mini/harness.c into an executable: $T/hv (the
# originals; its symbols moved to Xen's addresses are the test's xen-syms)
# and $T/hv-patched (the patched sources as a rebuilt hypervisor would run
# them). The sources define
# test_main(), printing what the test compares.
run_build() {
	for _n in "$@"; do
		cc_obj "$T/o" "$_n"
		cc_obj "$T/p" "$_n"
	done
	gcc -O1 -no-pie -Wl,--build-id=sha1 -o "$T/hv" "$BT_MINI/harness.c" "$T"/o/common/*.o ||
		fail "linking the harness"
	gcc -O1 -no-pie -o "$T/hv-patched" "$BT_MINI/harness.c" "$T"/p/common/*.o ||
		fail "linking the patched harness"
	# The engine and the payload reader see it where Xen lives (0x400000 ->
	# XEN_VIRT_START); the harness takes HARNESS_DELTA back off the
	# addresses the payload names.
	objcopy --adjust-vma="$HARNESS_DELTA" "$T/hv" "$T/xen-syms" ||
		fail "moving the harness's symbols to Xen's addresses"
	NAMES="$*"
}
export HARNESS_DELTA=0xffff82d03fc00000

# assert_runs_patched: the harness with the payload behaves like the patched
# build and unlike the original
assert_runs_patched() {
	"$T/hv" >"$T/run.orig" 2>&1
	"$T/hv-patched" >"$T/run.want" 2>&1
	"$T/hv" "$OUT" >"$T/run.got" 2>&1
	assertEquals "exit status with the payload" 0 "$?"
	assertNotEquals "the patch changes what test_main prints" "$(cat "$T/run.orig")" "$(cat "$T/run.want")"
	assertEquals "the payload runs as the patched build" "$(cat "$T/run.want")" "$(cat "$T/run.got")"
}

# engine [OPTIONS...]: xen-hotpatch-diff on the pairs of mini_build, payload
# name ${PNAME:-t}, output $OUT ($T/t.livepatch: the reader names a payload
# after its file).
engine() {
	set -- --xen-syms "$T/xen-syms" --name "${PNAME:-t}" -o "$OUT" "$@"
	for _n in $NAMES; do
		set -- "$@" "$T/o/common/$_n.o" "$T/p/common/$_n.o" "common/$_n.c"
	done
	LAST="xen-hotpatch-diff $*"
	"$XHP_DIFF_BIN" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# info_q FIELDS [FILE]: `xen-hotpatch info --query` of the payload, fields
# separated by one space
info_q() {
	"$XHP_BIN" info --query "$1" "${2:-$OUT}" | tr '\t' ' '
}

# secidx NAME [FILE]: the index of section NAME
secidx() {
	readelf -SW "${2:-$OUT}" | sed -n "s/^ *\[ *\([0-9]*\)\] $1 .*/\1/p"
}

# funcs_of FILE: the .livepatch.funcs entries as the reader sees them,
# "name old_size new_size" per line; funcs: those of $OUT
funcs_of() {
	"$XHP_BIN" --json info "$1" | jq -r '.[0].funcs[] | "\(.name) \(.old_size) \(.new_size)"'
}
funcs() { funcs_of "$OUT"; }

# syms_of FILE: the payload's symbols "NDX NAME" (NDX: ABS or a section
# index); syms: those of $OUT
syms_of() {
	readelf -sW "$1" | awk 'NR > 3 && $8 != "" { print $7, $8 }'
}
syms() { syms_of "$OUT"; }

# relas SECTION [FILE]: "TYPE SYMBOL+ADDEND" of .rela.SECTION's entries
relas() {
	readelf -rW "${2:-$OUT}" | awk -v s="'.rela$1'" '
		/^Relocation section/ { on = ($3 == s); next }
		on && /R_X86_64/ { a = $7 == "" ? "" : $6 $7; print $3, $5 a }'
}

# strings_of SECTION [FILE]
strings_of() {
	readelf -p "$1" "${2:-$OUT}" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\]  //p'
}

# ---- assertions -------------------------------------------------------------

# _ctx, assert_rc, assert_{out,err}_{has,lacks}, assert_err_line, ...
# shellcheck source=tests/lib/shunit-asserts.sh
. "$XHP_TOP/tests/lib/shunit-asserts.sh"

# assert_refused STRING...: exit 1, one line on stderr holding each STRING,
# nothing written at $OUT
assert_refused() {
	assert_rc 1
	assert_err_line "$@"
	assertFalse "$OUT written by a refused build" "[ -e '$OUT' ]"
	assertEquals "leftover temporary files" "" "$(find "$(dirname "$OUT")" -maxdepth 1 -name "$(basename "$OUT").tmp.*")"
}

# assert_built: exit 0, the payload reader accepts the result
assert_built() {
	assert_rc 0
	"$XHP_BIN" info "$OUT" >"$T/info" 2>&1 || fail "xen-hotpatch info refuses $OUT: $(cat "$T/info")"
}

# assert_lines EXPECTED ACTUAL MESSAGE: multi-line equality, order-insensitive
assert_lines() {
	assertEquals "$3" "$(printf '%s\n' "$1" | sort)" "$(printf '%s\n' "$2" | sort)"
}

# assert_has HAYSTACK NEEDLE MESSAGE: NEEDLE is one of HAYSTACK's lines
assert_has() {
	printf '%s\n' "$1" | grep -qxF -- "$2" || fail "$3: no line '$2' in:
$1"
}
assert_lacks() {
	if printf '%s\n' "$1" | grep -qF -- "$2"; then fail "$3: '$2' in:
$1"; fi
}
