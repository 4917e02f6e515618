#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# --depends: a payload stacked on another names that payload's build-id;
# what would undo the lower payload or clash with it at upload is refused.
# shellcheck source=tests/builder/lib.sh
. "$(dirname "$0")/lib.sh"

two_functions() {
	cat <<'EOF'
int first(int x) { return x + 1; }
int second(int x) { return x + 2; }
EOF
}

# lower: a payload "lower" changing first() (and adding a static)
build_lower() {
	two_functions | orig t
	two_functions | sed 's/int first(int x) { return x + 1; }/static int seen;\nint first(int x) { seen++; return x + 10; }/' | patched t
	mini_build t
	OUT=$T/lower.livepatch PNAME=lower engine
	assertEquals "lower built" 0 "$RC"
	LOWER_ID=$("$XHP_BIN" info --query build_id "$T/lower.livepatch")
}

test_stacked_payload_depends_on_the_lower_one() {
	build_lower
	two_functions | sed 's/return x + 2;/return x + 20;/' | patched t
	cc_obj "$T/p" t
	engine --depends "$T/lower.livepatch"
	assert_built
	assertEquals "depends" "$LOWER_ID payload $XEN_ID" "$(info_q depends,stacks_on,xen_depends)"
	assertEquals "funcs" "second" "$(funcs | cut -d' ' -f1)"
}

test_default_stacks_on_the_hypervisor() {
	build_lower
	assertEquals "depends" "$XEN_ID hypervisor" "$(info_q depends,stacks_on "$T/lower.livepatch")"
}

test_same_function_in_both_is_refused() {
	build_lower
	two_functions | sed 's/return x + 1;/return x + 11;/' | patched t
	cc_obj "$T/p" t
	engine --depends "$T/lower.livepatch"
	assert_refused "$T/lower.livepatch: first: replaced by both payloads" "--cumulative"
}

test_same_name_as_the_lower_payload_is_refused() {
	build_lower
	two_functions | sed 's/return x + 2;/return x + 20;/' | patched t
	cc_obj "$T/p" t
	PNAME=lower engine --depends "$T/lower.livepatch"
	assert_refused "$T/lower.livepatch: lower: has the name of the payload being built"
}

test_lower_payload_for_another_hypervisor_is_refused() {
	build_lower
	cp "$T/lower.livepatch" "$T/keep.livepatch"
	two_functions | sed 's/return x + 2;/return x + 3;/' | orig t
	two_functions | sed 's/return x + 2;/return x + 20;/' | patched t
	mini_build t
	engine --depends "$T/keep.livepatch"
	assert_refused "$T/keep.livepatch: built for hypervisor"
}

test_lower_that_is_not_a_payload_is_refused() {
	build_lower
	printf 'junk' >"$T/junk.livepatch"
	engine --depends "$T/junk.livepatch"
	assert_refused "$T/junk.livepatch: not a usable payload"
}

. shunit2
