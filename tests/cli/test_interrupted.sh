#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# Actions that ended while nobody watched (issue 10 items 3-5): the next run
# reconciles the record of this boot with what the hypervisor shows. Here
# the record is left as a killed run or a late completion leaves it.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

REC=""

setUp() {
	cli_setup
	REC=$XEN_HOTPATCH_RUN_DIR/loaded.json
}

# record_set NAME JQ-ASSIGNMENT: edit NAME's entry in the record
record_set() {
	if ! jq "(.payloads[] | select(.name == \"$1\")) |= ($2)" "$REC" >"$REC.new"; then
		fail "edit the record"
	fi
	mv "$REC.new" "$REC"
}

# issue 10 item 4: the bottom's apply completed late, so the record has no
# order for it: the order comes from the build-id chain
test_order_of_an_applied_payload_the_record_does_not_order() {
	put zz-base mm-middle aa-top
	apply_ok
	record_set zz-base '.seq = 0'
	xhp status
	assert_rc 0
	assert_out_has "1. zz-base" "2. mm-middle" "3. aa-top" "state: in sync"
	n=$(nactions)
	rm_payload aa-top
	apply_ok
	assertEquals "the top is reverted" "revert:aa-top unload:aa-top" "$(actions_since "$n")"
}

# ... and with no record at all (lost /run): adopted, ordered by the chain
test_order_without_any_record() {
	put zz-base mm-middle aa-top
	apply_ok
	rm -f "$REC"
	xhp status
	assert_rc 0
	assert_out_has "1. zz-base" "2. mm-middle" "3. aa-top"
	xhp revert aa-top
	assert_rc 0
	assert_loaded "zz-base:APPLIED mm-middle:APPLIED"
}

# issue 10 item 5: a revert that finished late leaves the record saying "not
# reverted"; the payload (unsafe to apply again) is unloaded and uploaded
# again instead of being sent APPLY in place (which Xen refuses)
test_revert_that_finished_late_counts_as_reverted() {
	policy "independent = unsafe"
	put zz-base unsafe
	apply_ok
	rm_payload unsafe
	XEN_HOTPATCH_SIM_FAIL=unload:unsafe:EINVAL xhp apply
	assert_rc 1
	assert_loaded "zz-base:APPLIED unsafe:CHECKED"
	record_set unsafe '.reverted = false | .seq = 2'
	put unsafe
	n=$(nactions)
	apply_ok
	assertEquals "actions" "unload:unsafe upload:unsafe apply:unsafe" "$(actions_since "$n")"
	assert_applied "zz-base unsafe"
	n=$(nactions)
	apply_ok
	assertEquals "then nothing" "" "$(actions_since "$n")"
}

# an action in flight when the run was stopped: the record says so; the
# next run reads how it ended (here: the apply went through)
test_apply_in_flight_when_stopped() {
	put zz-base mm-middle
	apply_ok
	record_set mm-middle '.seq = 0 | .pending = 3'
	xhp status
	assert_rc 0
	assertEquals "recorded as applied, nothing in flight" "0" \
		"$(jq '[.payloads[] | select(.pending != 0 or .seq == 0)] | length' "$REC")"
}

# shellcheck disable=SC1091
. shunit2
