#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# The simulated hypervisor's control program (xen-hotpatch-sim) and what it
# makes the tool meet: Xen's symbol table (init --xen-syms), work that
# completes on time (XEN_HOTPATCH_SIM_WORK_MS, advance), REPLACE's partial
# outcomes, LIST paging with another toolstack acting in between.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# A small xen-syms for $XEN_ID's hypervisor: a map with xen_extra_version
# (what the fixtures patch) and a static function.
xen_map() {
	printf '0xffff82d040200000 T xen_extra_version\n0xffff82d040200040 t common/x.c#helper\n' >"$T/xen.map"
}

sim_rc() {
	LAST="xen-hotpatch-sim DIR $*"
	"$XHP_SIM_BIN" "$SIMD" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

test_usage_errors_exit_2() {
	sim_rc
	assert_rc 2
	sim_rc frobnicate
	assert_rc 2
	assert_err_has "unknown command"
	sim_rc init
	assert_rc 2
	assert_err_has "init needs --build-id HEX or --xen-syms FILE"
	sim_rc init --build-id xyz
	assert_rc 2
	sim_rc advance -5
	assert_rc 2
	sim_rc show --yaml
	assert_rc 2
}

test_xen_syms_map_refuses_a_function_xen_lacks() {
	xen_map
	sim_rc reboot --xen-syms "$T/xen.map"
	assert_rc 0
	assertEquals "xen_syms in show --json" true "$(sim_q .xen_syms)"
	"$XHP_TOP/tests/fixtures/forge-payload.sh" -o "$T/lacks.livepatch" --xen-id "$XEN_ID" \
		--depends-file "$FX/zz-base.livepatch" --func xhp_not_in_xen:16 >/dev/null || fail "forge"
	put_as "$T/lacks.livepatch" lacks
	put zz-base
	xhp apply
	assert_rc 1
	assert_err_has "lacks" "ENOENT"
	case " $(loaded) " in *" lacks:"*) fail "lacks is loaded: $(loaded)" ;; esac
	assertEquals "lacks refused at upload" "upload:lacks:-2" \
		"$(actions | tr ' ' '\n' | grep '^upload:lacks')"
	# the same Xen rebooted keeps its table; another Xen drops it
	sim_rc reboot
	assertEquals "after a reboot" true "$(sim_q .xen_syms)"
	sim_rc reboot --build-id "$OTHER_XEN_ID"
	assertEquals "another Xen" false "$(sim_q .xen_syms)"
}

test_xen_syms_elf_gives_the_build_id() {
	printf '\t.text\n\t.globl xen_extra_version\nxen_extra_version:\n\tret\n' >"$T/x.s"
	if ! as --64 -o "$T/x.o" "$T/x.s" || ! ld -m elf_x86_64 -e xen_extra_version \
		-Ttext=0xffff82d040200000 --build-id=sha1 -o "$T/xen-syms" "$T/x.o"; then
		fail "as/ld"
	fi
	want=$(readelf -n "$T/xen-syms" | sed -n 's/^ *Build ID: *//p')
	rm -rf "$SIMD"
	sim_rc init --xen-syms "$T/xen-syms"
	assert_rc 0
	assertEquals "build-id from the ELF" "$want" "$(sim_q .build_id)"
	sim_rc init --xen-syms "$T/x.s"
	assert_rc 1
	assert_err_line "neither an ELF xen-syms nor a symbol map"
}

test_work_completes_on_time_after_the_tool_stopped_watching() {
	put zz-base
	policy "deadline_ms = 100"
	XEN_HOTPATCH_SIM_WORK_MS=600000 xhp apply
	assertNotEquals "apply past its deadline: $(_ctx)" 0 "$RC"
	assertEquals "pending" "apply zz-base" "$(sim_q '.pending | "\(.op) \(.name)"')"
	assert_applied ""
	sim_rc advance 1000
	assertEquals "still pending after 1 s" "apply zz-base" "$(sim_q '.pending | "\(.op) \(.name)"')"
	sim_rc advance
	assert_rc 0
	assertEquals "done when its time came" null "$(sim_q .pending)"
	assert_applied "zz-base"
}

test_replace_whose_revert_fails_halfway_leaves_the_lower_part() {
	put zz-base mm-middle aa-top
	apply_ok
	rm_payload zz-base mm-middle aa-top
	put cum-v2
	XEN_HOTPATCH_SIM_FAIL=revert:mm-middle:EPERM:async xhp apply
	assertNotEquals "apply with a failing REPLACE: $(_ctx)" 0 "$RC"
	assertEquals "what Xen leaves" "zz-base mm-middle" \
		"$(sim_q '.applied | join(" ")')"
	assertEquals "the REPLACE's rc" "-22" "$(sim_q '[.actions[] | select(.op == "replace")][0].rc')"
}

# A foreign payload (loaded by another root) makes the tool read the whole
# list by LIST; the names it knows alone it reads by GET.
test_list_paging_with_another_toolstack() {
	foreign_setup
	XEN_HOTPATCH_SIM_LIST_PAGE=1 XEN_HOTPATCH_SIM_LIST_CHURN=2 xhp status
	assert_rc 3 # read whole: out of sync only because of the foreign payload
	assert_out_has "(foreign: not loaded by xen-hotpatch)"
	XEN_HOTPATCH_SIM_LIST_PAGE=1 XEN_HOTPATCH_SIM_LIST_CHURN=1000 xhp status
	assertNotEquals "status while the list keeps changing: $(_ctx)" 0 "$RC"
	assert_err_has "busy"
}

test_bad_environment_is_named() {
	XEN_HOTPATCH_SIM_WORK_MS=soon xhp status
	assert_rc 1
	assert_err_line "XEN_HOTPATCH_SIM_WORK_MS" "soon"
	XEN_HOTPATCH_SIM_LIST_PAGE=0 xhp status
	assert_rc 1
	assert_err_line "XEN_HOTPATCH_SIM_LIST_PAGE"
	XEN_HOTPATCH_SIM_FAIL=preapply:x:EPERM:async xhp status
	assert_rc 1
	assert_err_line "XEN_HOTPATCH_SIM_FAIL" "':once' preapply or prerevert"
}

# names in the simulated hypervisor come from whoever uploaded: show prints
# them escaped (a terminal escape in a name is shown, not obeyed), in the
# applied line, the pending line and the table
test_show_escapes_names() {
	odd_name=$(printf 'ev\033[2Jil\001')
	put zz-base
	apply_ok
	policy "deadline_ms = 20"
	XEN_HOTPATCH_SIM_WORK_MS=60000 xhp revert zz-base
	assert_rc 2
	jq --arg n "$odd_name" '(.payloads[] | select(.name == "zz-base") | .name) = $n |
		.applied = [$n] | .pending.name = $n' "$SIMD/state.json" >"$T/state.json" || fail "edit the state"
	mv "$T/state.json" "$SIMD/state.json"
	sim_rc show
	assert_rc 0
	assert_out_has 'applied   ev\x1b[2Jil\x01' 'pending   revert ev\x1b[2Jil\x01' '  ev\x1b[2Jil\x01  '
	assertFalse "no control byte is printed" "LC_ALL=C grep -q '[[:cntrl:]]' '$T/out'"
}

# shellcheck source=/dev/null
. shunit2
