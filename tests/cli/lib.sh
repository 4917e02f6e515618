# shellcheck shell=sh
# tests/cli/lib.sh: shared by the CLI tier's shunit2 files (POSIX sh; they are
# run with `sh FILE` by tests/lib/shunit-run.sh). Each test gets its own
# simulated hypervisor, root and run directory under $SHUNIT_TMPDIR:
#   $T      the test's directory          $R     the --root
#   $SIMD   the simulated hypervisor      $PD    R/usr/lib/xen-hotpatch/<xen-id>
#   XEN_HOTPATCH_RUN_DIR=$T/run (lock, record of what this "boot" loaded)
# The fixture payloads (tests/fixtures/make-set.sh) are built once into
# $XHP_CLI_FX (default build/cli-fixtures; tests/cli/run.sh rebuilds it once
# per tier run) and copied into $PD by the tests.
#
# After `xhp ARGS...`: $RC is the exit status, $T/out and $T/err the output.

export LC_ALL=C
XHP_TOP=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
XHP_BIN=${XHP_BIN:-$XHP_TOP/build/asan/xen-hotpatch}
XHP_SIM_BIN=${XHP_SIM_BIN:-$XHP_TOP/build/asan/xen-hotpatch-sim}
XHP_CLI_FX=${XHP_CLI_FX:-$XHP_TOP/build/cli-fixtures}
# ASan: leaks count as failures (LeakSanitizer exits non-zero, and its report
# breaks the one-line stderr assertions)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export SHUNIT_COLOR=none
# The hypervisor the tier runs: a fixed id so the fixture set can be reused.
CLI_XEN_ID=5eed0c11c11c11c11c11c11c11c11c11c11c11c1

cli_die() {
	echo "tests/cli: $*" >&2
	exit 1
}

# Build the tool (ASan) when the binaries are missing.
cli_ensure_bins() {
	if [ ! -x "$XHP_BIN" ] || [ ! -x "$XHP_SIM_BIN" ]; then
		case $XHP_BIN in
		"$XHP_TOP"/build/asan/*) make -C "$XHP_TOP" asan >/dev/null || cli_die "make asan failed" ;;
		*) make -C "$XHP_TOP" all >/dev/null || cli_die "make failed" ;;
		esac
	fi
	[ -x "$XHP_BIN" ] || cli_die "no $XHP_BIN"
	[ -x "$XHP_SIM_BIN" ] || cli_die "no $XHP_SIM_BIN"
}

# Build the fixture set unless it is there for our hypervisor id.
cli_ensure_fixtures() {
	if [ -f "$XHP_CLI_FX/ids.env" ] && grep -qx "XEN_ID=$CLI_XEN_ID" "$XHP_CLI_FX/ids.env"; then
		:
	else
		"$XHP_TOP/tests/fixtures/make-set.sh" "$XHP_CLI_FX" "$CLI_XEN_ID" >/dev/null ||
			cli_die "tests/fixtures/make-set.sh failed"
	fi
	# shellcheck disable=SC1091
	. "$XHP_CLI_FX/ids.env"
	FX=$XHP_CLI_FX
}

cli_ensure_bins
cli_ensure_fixtures

# ---- per-test environment ---------------------------------------------------

# setUp for every test file (a file may define its own setUp calling this).
cli_setup() {
	T=$(mktemp -d "${SHUNIT_TMPDIR:-/tmp}/t.XXXXXX")
	R=$T/root
	SIMD=$T/sim
	PD=$R/usr/lib/xen-hotpatch/$XEN_ID
	export XEN_HOTPATCH_RUN_DIR="$T/run"
	unset XEN_HOTPATCH_SIM_FAIL XEN_HOTPATCH_CMDLINE
	mkdir -p "$R/etc/xen-hotpatch" "$PD"
	policy ""
	"$XHP_SIM_BIN" "$SIMD" init --build-id "$XEN_ID" >/dev/null || fail "sim init"
	RC=
}

cli_teardown() {
	unset XEN_HOTPATCH_SIM_FAIL XEN_HOTPATCH_CMDLINE
	[ -n "${T:-}" ] && rm -rf "$T"
	T=
}

setUp() { cli_setup; }

# cli_setup_chain: cli_setup, then the chain zz-base <- mm-middle applied, so
# that "nothing changed" means something: BEFORE is its snapshot and N0 the
# number of hypervisor actions so far.
# shellcheck disable=SC2034 # BEFORE and N0 are for the test files
cli_setup_chain() {
	cli_setup
	put zz-base mm-middle
	xhp apply
	[ "$RC" = 0 ] || fail "setUp: apply failed: $(_ctx)"
	BEFORE=$(snapshot)
	N0=$(nactions)
}
tearDown() { cli_teardown; }

# policy LINES: the root's policy file: the sim backend plus LINES.
policy() {
	printf 'backend = sim:%s\n%s\n' "$SIMD" "$1" >"$R/etc/xen-hotpatch/xen-hotpatch.conf"
}

# put NAME...: install fixture payloads NAME.livepatch (mode 0644).
put() {
	for _n in "$@"; do
		install -m 0644 "$FX/$_n.livepatch" "$PD/$_n.livepatch" || fail "install $_n"
	done
}

# put_as SRC-FILE NAME: install a file as $PD/NAME.livepatch.
put_as() {
	install -m 0644 "$1" "$PD/$2.livepatch" || fail "install $2"
}

# rm_payload NAME...
rm_payload() {
	for _n in "$@"; do
		rm -f "$PD/$_n.livepatch"
	done
}

# xhp ARGS...: the tool with --root $R. Sets RC; output in $T/out, $T/err.
xhp() {
	LAST="xen-hotpatch --root R $*"
	"$XHP_BIN" --root "$R" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# xhp_noroot ARGS...: the tool without --root.
xhp_noroot() {
	LAST="xen-hotpatch $*"
	"$XHP_BIN" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# sim ARGS...: the simulated hypervisor's control program on $SIMD.
sim() {
	"$XHP_SIM_BIN" "$SIMD" "$@"
}

# sim_q JQ-FILTER: query `show --json` (raw output).
sim_q() {
	"$XHP_SIM_BIN" "$SIMD" show --json | jq -r "$1"
}

# The applied stack, bottom first, space-separated.
applied() { sim_q '.applied | join(" ")'; }
# Loaded payloads "name:STATE" in upload order.
loaded() { sim_q '[.loaded[] | "\(.name):\(.state)"] | join(" ")'; }
# Actions since the sim's last boot, "op:name" (with ":ERR" when ret != 0).
actions() { sim_q '[.actions[] | "\(.op):\(.name)" + (if .ret != 0 then ":\(.ret)" else "" end)] | join(" ")'; }
nactions() { sim_q '.actions | length'; }
# Actions after the first N: actions_since N
actions_since() {
	sim_q "[.actions[$1:][] | \"\\(.op):\\(.name)\" + (if .ret != 0 then \":\\(.ret)\" else \"\" end)] | join(\" \")"
}
# The history of applied stacks, one stack per line ("-" for empty).
history() { sim_q '.history[] | if length == 0 then "-" else join(" ") end'; }
# What must not change on a refused run: the applied stack and the loaded
# payloads with their states (not the rc of a failed action: Xen keeps it).
snapshot() { sim_q '{applied, loaded: [.loaded[] | "\(.name):\(.state)"]} | tostring'; }

# ---- assertions -------------------------------------------------------------

# _ctx, assert_rc, assert_{out,err}_{has,lacks}, assert_err_line,
# assert_err_empty, assert_json_out
# shellcheck source=tests/lib/shunit-asserts.sh
. "$XHP_TOP/tests/lib/shunit-asserts.sh"

# assert_applied "A B C": the sim's applied stack, bottom first
assert_applied() {
	assertEquals "applied stack after: $LAST" "$1" "$(applied)"
}

# assert_loaded "a:APPLIED b:CHECKED"
assert_loaded() {
	assertEquals "loaded payloads after: $LAST" "$1" "$(loaded)"
}

# assert_same_state BEFORE: applied stack and loaded payloads are as BEFORE
# (a `snapshot` taken earlier).
assert_same_state() {
	assertEquals "hypervisor state changed by: $(_ctx)" "$1" "$(snapshot)"
}


# assert_no_empty_between: the history never has an empty stack after the
# first non-empty one (no unpatched window)
assert_no_unpatched_window() {
	_h=$(history | awk 'seen && $0 == "-" { print NR; exit } $0 != "-" { seen = 1 }')
	assertEquals "the hypervisor was left unpatched (history line $_h): $(history | tr '\n' '|')" "" "$_h"
}

# apply_ok: `apply` that must succeed
apply_ok() {
	xhp apply
	assertEquals "apply failed: $(_ctx)" 0 "$RC"
}

# foreign_setup: zz-base applied by the tool; mm-middle loaded and applied
# on top of it by another root and run directory on the same hypervisor
# (a payload this root's tool did not load)
foreign_setup() {
	put zz-base
	apply_ok
	R2=$T/other
	mkdir -p "$R2/usr/lib/xen-hotpatch/$XEN_ID"
	install -m 0644 "$FX/zz-base.livepatch" "$FX/mm-middle.livepatch" "$R2/usr/lib/xen-hotpatch/$XEN_ID/"
	XEN_HOTPATCH_RUN_DIR=$T/run2 "$XHP_BIN" --backend "sim:$SIMD" --root "$R2" apply >/dev/null 2>&1 ||
		fail "the other root's apply failed"
	assert_applied "zz-base mm-middle"
}

# ---- golden files (kmod's testsuite style) ----------------------------------

XHP_GOLDEN=$XHP_TOP/tests/cli/golden

# cli_normalize FILE: the output with every fixture build-id as {NAME_ID},
# the test's folders as ROOT, SIM and RUN: what stays is the tool's words
cli_normalize() {
	_sed="s|$R|ROOT|g; s|$SIMD|SIM|g; s|$XEN_HOTPATCH_RUN_DIR|RUN|g"
	_sed="$_sed; $(sed -n 's/^\([A-Z0-9_]*_ID\)=\([0-9a-f][0-9a-f]*\)$/s\/\2\/{\1}\/g;/p' "$FX/ids.env")"
	sed "$_sed" "$1"
}

# assert_golden KIND/NAME: the last command's whole stdout is
# tests/cli/golden/KIND/NAME.out after cli_normalize (a changed word is a
# visible diff), and its stderr NAME.err when that file exists, else empty.
# XHP_GOLDEN_UPDATE=1 writes the files instead: review them with git diff.
assert_golden() {
	for _k in out err; do
		_g=$XHP_GOLDEN/$1.$_k
		cli_normalize "$T/$_k" >"$T/$_k.norm"
		if [ "${XHP_GOLDEN_UPDATE:-}" = 1 ] && { [ "$_k" = out ] || [ -s "$T/$_k.norm" ]; }; then
			mkdir -p "$(dirname "$_g")"
			cp "$T/$_k.norm" "$_g"
		fi
		if [ -f "$_g" ]; then
			diff -u "$_g" "$T/$_k.norm" >"$T/diff" || fail "$LAST: $_k differs from $_g: $(cat "$T/diff")"
		else
			assertEquals "$LAST: stderr (no $_g)" "" "$(cat "$T/$_k.norm")"
		fi
	done
}
