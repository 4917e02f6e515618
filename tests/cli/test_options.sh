#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# The command line (issue 11 item 6, issue 10 items 15-16): options are
# parsed wherever they stand, then the verb's positional arguments are
# counted; an option a verb does not take is refused naming both; --json is
# refused where there is no JSON, and with --query. Usage errors exit 1,
# except boot's (boot never fails: 0). A refused command line changes
# nothing. Each test starts from an applied chain zz-base <- mm-middle.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

setUp() {
	cli_setup_chain
}

# usage_refused RC STRING ARGS...: `xen-hotpatch --root R ARGS` exits RC
# with one stderr line holding STRING, prints nothing on stdout, and asks
# nothing of the hypervisor
usage_refused() {
	_rc=$1
	_s=$2
	shift 2
	xhp "$@"
	assert_rc "$_rc"
	assert_err_line "xen-hotpatch: " "$_s"
	assertEquals "stdout of: $(_ctx)" "" "$(cat "$T/out")"
	assert_same_state "$BEFORE"
	assertEquals "sim actions of: $LAST" "" "$(actions_since "$N0")"
}

# noroot_refused RC STRING ARGS...: the same without --root (info, version)
noroot_refused() {
	_rc=$1
	_s=$2
	shift 2
	xhp_noroot "$@"
	assert_rc "$_rc"
	assert_err_line "xen-hotpatch: " "$_s"
	assertEquals "stdout of: $(_ctx)" "" "$(cat "$T/out")"
}

# ---- argument counts are positional arguments ---------------------------------

test_info_query_without_a_file() {
	noroot_refused 1 "usage: xen-hotpatch info [--json | --query F[,F...]] FILE..." info --query name
	noroot_refused 1 "usage: xen-hotpatch info" info --query=name,build_id
}

test_info_query_without_a_value() {
	noroot_refused 1 "--query needs a value: usage: xen-hotpatch info" info --query
	noroot_refused 1 "--query needs a value: usage: xen-hotpatch info" info --query= "$FX/zz-base.livepatch"
}

test_boot_with_arguments_is_a_usage_error_and_exits_0() {
	put aa-top
	usage_refused 0 "usage: xen-hotpatch [--backend xen|sim:DIR] [--root DIR] [--config FILE] boot" boot x y
	usage_refused 0 "usage: xen-hotpatch" boot x
}

# --root is global: `boot --root DIR` is that, and `boot --root` lacks a value
test_boot_root_without_a_value_exits_0() {
	usage_refused 0 "--root needs a value: usage: xen-hotpatch" boot --root
}

# an empty value is no value: `--root=` is not "no --root" (that would act
# on the host's own /), for every option that takes a value, both spellings
test_empty_values_are_usage_errors() {
	put aa-top
	usage_refused 0 "--root needs a value: usage: xen-hotpatch" boot --root=
	usage_refused 0 "--root needs a value: usage: xen-hotpatch" boot --root ""
	usage_refused 1 "--root needs a value: usage: xen-hotpatch" apply --root=
	usage_refused 1 "--backend needs a value: usage: xen-hotpatch" apply --backend=
	usage_refused 1 "--config needs a value: usage: xen-hotpatch" apply --config ""
	usage_refused 1 "--format needs a value: usage: xen-hotpatch" status --format=
	noroot_refused 1 "--query needs a value: usage: xen-hotpatch info" info --query "" "$FX/zz-base.livepatch"
	# the empty one refused wherever it stands, after a good one too
	usage_refused 1 "--root needs a value: usage: xen-hotpatch" apply --root "$R" --root=
}

test_counts() {
	usage_refused 1 "usage: xen-hotpatch [--backend xen|sim:DIR] [--root DIR] [--config FILE] revert NAME" revert
	usage_refused 1 "usage: xen-hotpatch" revert zz-base mm-middle
	usage_refused 1 "usage: xen-hotpatch" status now
	usage_refused 1 "usage: xen-hotpatch" apply everything
	usage_refused 1 "name a payload or build-id, or --all: usage: xen-hotpatch" clear
	noroot_refused 1 "usage: xen-hotpatch version" version 2
	noroot_refused 1 "usage: xen-hotpatch info" info
}

# ---- --json only where there is JSON ------------------------------------------

test_json_refused_where_there_is_no_json() {
	usage_refused 1 "revert does not take --json (it prints no JSON): usage: xen-hotpatch" --json revert mm-middle
	usage_refused 1 "revert does not take --json" revert mm-middle --json
	usage_refused 0 "boot does not take --json" boot --json
	usage_refused 1 "clear does not take --json" clear --all --json
	noroot_refused 1 "version does not take --json" version --json
	usage_refused 1 "apply prints JSON only with --dry-run" --json apply
	usage_refused 1 "apply prints JSON only with --dry-run" apply --auto --json
}

test_json_and_query_are_two_formats() {
	noroot_refused 1 "--json and --query are two output formats: choose one" \
		--json info --query name "$FX/zz-base.livepatch"
	noroot_refused 1 "--json and --query" info --query name --json "$FX/zz-base.livepatch"
}

test_json_where_there_is_json() {
	xhp apply --dry-run --json
	assert_rc 0
	assert_json_out '.steps | length' 0
	xhp status --json
	assert_rc 0
	assert_json_out '.applied | length' 2
	xhp_noroot info "$FX/zz-base.livepatch" --json
	assert_rc 0
	assert_json_out '.[0].name' zz-base
}

# ---- options a verb does not take ---------------------------------------------

test_option_foreign_to_the_verb() {
	noroot_refused 1 "info does not take --root: usage: xen-hotpatch info" --root / info "$FX/zz-base.livepatch"
	noroot_refused 1 "info does not take --backend" info --backend xen "$FX/zz-base.livepatch"
	noroot_refused 1 "version does not take --config" version --config /dev/null
	usage_refused 1 "status does not take --dry-run" status --dry-run
	usage_refused 1 "status does not take --query" status --query name
	usage_refused 1 "revert does not take --all" revert --all mm-middle
	usage_refused 1 "revert does not take --auto" revert --auto mm-middle
	usage_refused 0 "boot does not take --dry-run" boot --dry-run
}

test_combinations() {
	usage_refused 1 "--auto and --dry-run: choose one" apply --auto --dry-run
	usage_refused 1 "--all or names: choose one" clear --all mm-middle
}

test_unknown_options() {
	usage_refused 1 "unknown option --frobnicate: usage: xen-hotpatch" status --frobnicate
	usage_refused 1 "unknown option -x: usage: xen-hotpatch" -x status
	usage_refused 0 "unknown option --frobnicate" boot --frobnicate
	noroot_refused 1 "unknown option --frobnicate (xen-hotpatch --help lists the options)" --frobnicate
}

# an option's name is escaped like any untrusted string
test_unknown_option_and_verb_escaped() {
	noroot_refused 1 'unknown option --\x1b[31m' status "$(printf -- '--\033[31m')"
	assert_err_lacks "$(printf '\033')"
	noroot_refused 1 'unknown verb "x\nstate: in sync"' "$(printf 'x\nstate: in sync')"
}

# ---- where options stand ------------------------------------------------------

test_options_before_and_after_the_verb() {
	xhp -q apply
	assert_rc 0
	assertEquals "quiet apply: $(_ctx)" "" "$(cat "$T/out")"
	xhp apply -q
	assert_rc 0
	assertEquals "quiet apply: $(_ctx)" "" "$(cat "$T/out")"
	xhp_noroot info --query=name "$FX/zz-base.livepatch" --query build_id
	assert_rc 0
	assertEquals "the last --query wins: $(_ctx)" "$ZZ_BASE_ID" "$(cat "$T/out")"
}

# getopt stops at the first argument that is not an option when
# POSIXLY_CORRECT is set: the parser must not
test_posixly_correct() {
	POSIXLY_CORRECT=1 xhp status --json
	assert_rc 0
	assert_json_out '.applied | length' 2
}

# after "--" everything is an argument, even what looks like an option
test_double_dash() {
	cp "$FX/zz-base.livepatch" "$T/--json"
	(cd "$T" && xhp_noroot info -- --json)
	assert_rc 0
	assert_out_has "name:           --json"
}

test_help() {
	xhp_noroot --help
	assert_rc 0
	assert_out_has "Usage: xen-hotpatch" "Exit codes:"
	assert_err_empty
	xhp apply --help
	assert_rc 0
	assert_out_has "Usage: xen-hotpatch [--backend xen|sim:DIR] [--root DIR] [--config FILE] apply"
	assert_same_state "$BEFORE"
	xhp_noroot
	assert_rc 1
	assert_err_has "Usage: xen-hotpatch"
}

# shellcheck disable=SC1091
. shunit2
